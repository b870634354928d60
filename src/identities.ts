/**
 * Identities and roles, from a YAML file: SLIPWAY_IDENTITIES, else SLIPWAY_HOME/identities.yaml,
 * else the sample configuration (examples/identities.yaml).
 *
 * Each user is granted roles per project (`projects: {shop: [developer], "*": [support]}`, `*`
 * for every project) and may be an admin (`admin: true`, global). The older form `roles: [...]`
 * is still read: the same roles on every project, `admin` in it meaning `admin: true`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { EVERY_PROJECT, PROJECT_ROLES, rosterFor, type Grants, type ProjectRole } from './domain/access';
import { projectIdSchema } from './domain/schemas';
import { ROLES, type Identity } from './domain/tickets';
import { SlipwayError } from './errors';
import { PACKAGE_ROOT, type Layout } from './home';
import { parsePublicKey, type PublicKey } from './ssh-keys';

const projectRole = z.enum(PROJECT_ROLES, {
  error: (issue) =>
    issue.input === 'admin'
      ? 'admin is global, not per project: set `admin: true` on the user'
      : `must be a role of a project: ${PROJECT_ROLES.join(' or ')}`,
});

const userSchema = z
  .strictObject(
    {
      token_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the API token').optional(),
      admin: z.boolean({ error: 'must be true or false' }).optional(),
      projects: z
        .record(
          z.union([z.literal(EVERY_PROJECT), projectIdSchema], { error: `must be a project id or "${EVERY_PROJECT}" (every project)` }),
          z.array(projectRole, { error: 'must be a list of roles, e.g. [developer]' }).min(1, 'must name at least one role'),
          { error: (issue) => (issue.code === 'invalid_type' ? 'must map project ids (or "*") to lists of roles' : undefined) },
        )
        .optional(),
      /** OpenSSH public key lines: through the SSH gateway they open the integration environments of the projects the user develops. */
      ssh_keys: z.array(z.string({ error: 'must be an OpenSSH public key line ("ssh-ed25519 AAAA… comment")' }), { error: 'must be a list of OpenSSH public key lines' }).optional(),
      /** The older form: these roles on every project. */
      roles: z.array(z.enum(ROLES, { error: `must be ${ROLES.join(', ')}` })).min(1, 'a user needs at least one role').optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key (a user has token_sha256, admin, projects, ssh_keys, or the older roles)` : 'must be a map: token_sha256, admin, projects') },
  )
  .superRefine((u, ctx) => {
    if (u.roles && u.projects) {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: 'give either projects (roles per project) or roles (the older form: every project), not both' });
    }
    if (u.roles?.includes('admin') && u.admin === false) {
      ctx.addIssue({ code: 'custom', path: ['admin'], message: 'is false, but roles names admin' });
    }
    if (!u.admin && !u.projects && !u.roles) {
      ctx.addIssue({ code: 'custom', message: 'grants nothing: set admin: true, or roles under projects' });
    }
  });

export const identitiesSchema = z.object({
  users: z.record(
    z.string().regex(/^[a-z][a-z0-9._-]{0,39}$/, 'user names are lowercase: letters, digits, ".", "_", "-"'),
    userSchema,
    { error: (issue) => (issue.code === 'invalid_type' ? 'must map user names to what they are granted' : undefined) },
  ),
  ticket_expiry_hours: z.number().positive().max(24 * 365).default(72),
  ticket_reminder_hours: z.number().nonnegative().default(4),
});

/** A user's grants, from either form. */
function grantsOf(u: z.infer<typeof userSchema>): Grants {
  if (u.roles) {
    const perProject = u.roles.filter((r): r is ProjectRole => r !== 'admin');
    return { admin: u.admin ?? u.roles.includes('admin'), projects: perProject.length > 0 ? { [EVERY_PROJECT]: perProject } : {} };
  }
  return { admin: u.admin ?? false, projects: u.projects ?? {} };
}

export interface Identities {
  file: string;
  /** User → what they are granted. */
  users: ReadonlyMap<string, Grants>;
  /** SHA-256 of an API bearer token → user. */
  tokens: Map<string, string>;
  /** User → their SSH public keys (`ssh_keys`), parsed; users without keys are absent. */
  sshKeys: ReadonlyMap<string, PublicKey[]>;
  ticketExpiryMs: number;
  ticketReminderMs: number;
}

/** The roster a project's workflows get: every user with the roles they hold on that project. */
export function projectRoster(identities: Identities, project: string): Identity[] {
  return rosterFor(identities.users, project);
}

export function identitiesFile(layout: Layout): string {
  const explicit = process.env.SLIPWAY_IDENTITIES;
  if (explicit) return path.resolve(explicit);
  const own = path.join(layout.home, 'identities.yaml');
  return fs.existsSync(own) ? own : path.join(PACKAGE_ROOT, 'examples', 'identities.yaml');
}

export function loadIdentities(layout: Layout): Identities {
  return loadIdentitiesFile(identitiesFile(layout));
}

export function loadIdentitiesFile(file: string): Identities {
  let raw: unknown;
  try {
    const doc = parseDocument(fs.readFileSync(file, 'utf8'));
    if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message.split('\n')[0]);
    raw = doc.toJS();
  } catch (err) {
    throw new SlipwayError(`cannot read identities from ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseIdentities(raw, file);
}

/** Validates an identities document; every problem names the user and the key. */
export function parseIdentities(raw: unknown, file: string): Identities {
  const parsed = identitiesSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues
      .map((i) => {
        const where = [...i.path, ...(i.code === 'unrecognized_keys' ? [i.keys.join(', ')] : [])].map(String).join('.');
        // A record's key that fails its schema: the key schema's own message says why.
        const message = i.code === 'invalid_key' ? (i.issues[0]?.message ?? i.message) : i.message;
        return `${where || '(top level)'}: ${message}`;
      })
      .join('; ');
    throw new SlipwayError(`invalid identities file ${file}: ${why}`);
  }
  const users = new Map(Object.entries(parsed.data.users).map(([user, u]) => [user, grantsOf(u)] as const));
  const sshKeys = new Map<string, PublicKey[]>();
  for (const [user, u] of Object.entries(parsed.data.users)) {
    if (!u.ssh_keys?.length) continue;
    sshKeys.set(
      user,
      u.ssh_keys.map((line, i) => {
        try {
          return parsePublicKey(line);
        } catch (err) {
          throw new SlipwayError(`invalid identities file ${file}: users.${user}.ssh_keys.${i}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
  }
  return {
    file,
    users,
    tokens: new Map(
      Object.entries(parsed.data.users).flatMap(([user, u]) => (u.token_sha256 ? [[u.token_sha256, user] as const] : [])),
    ),
    sshKeys,
    ticketExpiryMs: parsed.data.ticket_expiry_hours * 3_600_000,
    ticketReminderMs: Math.min(parsed.data.ticket_reminder_hours, parsed.data.ticket_expiry_hours) * 3_600_000,
  };
}
