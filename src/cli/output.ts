/** Progress lines: redrawn in place on a terminal, one plain line per change otherwise. */
import type { DeploymentProgress } from '../workflows/deployment';

export interface ProgressPrinter {
  /** Shows a progress line (phase, step); the elapsed time is added here. */
  show(line: string): void;
  /** Shows a running deployment's phase and current step. */
  deployment(p: DeploymentProgress & { deployment: number }): void;
  /** Clears the line on a terminal, before the final message. */
  done(): void;
}

export function deploymentLine(p: DeploymentProgress & { deployment: number }): string {
  const running = p.steps.find((s) => s.status === 'running');
  return `deployment #${p.deployment} ${p.phase}${running ? `: ${running.step}${running.host ? ` on ${running.host}` : ''}` : ''}`;
}

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  const started = Date.now();
  let last = '';
  const tty = stream.isTTY;
  const show = (line: string): void => {
    if (line === last && !tty) return;
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    if (tty) stream.write(`\r\x1b[2K${line} (${elapsed} s)`);
    else stream.write(`${line} (${elapsed} s)\n`);
    last = line;
  };
  return {
    show,
    deployment: (p) => show(deploymentLine(p)),
    done() {
      if (tty && last) stream.write('\r\x1b[2K');
    },
  };
}

/**
 * Resolves with the signal that asks a long-running command to stop (Ctrl-C, SIGTERM), or
 * with SIGTERM when `alsoWhen` settles first (e.g. the worker stopped by itself).
 */
export function untilStopped(alsoWhen?: Promise<unknown>): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    alsoWhen?.then(
      () => resolve('SIGTERM'),
      (err: unknown) => {
        console.error(`stopped: ${String(err)}`);
        resolve('SIGTERM');
      },
    );
  });
}
