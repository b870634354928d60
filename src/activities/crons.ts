/**
 * Crons: the engine keeps each environment's Temporal Schedules in line with the `crons:` of
 * its live release (created, updated, deleted; paused while it deploys and while it is
 * inactive), and a host runs each cron in the project's sandbox, in the live release with its
 * mounts, as the deploy hook runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import { ScheduleOverlapPolicy, type ScheduleClient } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { schedulesOf } from '../client-lib/crons';
import { CRON_FAILED, cronScheduleId, type CronRunInput, type CronRunResult, type CronSyncInput } from '../domain/crons';
import { ENGINE_TASK_QUEUE } from '../domain/names';
import type { CronJob } from '../domain/project-files/crons';
import { SlipwayCommit, SlipwayEnvironment, SlipwayKind, SlipwayProject } from '../domain/search-attributes';
import type { Layout } from '../home';
import { runInSandbox } from '../sandbox/sandbox';
import { readSlugManifest } from './build';
import { heartbeatDetails, reportStep } from './lib/heartbeat';
import { prepareSandbox, SANDBOX_BASE_ENV } from './lib/hook-process';
import { hookEnv, releaseBinds } from './release';
import { hasServices } from '../runtime/environment-runtime';
import { environmentNetnsPath } from '../runtime/services';

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function createCronEngineActivities(layout: Layout, schedules: () => Promise<ScheduleClient>) {
  return {
    /**
     * Makes the environment's Schedules those of its live release's `crons:`: each created or
     * updated (spec, command's release), the others deleted; paused when it is inactive,
     * running otherwise. Idempotent.
     */
    async syncCrons(input: CronSyncInput): Promise<{ crons: string[]; deleted: string[] }> {
      const client = await schedules();
      const wanted: Record<string, CronJob> = input.live ? (readSlugManifest(layout, input.live.slug).crons ?? {}) : {};
      const existing = await schedulesOf(client, input.project, input.environment);
      const note = input.active ? `synced to deployment #${input.live?.deployment ?? '-'}` : 'environment inactive';
      for (const [name, job] of Object.entries(wanted)) {
        const run: CronRunInput = { project: input.project, environment: input.environment, host: input.host, name, spec: job.spec, cmd: job.cmd, ...input.live! };
        const id = cronScheduleId(input.project, input.environment, name);
        const action = {
          type: 'startWorkflow' as const,
          workflowType: 'cronRunWorkflow',
          workflowId: id,
          taskQueue: ENGINE_TASK_QUEUE,
          args: [run],
          staticSummary: `cron ${name} of ${input.project}/${input.environment}: ${job.cmd.slice(0, 80)}`,
          typedSearchAttributes: [
            { key: SlipwayProject, value: input.project },
            { key: SlipwayEnvironment, value: input.environment },
            { key: SlipwayKind, value: 'cron' },
            // The commit of the release it runs in.
            ...(input.live ? [{ key: SlipwayCommit, value: input.live.commit }] : []),
          ],
        };
        const spec = { cronExpressions: [job.spec] };
        if (existing.has(name)) {
          await client.getHandle(id).update((prev) => ({ ...prev, spec, action, state: { ...prev.state, paused: !input.active, note } }));
        } else {
          await client.create({
            scheduleId: id,
            spec,
            action,
            policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
            state: { paused: !input.active, note },
          });
        }
      }
      const deleted: string[] = [];
      for (const name of existing.keys()) {
        if (name in wanted) continue;
        await client.getHandle(cronScheduleId(input.project, input.environment, name)).delete();
        deleted.push(name);
      }
      return { crons: Object.keys(wanted), deleted };
    },

    /** Pauses the environment's Schedules (it deploys, or it was deactivated): no cron starts meanwhile. */
    async pauseCrons(input: { project: string; environment: string; note: string }): Promise<{ paused: string[] }> {
      const client = await schedules();
      const paused: string[] = [];
      for (const [name, d] of await schedulesOf(client, input.project, input.environment)) {
        if (!d.state.paused) await client.getHandle(cronScheduleId(input.project, input.environment, name)).pause(input.note);
        paused.push(name);
      }
      return { paused };
    },

    /** Deletes the environment's Schedules (it was deleted). */
    async deleteCrons(input: { project: string; environment: string }): Promise<{ deleted: string[] }> {
      const client = await schedules();
      const deleted: string[] = [];
      for (const name of (await schedulesOf(client, input.project, input.environment)).keys()) {
        await client.getHandle(cronScheduleId(input.project, input.environment, name)).delete();
        deleted.push(name);
      }
      return { deleted };
    },
  };
}

