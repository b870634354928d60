/**
 * Who may do what on which project: roles per project, `*` for every project, admin global.
 * Pure rules, shared by the API (which checks every route that names a project) and the client
 * (which hands each project's workflows the roster as that project sees it).
 */
import type { Identity, Role } from './tickets';

/** The roles a user can hold on a project; admin is global, never per project. */
export const PROJECT_ROLES = ['developer', 'support'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** `*` in a user's projects: every project, present and future. */
export const EVERY_PROJECT = '*';

/** What a user is granted. */
export interface Grants {
  /** Global: everything a developer may do, on every project, plus creating projects. */
  admin: boolean;
  /** Project id (or `*`) → the roles held there. */
  projects: Record<string, ProjectRole[]>;
}

/** The roles a user holds on one project: admin (global), then what `*` and the project grant. */
export function rolesOn(grants: Grants, project: string): Role[] {
  const roles: Role[] = grants.admin ? ['admin'] : [];
  for (const role of [...(grants.projects[EVERY_PROJECT] ?? []), ...(grants.projects[project] ?? [])]) {
    if (!roles.includes(role)) roles.push(role);
  }
  return roles;
}

/** Whether the user may see a project at all: any role on it. */
export const maySee = (grants: Grants, project: string): boolean => rolesOn(grants, project).length > 0;

/**
 * The roster a project's workflows get (tickets, promotions, SSH-key requests): every user with
 * the roles they hold on that project, possibly none. Same shape as before roles were per
 * project, so the workflows' rules and their stored histories are unchanged.
 */
export function rosterFor(users: ReadonlyMap<string, Grants>, project: string): Identity[] {
  return [...users].map(([user, grants]) => ({ user, roles: rolesOn(grants, project) }));
}

/** What a route needs of the caller, on the project it names. */
export type Need = 'admin' | 'developer' | 'support' | 'read';

/** The roles that satisfy a need, in the words of a refusal. */
export const ROLES_FOR: Record<Need, Role[]> = {
  admin: ['admin'],
  developer: ['developer', 'admin'],
  support: ['support'],
  read: ['developer', 'support', 'admin'],
};

/**
 * What the actions that both the API and the web interface offer need, in one place: the API's
 * routes and the interface's forms (and whether it shows their buttons) read them here.
 */
export const ACTION_NEEDS = {
  /** Asking for a promotion (it opens a ticket): a developer's request. */
  promote: 'developer',
  /** Approving or rejecting a ticket. */
  decide: 'support',
} as const satisfies Record<string, Need>;

/** Why the user may not do this on the project (a 403's message), or nothing when they may. */
export function accessRefusal(user: string, grants: Grants, need: Need, project?: string): string | undefined {
  const wanted = ROLES_FOR[need];
  const held: Role[] = project === undefined ? (grants.admin ? ['admin'] : []) : rolesOn(grants, project);
  if (wanted.some((r) => held.includes(r))) return undefined;
  return `${user} needs the role ${orList(wanted)}${project === undefined ? '' : ` on project ${project}`} for this`;
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}
