/** Child processes with argument arrays (never a shell string), timed. */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface RunResult {
  stdout: string;
  stderr: string;
  ms: number;
}

export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ stdout, stderr, ms });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}:\n${stderr.slice(-2000)}${stdout.slice(-1000)}`));
    });
  });
}

export const git = (cwd: string, ...args: string[]): Promise<RunResult> => run('git', args, { cwd });

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
