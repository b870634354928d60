/**
 * The slug store's records, and its pruning. Beside the slugs (`<slugs>/<id>/` and `<id>.json`)
 * and their by-tree index, the store keeps:
 *
 * - `uses/<project>/<environment>/<slug>.json`: the newest deployment of an environment that
 *   built, reused or deployed a slug. Written by the engine before it relies on the slug.
 * - `refs/<project>/<environment>/<release>.json`: the slug each release was staged from.
 *   Written by the host that stages the release (before it copies the slug), removed with the
 *   release. The store is shared with every host, so the engine sees all hosts' references.
 *
 * Pruning (after a new slug is stored: the only time the store grows) removes the slugs that no
 * release references and that are not among the newest N of any environment
 * (src/domain/slug-pruning.ts), with their manifests, index entries and use records.
 *
 * Concurrency: whoever relies on a slug writes its record first and looks for the slug after;
 * the pruner moves a slug aside first and reads the records again after, putting back any slug
 * that became used meanwhile. One of the two always sees the other.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeploymentKey } from '../domain/deployment';
import { releaseInfoFile, releaseInfoSchema } from '../domain/release-info';
import { slugsToPrune, type SlugUse } from '../domain/slug-pruning';
import type { Layout } from '../home';

/** A slug's id, as slugKey makes it. */
const SLUG_ID = /^[0-9a-f]{32}$/;
/** What a store or a prune interrupted by a crash leaves, removed once it is this old. */
const LEFTOVER_AGE_MS = 24 * 3600_000;

