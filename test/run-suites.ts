/**
 * `npm test`: the main suite and the fault-injection suite (`npm run test:chaos`) at the same
 * time. The chaos suite mostly waits (on heartbeat timeouts, restarts), so running it beside
 * the main suite costs little CPU and saves its whole duration. Its output is printed after
 * the main suite's, in one piece; the exit code is non-zero if either failed.
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
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(`\nmain suite: ${main.code === 0 ? 'passed' : 'FAILED'}; fault-injection suite: ${chaos.code === 0 ? 'passed' : 'FAILED'}; ${minutes} min\n`);
  process.exitCode = main.code || chaos.code;
}

void main();
