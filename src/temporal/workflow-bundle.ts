/**
 * The workflow code as the worker loads it. `npm run build` bundles it once into
 * `dist/workflow-bundle.js` (`node dist/src/temporal/workflow-bundle.js`), keyed by a hash of
 * the compiled sources; a worker whose sources match loads that file instead of running the
 * bundler itself, so it starts faster and without the bundler's memory (a few hundred MB of
 * peak RSS). When the key does not match (sources changed since), the worker bundles in-process
 * as before: a stale bundle is never loaded.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';

const SOURCES = path.resolve(__dirname, '..');
const WORKFLOWS = path.join(SOURCES, 'workflows');
export const PREBUILT_BUNDLE = path.resolve(SOURCES, '..', '..', 'dist', 'workflow-bundle.js');
const PREBUILT_KEY = `${PREBUILT_BUNDLE}.key`;

const quiet = { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: console.error, log: () => {} };

/** A hash of every compiled source file the bundle could include, and of the SDK's version. */
export function bundleKey(): string {
  const hash = crypto.createHash('sha256');
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) files.push(full);
    }
  };
  walk(SOURCES);
  for (const f of files.sort()) hash.update(path.relative(SOURCES, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  hash.update((JSON.parse(fs.readFileSync(require.resolve('@temporalio/workflow/package.json'), 'utf8')) as { version: string }).version);
  return hash.digest('hex');
}

let cached: Promise<WorkflowBundleOption> | undefined;

/** The workflow code, once per process: the prebuilt bundle when it matches, else bundled here. */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  cached ??= (async () => {
    try {
      if (fs.readFileSync(PREBUILT_KEY, 'utf8').trim() === bundleKey()) return { codePath: PREBUILT_BUNDLE };
    } catch {
      /* no prebuilt bundle */
    }
    return bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS), logger: quiet });
  })();
  return cached;
}

/** `node dist/src/temporal/workflow-bundle.js`: writes the prebuilt bundle and its key. */
async function prebuild(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS), logger: quiet });
  fs.writeFileSync(`${PREBUILT_BUNDLE}.tmp`, code);
  fs.renameSync(`${PREBUILT_BUNDLE}.tmp`, PREBUILT_BUNDLE);
  fs.writeFileSync(PREBUILT_KEY, `${bundleKey()}\n`);
  console.log(`workflow bundle: ${path.relative(process.cwd(), PREBUILT_BUNDLE)} (${Math.round(code.length / 1024)} KiB)`);
}

if (require.main === module) {
  prebuild().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
