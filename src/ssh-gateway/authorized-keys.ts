/**
 * sshd's AuthorizedKeysCommand (`slipway ssh-authorized-keys <user> <fingerprint>`), asked at
 * every login: which keys open the environment the login user names, read live from the key
 * registry, so a key gone from it opens nothing from the next login on.
 *
 * - integration and its children: the `ssh_keys` of every user who is a developer of the
 *   project, or an admin (identities.yaml, read at each call);
 * - staging and production: the keys approved by a ticket (the project workflow's record, asked
 *   through the Temporal client), each as its requester's;
 * - anything else (master, an unknown or ambiguous user, root): nothing.
 */
import { rolesOn } from '../domain/access';
import { environmentTypeOf } from '../domain/names';
import type { SshKeyRecord } from '../domain/project';
import type { Layout } from '../home';
import type { Identities } from '../identities';
import { parsePublicKey } from '../ssh-keys';
import { authorizedKeyLine, PERSON, type AllowedKey } from './config';
import { environmentUsers, gatewayWrapper } from './paths';

export interface KeyRegistry {
  identities: () => Identities;
  /** The keys approved for a staging or production environment (`client.sshKeys`). */
  approvedKeys: (project: string, environment: string) => Promise<SshKeyRecord[]>;
}

/** The keys allowed on one environment now, each with its person. */
export async function allowedKeys(registry: KeyRegistry, project: string, environment: string): Promise<AllowedKey[]> {
  const type = environmentTypeOf(environment);
  if (type === 'integration' || type === 'integration-child') {
    const identities = registry.identities();
    const allowed: AllowedKey[] = [];
    for (const [person, keys] of identities.sshKeys) {
      const grants = identities.users.get(person);
      const roles = grants ? rolesOn(grants, project) : [];
      if (!roles.includes('developer') && !roles.includes('admin')) continue;
      for (const key of keys) allowed.push({ key, person });
    }
    return allowed;
  }
  if (type === 'staging' || type === 'production') {
    const allowed: AllowedKey[] = [];
    for (const record of await registry.approvedKeys(project, environment)) {
      if (!PERSON.test(record.requester)) continue;
      try {
        allowed.push({ key: parsePublicKey(record.key), person: record.requester });
      } catch {
        /* a record that is no key (it was checked before its ticket opened): skipped */
      }
    }
    return allowed;
  }
  return [];
}

/**
 * The authorized_keys lines for a login: for the environment `user` names (in this data
 * directory), the allowed keys whose fingerprint is `fingerprint` (all of them without one),
 * each with its forced command. `why` says why there is none, for sshd's log.
 */
export async function authorizedKeysFor(
  layout: Layout,
  registry: KeyRegistry,
  user: string,
  fingerprint?: string,
): Promise<{ lines: string[]; why?: string }> {
  const target = environmentUsers(layout).get(user);
  if (!target) return { lines: [], why: `${JSON.stringify(user.slice(0, 80))} names no environment of this data directory` };
  const allowed = (await allowedKeys(registry, target.project, target.environment)).filter((a) => !fingerprint || a.key.fingerprint === fingerprint);
  const wrapper = gatewayWrapper(layout);
  const lines = allowed.map((a) => authorizedKeyLine(wrapper, target.project, target.environment, a));
  return lines.length > 0 ? { lines } : { lines, why: `no allowed key${fingerprint ? ` ${fingerprint}` : ''} on ${target.project}/${target.environment}` };
}
