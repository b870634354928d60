/**
 * Whether the edge (src/router/edge.ts) may pass an environment's requests straight to the
 * release's nginx, or must hand them to the router, which checks each path before passing it on.
 * Decided once per release when its web configuration is prepared, from what the release holds:
 * the edge goes straight to nginx only where nginx alone answers exactly as the router would.
 *
 * The router is needed for:
 * - static content made on request (SCD_ON_DEMAND): the router makes it;
 * - a redirect route on the environment's own host: the router answers redirects;
 * - Magento's versioned static URLs where the generated configuration does not take them;
 * - a committed link in what is served that leads out of the release and its mounts, to a
 *   hidden file, to PHP source under another name, or nowhere on the host (it may name a file
 *   of the sandbox): the router answers such paths 404, path by path.
 *
 * Links that the application makes in its mounts while it runs are followed by nginx in the
 * application's sandbox, which holds only the tenant's files, read-only system files its own
 * PHP can read, and nginx's configuration (no secret): see docs/security.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { releaseInfoFile, releaseInfoSchema, type ReleaseInfo } from '../domain/release-info';
import { locationsForWebRoot } from '../domain/project-files/web-locations';
import { webServerTakesVersionedStatic } from '../domain/runtime/nginx-config';
import { isInside } from '../tree-links';
import type { EnvironmentRef } from './services/environment';

/** Past this many entries in what is served, the links are not checked here: the router checks per request. */
const MAX_ENTRIES = 200_000;

const hidden = (rel: string): boolean => rel.split(path.sep).some((s) => s.startsWith('.'));
const script = (file: string): boolean => /\.php$/i.test(file);

function realpath(p: string): string | undefined {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return undefined;
  }
}

export function readReleaseInfoOf(ref: EnvironmentRef, release: string): ReleaseInfo | undefined {
  try {
    return releaseInfoSchema.parse(JSON.parse(fs.readFileSync(releaseInfoFile(ref.layout.releases(ref.project, ref.environment), release), 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * The first committed link in what the release serves that the router would refuse, as
 * "<path>: <why>", or undefined. Walks the locations' roots, and the directories their links
 * lead to inside the release; never a mount's content (the application's data).
 */
export function refusedLinkIn(ref: EnvironmentRef, releaseDir: string, info: ReleaseInfo): string | undefined {
  const release = realpath(releaseDir);
  if (release === undefined) return `${releaseDir}: missing`;
  const environment = realpath(ref.layout.environment(ref.project, ref.environment));
  const mounts: string[] = [];
  for (const source of Object.values(info.mounts ?? {})) {
    const real = realpath(ref.layout.mount(ref.project, ref.environment, source));
    if (real && environment && real === path.join(environment, 'mounts', source)) mounts.push(real);
  }
  const roots = [release, ...mounts];
  const servable = (real: string): boolean => roots.some((root) => isInside(root, real) && !hidden(path.relative(root, real)));
  const locations = info.locations ?? locationsForWebRoot(info.webRoot);
  const queue = [...new Set(locations.map((l) => path.join(release, l.root)))];
  const walked = new Set<string>(mounts);
  let entries = 0;
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const real = realpath(dir);
    if (real === undefined || walked.has(real) || !isInside(release, real)) continue;
    walked.add(real);
    let children: fs.Dirent[];
    try {
      children = fs.readdirSync(real, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const child of children) {
      if (++entries > MAX_ENTRIES) return `more than ${MAX_ENTRIES} files served: their links are checked per request`;
      const full = path.join(real, child.name);
      if (child.isDirectory()) queue.push(full);
      if (!child.isSymbolicLink()) continue;
      const rel = path.relative(release, full);
      const target = realpath(full);
      if (target === undefined) return `${rel}: a link that leads nowhere on the host`;
      if (!servable(target)) return `${rel}: a link out of the release and its mounts, or to a hidden file`;
      const st = fs.statSync(target, { throwIfNoEntry: false });
      if (st?.isFile() && script(target) && !script(full)) return `${rel}: a link to PHP source under another name`;
      if (st?.isDirectory()) queue.push(target);
    }
  }
  return undefined;
}

/**
 * Why the router must serve the release's requests, or undefined when the edge may pass them
 * straight to nginx.
 */
export function whyTheRouterServes(ref: EnvironmentRef, release: string, releaseDir: string): string | undefined {
  const info = readReleaseInfoOf(ref, release);
  if (!info) return 'the release has no release information';
  if (info.staticContent?.onDemand) return 'static content is made on request';
  const host = `${ref.environment}.${ref.project}.localhost`;
  const redirect = info.routes.find((r) => r.type === 'redirect' && r.host === host);
  if (redirect) return `the route ${redirect.url} redirects`;
  if (!webServerTakesVersionedStatic(info.locations ?? locationsForWebRoot(info.webRoot))) {
    return "the location of /static/ has no rule for Magento's versioned static URLs";
  }
  return refusedLinkIn(ref, releaseDir, info);
}
