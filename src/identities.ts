/**
 * Identities and roles, from a YAML file: SLIPWAY_IDENTITIES, else SLIPWAY_HOME/identities.yaml,
 * else the sample configuration (examples/identities.yaml).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ROLES, type Identity } from './domain/tickets';
import { SlipwayError } from './errors';
import { PACKAGE_ROOT, type Layout } from './home';

const identitiesSchema = z.object({
  users: z.record(
    z.string().regex(/^[a-z][a-z0-9._-]{0,39}$/, 'user names are lowercase: letters, digits, ".", "_", "-"'),
    z.object({
      roles: z.array(z.enum(ROLES)).min(1, 'a user needs at least one role'),
      token_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the API token').optional(),
    }),
  ),
  ticket_expiry_hours: z.number().positive().max(24 * 365).default(72),
  ticket_reminder_hours: z.number().nonnegative().default(4),
});

export interface Identities {
  file: string;
  roster: Identity[];
  /** SHA-256 of an API bearer token → user. */
  tokens: Map<string, string>;
  ticketExpiryMs: number;
  ticketReminderMs: number;
}

export function identitiesFile(layout: Layout): string {
  const explicit = process.env.SLIPWAY_IDENTITIES;
  if (explicit) return path.resolve(explicit);
  const own = path.join(layout.home, 'identities.yaml');
  return fs.existsSync(own) ? own : path.join(PACKAGE_ROOT, 'examples', 'identities.yaml');
}

export function loadIdentities(layout: Layout): Identities {
  const file = identitiesFile(layout);
  let raw: unknown;
  try {
    const doc = parseDocument(fs.readFileSync(file, 'utf8'));
    if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message.split('\n')[0]);
    raw = doc.toJS();
  } catch (err) {
    throw new SlipwayError(`cannot read identities from ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = identitiesSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new SlipwayError(`invalid identities file ${file}: ${why}`);
  }
  return {
    file,
    roster: Object.entries(parsed.data.users).map(([user, u]) => ({ user, roles: u.roles })),
    tokens: new Map(
      Object.entries(parsed.data.users).flatMap(([user, u]) => (u.token_sha256 ? [[u.token_sha256, user] as const] : [])),
    ),
    ticketExpiryMs: parsed.data.ticket_expiry_hours * 3_600_000,
    ticketReminderMs: Math.min(parsed.data.ticket_reminder_hours, parsed.data.ticket_expiry_hours) * 3_600_000,
  };
}
