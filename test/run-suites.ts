/**
 * `npm test`: three suites. The main suite runs from start to end; beside it, the
 * fault-injection suite (`npm run test:chaos`) and then the production-like suite (`npm run
 * test:cluster`: Temporal's own server on PostgreSQL, Slipway as separate processes). Both
 * mostly wait (on heartbeat timeouts, restarts, processes starting), so running them beside
 * the main suite costs little CPU and saves their whole duration. The Temporal server the
 * production-like suite needs is located, or built with `go install` (minutes on a cold Go
 * build cache), before any suite starts, so that a build never runs beside the main suite's
 * timed steps. Their output is printed after the main suite's, each in one piece. The exit code
 * is non-zero if any suite failed.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { locateTemporalServer } from '../src/temporal/server-build';

const mocha = require.resolve('mocha/bin/mocha.js');
const root = path.resolve(__dirname, '..', '..');

function run(args: string[], live: boolean): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mocha, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer): void => {
      if (live) process.stdout.write(chunk);
      else output += chunk.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  // The production-like suite's server: found, or built now (its progress printed), alone.
  const server = await locateTemporalServer({ progress: (line) => process.stdout.write(`${line}\n`) }).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  const besideMain = async (): Promise<[{ code: number; output: string }, { code: number; output: string }, number]> => {
    const chaos = await run(['--config', '.mocharc.chaos.json'], false);
    const clusterStarted = Date.now();
    const cluster = server === undefined ? await run(['--config', '.mocharc.cluster.json'], false) : { code: 1, output: `the Temporal server for the production-like suite: ${server}\n` };
    return [chaos, cluster, Date.now() - clusterStarted];
  };
  const [main, [chaos, cluster, clusterMs]] = await Promise.all([run([], true), besideMain()]);
  process.stdout.write('\n==== fault-injection suite (npm run test:chaos) ====\n');
  process.stdout.write(chaos.output);
  process.stdout.write('\n==== production-like suite (npm run test:cluster) ====\n');
  process.stdout.write(cluster.output);
  const minutes = (ms: number): string => (ms / 60_000).toFixed(1);
  const verdict = (code: number): string => (code === 0 ? 'passed' : 'FAILED');
  process.stdout.write(
    `\nmain suite: ${verdict(main.code)}; fault-injection suite: ${verdict(chaos.code)}; ` +
      `production-like suite: ${verdict(cluster.code)} (${minutes(clusterMs)} min); ${minutes(Date.now() - started)} min\n`,
  );
  process.exitCode = main.code || chaos.code || cluster.code;
}

void main();
