/**
 * The deployment's log: one timestamped line per event, each step with its start, duration
 * and outcome, so `slipway env log` reads like a build console.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { DeploymentKey, DeploymentStep, StepFailureDetails, StepTiming } from '../../domain/deployment';
import { STEP_FAILED } from '../../domain/failure-types';
import type { Layout } from '../../home';
import { reportStep } from './heartbeat';

export class StepLog {
  readonly file: string;
  /** "web2 " on the lines a host writes into the engine's shared log store; nothing on the engine's own lines. */
  private readonly label: string;

  constructor(layout: Layout, key: DeploymentKey) {
    this.file = layout.deployLog(key);
    this.label = layout.logLabel ? `${layout.logLabel} ` : '';
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
  }

  line(step: DeploymentStep | 'deployment', text: string): void {
    const stamp = new Date().toISOString();
    const lines = text.replace(/\n$/, '').split('\n');
    // One append per call: the engine's and the host's lines of one deployment go into one file.
    fs.appendFileSync(this.file, lines.map((l) => `${stamp} ${this.label}[${step}] ${l}\n`).join(''));
  }

  /** Runs one named step: logs its start, then its duration and outcome. */
  async step<T>(step: DeploymentStep, summary: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.line(step, `started: ${summary}`);
    reportStep(step);
    try {
      const result = await fn();
      this.line(step, `succeeded in ${Date.now() - started} ms`);
      return result;
    } catch (err) {
      this.line(step, `failed after ${Date.now() - started} ms: ${errorMessage(err)}`);
      throw err;
    }
  }
}

/**
 * The named steps of one activity call (a group of the deployment's plan), all through one
 * deployment log: each logged with its start, duration and outcome, and timed for the
 * workflow's progress. The one wrapper every step goes through; step bodies only add lines.
 */
export class StepRun {
  readonly timings: StepTiming[] = [];
  readonly log: StepLog;

  constructor(layout: Layout, key: DeploymentKey) {
    this.log = new StepLog(layout, key);
  }

  /** Runs a named step: logged and timed; its body gets the log for its own lines. */
  async step<T>(step: DeploymentStep, summary: string, fn: (log: StepLog) => Promise<T>): Promise<T> {
    const startedAt = Date.now();
    const result = await this.log.step(step, summary, () => fn(this.log));
    this.timings.push({ step, status: 'succeeded', startedAt, endedAt: Date.now() });
    return result;
  }

  /** A named step with nothing to do: logged why, reported as skipped. */
  skip(step: DeploymentStep, why: string): void {
    const now = Date.now();
    this.log.line(step, `skipped: ${why}`);
    this.timings.push({ step, status: 'skipped', startedAt: now, endedAt: now });
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A failure that retrying cannot fix: the user's hook, file or commit is at fault. */
export function stepFailure(details: StepFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({
    message: details.message,
    type: STEP_FAILED,
    nonRetryable: true,
    details: [details],
  });
}