/** Cron output kept per environment and cron: the newest part of it. */
const CRON_LOG_MAX = 1024 * 1024;

function appendLog(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, text);
  const size = fs.statSync(file).size;
  if (size > CRON_LOG_MAX) {
    const keep = fs.readFileSync(file).subarray(size - CRON_LOG_MAX / 2);
    fs.writeFileSync(file, keep);
  }
}

export const cronLogFile = (layout: Layout, project: string, environment: string, name: string): string =>
  path.join(layout.deployLogs(project, environment), 'crons', `${name}.log`);

export function createCronHostActivities(layout: Layout) {
  return {
    /** One run of a cron: its command in the sandbox, in the release it was synced to, with the environment's mounts. */
    async runCron(input: CronRunInput): Promise<CronRunResult> {
      const ctx = Context.current();
      const started = Date.now();
      const releaseDir = layout.release(input.project, input.environment, input.release);
      const manifest = readSlugManifest(layout, input.slug);
      const job = manifest.crons?.[input.name];
      const log = cronLogFile(layout, input.project, input.environment, input.name);
      if (!job || !fs.existsSync(releaseDir)) {
        const why = !job ? `release ${input.release} has no cron ${input.name}` : `release ${input.release} is no longer there`;
        appendLog(log, `${new Date().toISOString()} skipped: ${why}\n`);
        return { name: input.name, release: input.release, exitCode: 0, ms: 0, tail: `skipped: ${why}` };
      }
      const app = { dir: releaseDir, writable: false };
      const binds = releaseBinds(layout, input, input.release, manifest.mounts);
      const { identity, limits } = await prepareSandbox({ layout, project: input.project, app, binds, kind: 'cron' });
      const timeoutSeconds = Math.min(job.timeoutSeconds ?? limits.timeoutSeconds.cron, limits.timeoutSeconds.cron);
      appendLog(log, `${new Date().toISOString()} run of ${input.name} in ${input.release} (workflow ${ctx.info.workflowExecution?.workflowId ?? '?'}): ${job.cmd}\n`);
      reportStep(`cron ${input.name}`);
      const heartbeat = setInterval(() => ctx.heartbeat(heartbeatDetails(ctx)), 1000);
      try {
        const env = hookEnv(layout, { ...input, number: input.deployment, branch: input.environment, manifest }, { MAGENTO_CLOUD_CRON: input.name });
        const end = await runInSandbox({
          name: layout.hookSandboxName({ project: input.project, environment: input.environment, number: input.deployment }, `cron-${input.name}`),
          dataDir: layout.home,
          identity,
          hostname: `${input.project}-${input.environment}`.slice(0, 63),
          app,
          binds,
          command: ['bash', '-e', '-c', job.cmd],
          env: { ...SANDBOX_BASE_ENV, ...env },
          // With services, in the environment's network namespace, where they listen.
          ...(hasServices(manifest) ? { netns: await environmentNetnsPath({ layout, project: input.project, environment: input.environment }) } : {}),
          limits,
          timeoutSeconds,
          onOutput: (l) => appendLog(log, `| ${l}\n`),
          signal: ctx.cancellationSignal,
        });
        const ms = Date.now() - started;
        const tail = end.tail.join('\n');
        if (end.kind === 'exited' && end.code === 0) {
          appendLog(log, `${new Date().toISOString()} ${input.name} succeeded in ${ms} ms\n`);
          return { name: input.name, release: input.release, exitCode: 0, ms, tail };
        }
        const message =
          end.kind === 'limit'
            ? `cron ${input.name} ${end.message}`
            : end.kind === 'cancelled'
              ? `cron ${input.name} was cancelled`
              : `cron ${input.name} exited with code ${end.code}`;
        appendLog(log, `${new Date().toISOString()} ${message}\n`);
        throw ApplicationFailure.create({ message, type: CRON_FAILED, nonRetryable: true, details: [{ tail }] });
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        appendLog(log, `${new Date().toISOString()} ${input.name} could not run: ${errorMessage(err)}\n`);
        throw err;
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
