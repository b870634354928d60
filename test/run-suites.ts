/**
 * `npm test`: the main suite and the fault-injection suite (`npm run test:chaos`) at the same
 * time. The chaos suite mostly waits (on heartbeat timeouts, restarts), so running it beside
 * the main suite costs little CPU and saves its whole duration. Its output is printed after
 * the main suite's, in one piece. Then the production-like suite (`npm run test:cluster`:
 * Temporal's own server on PostgreSQL, Slipway as separate processes) runs alone: its first
 * run builds the Temporal server with `go install` (about 4 minutes on 2 cores), which would
 * slow the main suite's timed steps if it ran beside them. The exit code is non-zero if any
 * suite failed.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

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
  const [main, chaos] = await Promise.all([run([], true), run(['--config', '.mocharc.chaos.json'], false)]);
  process.stdout.write('\n==== fault-injection suite (npm run test:chaos) ====\n');
  process.stdout.write(chaos.output);
  process.stdout.write('\n==== production-like suite (npm run test:cluster) ====\n');
  const clusterStarted = Date.now();
  const cluster = await run(['--config', '.mocharc.cluster.json'], true);
  const minutes = (ms: number): string => (ms / 60_000).toFixed(1);
  const verdict = (code: number): string => (code === 0 ? 'passed' : 'FAILED');
  process.stdout.write(
    `\nmain suite: ${verdict(main.code)}; fault-injection suite: ${verdict(chaos.code)}; ` +
      `production-like suite: ${verdict(cluster.code)} (${minutes(Date.now() - clusterStarted)} min); ${minutes(Date.now() - started)} min\n`,
  );
  process.exitCode = main.code || chaos.code || cluster.code;
}

void main();
