/**
 * Finds the Temporal server (the production server, not the CLI's dev server) and its SQL
 * schema tool, for the production-like suite and benchmark, in this order:
 *   1. the `server` binary named by SLIPWAY_TEMPORAL_SERVER (the schema tool `sql` beside it);
 *   2. the project's tools directory (.tools/temporal-server-<version>/);
 *   3. built now into that directory with `go install` from the Go module proxy (a few minutes
 *      on 2 cores, once; later runs reuse it).
 * The PostgreSQL schema files come from the same Go module (`go mod download`), copied beside
 * the binaries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { SlipwayError } from '../errors';
import { defaultToolsDir, findOnPath, isExecutable } from './locate';

export const TEMPORAL_SERVER_VERSION = '1.25.2';
export const TEMPORAL_SERVER_ENV = 'SLIPWAY_TEMPORAL_SERVER';
const MODULE = 'go.temporal.io/server';

export interface TemporalServerTools {
  /** The `server` binary (`server start --service …`). */
  server: string;
  /** temporal-sql-tool (built as `sql`). */
  sqlTool: string;
  /** `schema/postgresql/v12` of the server's module: `temporal/versioned`, `visibility/versioned`. */
  postgresSchema: string;
  source: string;
}

export interface ServerLocateOptions {
  env?: NodeJS.ProcessEnv;
  toolsDir?: string;
  progress?: (message: string) => void;
  /** Build with `go install` when nothing is found (default true). */
  allowBuild?: boolean;
}

export class TemporalServerNotFoundError extends SlipwayError {
  constructor(why: string) {
    super(
      `Cannot find or build the Temporal server ${TEMPORAL_SERVER_VERSION}: ${why}. ` +
        `Fix one of these: set ${TEMPORAL_SERVER_ENV} to a \`server\` binary (with \`sql\`, temporal-sql-tool, beside it); ` +
        `or install Go (https://go.dev/dl/, or apt-get install golang-go) so that Slipway builds it with \`go install ${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}\`.`,
    );
    this.name = 'TemporalServerNotFoundError';
  }
}


export const serverToolsDir = (toolsDir = defaultToolsDir()): string => path.join(toolsDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`);

/** `go` on PATH, or where Debian's golang-go and the official tarball put it. */
function findGo(env: NodeJS.ProcessEnv): string | undefined {
  return findOnPath('go', env.PATH) ?? findOnPath('go', '/usr/local/go/bin:/usr/lib/go/bin');
}

function schemaFromModule(go: string, dest: string, env: NodeJS.ProcessEnv): void {
  const r = spawnSync(go, ['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`], { encoding: 'utf8', env, timeout: 600_000 });
  let dir: string | undefined;
  try {
    dir = (JSON.parse(r.stdout) as { Dir?: string }).Dir;
  } catch {
    /* reported below */
  }
  const source = dir ? path.join(dir, 'schema', 'postgresql', 'v12') : undefined;
  if (!source || !fs.existsSync(path.join(source, 'temporal', 'versioned'))) {
    throw new TemporalServerNotFoundError(`\`go mod download ${MODULE}@v${TEMPORAL_SERVER_VERSION}\` gave no PostgreSQL schema: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-2).join(' ')}`);
  }
  const tmp = `${dest}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.cpSync(source, tmp, { recursive: true });
  // The module cache is read-only: make the copy removable.
  spawnSync('chmod', ['-R', 'u+w', tmp]);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  try {
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dest)) throw err;
  }
}

function goInstall(go: string, pkg: string, gobin: string, env: NodeJS.ProcessEnv, progress: (m: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(go, ['install', `${MODULE}/${pkg}@v${TEMPORAL_SERVER_VERSION}`], {
      env: { ...env, GOBIN: gobin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const take = (c: Buffer): void => {
      tail = (tail + c.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    // The pusher of a first run waits minutes: say it is still going.
    const timer = setInterval(() => progress(`  … still building ${pkg} (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
    child.once('error', (err) => {
      clearInterval(timer);
      reject(new TemporalServerNotFoundError(`go install ${pkg}: ${err.message}`));
    });
    child.once('exit', (code) => {
      clearInterval(timer);
      if (code === 0) {
        progress(`  built ${pkg} in ${Math.round((Date.now() - started) / 1000)} s`);
        resolve();
      } else reject(new TemporalServerNotFoundError(`go install ${pkg} exited with ${code}: ${tail.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** The server, its schema tool and its schema; built on first use (see the top of this file). */
export async function locateTemporalServer(options: ServerLocateOptions = {}): Promise<TemporalServerTools> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((): void => {});
  const explicit = env[TEMPORAL_SERVER_ENV];
  let dir: string;
  let server: string;
  let source: string;
  if (explicit) {
    if (!isExecutable(explicit)) throw new TemporalServerNotFoundError(`$${TEMPORAL_SERVER_ENV}=${explicit}: not an executable file`);
    server = explicit;
    dir = path.dirname(explicit);
    source = `$${TEMPORAL_SERVER_ENV}`;
  } else {
    dir = serverToolsDir(options.toolsDir);
    server = path.join(dir, 'server');
    source = 'tools directory';
  }
  const sqlTool = [path.join(dir, 'sql'), path.join(dir, 'temporal-sql-tool')].find(isExecutable);
  const schema = path.join(dir, 'schema', 'postgresql', 'v12');
  if (isExecutable(server) && sqlTool && fs.existsSync(schema)) return { server, sqlTool, postgresSchema: schema, source };
  if (explicit && isExecutable(server) && !sqlTool) throw new TemporalServerNotFoundError(`no \`sql\` (temporal-sql-tool) beside ${server}`);

  const go = findGo(env);
  if (!go) {
    throw new TemporalServerNotFoundError(
      options.allowBuild === false ? `${server}: not built` : `${server} is not built and \`go\` is not on PATH to build it`,
    );
  }
  if (!isExecutable(server) || !sqlTool) {
    if (options.allowBuild === false) throw new TemporalServerNotFoundError(`${server}: not built`);
    progress(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} with go install into ${dir} (first run only; about 4 minutes on 2 cores)…`);
    fs.mkdirSync(dir, { recursive: true });
    await goInstall(go, 'cmd/server', dir, env, progress);
    await goInstall(go, 'cmd/tools/sql', dir, env, progress);
    source = 'tools directory (built now with go install)';
  }
  if (!fs.existsSync(schema)) schemaFromModule(go, schema, env);
  const tool = [path.join(dir, 'sql'), path.join(dir, 'temporal-sql-tool')].find(isExecutable);
  if (!isExecutable(server) || !tool) throw new TemporalServerNotFoundError(`go install finished but ${server} or ${path.join(dir, 'sql')} is missing`);
  return { server, sqlTool: tool, postgresSchema: schema, source };
}
