/**
 * Git smart HTTP behind the API (src/api/git-http.ts): which URLs it serves, and what each
 * needs of the caller. Pure rules.
 */
import { projectIdSchema } from './schemas';
import type { Need } from './access';

/** Where the remotes are served under the API. */
export const GIT_HTTP_PREFIX = '/git';

/** A project's remote over HTTP, given the API's base URL. */
export function gitHttpRemote(apiUrl: string, project: string): string {
  return `${apiUrl.replace(/\/+$/, '')}${GIT_HTTP_PREFIX}/${project}.git`;
}

export type GitService = 'git-upload-pack' | 'git-receive-pack';

export interface GitHttpRequest {
  project: string;
  /** What follows `<project>.git` (the CGI's PATH_INFO is `/<project>.git/<rest>`). */
  rest: 'info/refs' | GitService;
  service: GitService;
  /** Fetching needs read access to the project; pushing, a developer's (or an admin). */
  need: Extract<Need, 'read' | 'developer'>;
}

/**
 * Parses the raw (undecoded) request path and query of a Git smart HTTP request. Only the
 * smart protocol's three endpoints of a remote named by a valid project id: anything else
 * (dumb-protocol files, `..`, percent-encoded characters, another path) is undefined (404).
 */
export function parseGitHttpPath(method: string, rawUrl: string): GitHttpRequest | undefined {
  const q = rawUrl.indexOf('?');
  const pathPart = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
  const m = /^\/git\/([a-z0-9-]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(pathPart);
  if (!m) return undefined;
  const project = m[1]!;
  if (!projectIdSchema.safeParse(project).success) return undefined;
  const rest = m[2] as GitHttpRequest['rest'];
  let service: GitService;
  if (rest === 'info/refs') {
    if (method !== 'GET') return undefined;
    const s = query.get('service');
    if (s !== 'git-upload-pack' && s !== 'git-receive-pack') return undefined;
    service = s;
  } else {
    if (method !== 'POST') return undefined;
    service = rest;
  }
  return { project, rest, service, need: service === 'git-receive-pack' ? 'developer' : 'read' };
}