const usesDir = (layout: Layout, project: string, environment: string): string => path.join(layout.slugs(), 'uses', project, environment);
const refsDir = (layout: Layout, project: string, environment: string): string => path.join(layout.slugs(), 'refs', project, environment);

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeAtomically(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/** Records that a deployment of an environment uses a slug (before the slug is relied on). */
export function recordSlugUse(layout: Layout, key: DeploymentKey, slug: string): void {
  const file = path.join(usesDir(layout, key.project, key.environment), `${slug}.json`);
  const before = readJson(file) as { deployment?: unknown } | undefined;
  const deployment = typeof before?.deployment === 'number' ? Math.max(before.deployment, key.number) : key.number;
  writeAtomically(file, JSON.stringify({ slug, deployment, at: new Date().toISOString() }));
}

/** Records that a release is staged from a slug (before the slug is copied). */
export function recordReleaseRef(layout: Layout, key: DeploymentKey, release: string, slug: string): void {
  writeAtomically(path.join(refsDir(layout, key.project, key.environment), `${release}.json`), JSON.stringify({ slug, at: new Date().toISOString() }));
}

/** The slug of each release of an environment in this data directory (releases with their info file only). */
function releasesOf(layout: Layout, project: string, environment: string): Map<string, string> {
  const dir = layout.releases(project, environment);
  const out = new Map<string, string>();
  for (const f of list(dir)) {
    const m = /^(d\d{6})\.json$/.exec(f);
    if (!m) continue;
    const info = releaseInfoSchema.safeParse(readJson(releaseInfoFile(dir, m[1]!)));
    if (info.success) out.set(m[1]!, info.data.slug);
  }
  return out;
}

/**
 * Makes an environment's release references in the store match its releases on this host:
 * those of removed releases go, and releases staged before the store kept references get one.
 * Run by the host that serves the environment, one deployment at a time.
 */
export function syncReleaseRefs(layout: Layout, project: string, environment: string): void {
  const releases = releasesOf(layout, project, environment);
  const dir = refsDir(layout, project, environment);
  for (const f of list(dir)) {
    const m = /^(d\d{6})\.json$/.exec(f);
    if (m && !releases.has(m[1]!)) fs.rmSync(path.join(dir, f), { force: true });
  }
  for (const [release, slug] of releases) {
    const file = path.join(dir, `${release}.json`);
    if ((readJson(file) as { slug?: unknown } | undefined)?.slug !== slug) recordReleaseRef(layout, { project, environment, number: 0 }, release, slug);
  }
}

/** An environment deleted: its records go, so that its slugs can be pruned. */
export function forgetEnvironment(layout: Layout, project: string, environment: string): void {
  fs.rmSync(usesDir(layout, project, environment), { recursive: true, force: true });
  fs.rmSync(refsDir(layout, project, environment), { recursive: true, force: true });
}

/** Every `<kind>/<project>/<environment>/<name>.json` record of the store, with its parsed content. */
function records(layout: Layout, kind: 'uses' | 'refs'): Array<{ project: string; environment: string; name: string; file: string; data: unknown }> {
  const root = path.join(layout.slugs(), kind);
  const out: Array<{ project: string; environment: string; name: string; file: string; data: unknown }> = [];
  for (const project of list(root)) {
    for (const environment of list(path.join(root, project))) {
      const dir = path.join(root, project, environment);
      for (const f of list(dir)) {
        if (!f.endsWith('.json')) continue;
        const file = path.join(dir, f);
        out.push({ project, environment, name: f.slice(0, -'.json'.length), file, data: readJson(file) });
      }
    }
  }
  return out;
}

function slugOf(data: unknown): string | undefined {
  const s = (data as { slug?: unknown } | undefined)?.slug;
  return typeof s === 'string' ? s : undefined;
}

/** Slugs the store's references name, and those of the releases in this data directory (staged before references were kept). */
function referencedSlugs(layout: Layout): Set<string> {
  const out = new Set<string>();
  for (const r of records(layout, 'refs')) {
    const s = slugOf(r.data);
    if (s) out.add(s);
  }
  const envs = path.join(layout.home, 'envs');
  for (const project of list(envs)) for (const environment of list(path.join(envs, project))) for (const s of releasesOf(layout, project, environment).values()) out.add(s);
  return out;
}

function slugUses(layout: Layout): Array<SlugUse & { file: string; mtimeMs: number }> {
  const out: Array<SlugUse & { file: string; mtimeMs: number }> = [];
  for (const r of records(layout, 'uses')) {
    const deployment = (r.data as { deployment?: unknown } | undefined)?.deployment;
    if (!SLUG_ID.test(r.name) || typeof deployment !== 'number') continue;
    const mtimeMs = fs.statSync(r.file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    out.push({ project: r.project, environment: r.environment, slug: r.name, deployment, file: r.file, mtimeMs });
  }
  return out;
}

export interface PruneReport {
  pruned: string[];
  kept: number;
  /** Index entries, use records and leftovers removed with them. */
  cleaned: number;
}

/** Removes the slugs no release references, past the newest `keep` of each environment. */
export async function pruneSlugStore(layout: Layout, keep: number): Promise<PruneReport> {
  const root = layout.slugs();
  const started = Date.now();
  let cleaned = 0;
  // The slugs first, their records after: a slug stored meanwhile was recorded as used before it appeared.
  const entries = list(root);
  const stored = entries.filter((e) => SLUG_ID.test(e) && fs.statSync(path.join(root, e), { throwIfNoEntry: false })?.isDirectory());
  for (const e of entries) {
    // A store or a prune that a crash interrupted: `<id>.tmp-<n>`, `<id>.json.tmp-<pid>`, `<id>.pruning-<pid>`.
    if (!/^[0-9a-f]{32}(\.json)?\.(tmp|pruning)-\d+$/.test(e)) continue;
    const at = path.join(root, e);
    if (started - (fs.lstatSync(at, { throwIfNoEntry: false })?.mtimeMs ?? started) < LEFTOVER_AGE_MS) continue;
    await fs.promises.rm(at, { recursive: true, force: true });
    cleaned++;
  }
  const decision = slugsToPrune({ stored, referenced: referencedSlugs(layout), uses: slugUses(layout), keepPerEnvironment: keep });

  // Moved aside, then the records read again: a slug that became used meanwhile is put back.
  const aside = new Map<string, string>();
  for (const slug of decision.prune) {
    const trash = path.join(root, `${slug}.pruning-${process.pid}`);
    try {
      fs.renameSync(path.join(root, slug), trash);
      aside.set(slug, trash);
    } catch {
      /* gone already */
    }
  }
  const referencedNow = referencedSlugs(layout);
  const usedNow = new Set(slugUses(layout).filter((u) => u.mtimeMs >= started).map((u) => u.slug));
  const pruned: string[] = [];
  for (const [slug, trash] of aside) {
    if (referencedNow.has(slug) || usedNow.has(slug)) {
      try {
        fs.renameSync(trash, path.join(root, slug));
      } catch {
        await fs.promises.rm(trash, { recursive: true, force: true }); // stored again meanwhile
      }
      continue;
    }
    // Asynchronous: a large slug must not stall the worker's heartbeats.
    await fs.promises.rm(trash, { recursive: true, force: true });
    fs.rmSync(path.join(root, `${slug}.json`), { force: true });
    pruned.push(slug);
  }

  // Their use records, and index entries that name a slug no longer stored.
  const gone = new Set(pruned);
  for (const u of slugUses(layout)) {
    if (!gone.has(u.slug)) continue;
    fs.rmSync(u.file, { force: true });
    cleaned++;
  }
  const byTree = path.join(root, 'by-tree');
  for (const project of list(byTree)) {
    for (const f of list(path.join(byTree, project))) {
      const file = path.join(byTree, project, f);
      const slug = slugOf(readJson(file));
      if (slug !== undefined && !gone.has(slug) && fs.existsSync(path.join(root, slug))) continue;
      if (slug === undefined && !f.endsWith('.json')) continue; // a temporary file being written
      fs.rmSync(file, { force: true });
      cleaned++;
    }
  }
  return { pruned, kept: stored.length - pruned.length, cleaned };
}
