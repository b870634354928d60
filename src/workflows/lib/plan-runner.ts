/**
 * The one runner of a deployment's plan (src/domain/deployment-plan.ts): it calls each group's
 * activity on the queue the plan names (locally when it may), reports every named step in the
 * deployment's progress (running, then as the activity timed it, or skipped), keeps the phase
 * search attribute, and keeps the compensation stack: a group's undos are pushed before its call
 * (a call that timed out may have done part of its work), those needed only while it runs are
 * dropped when it completes, and on failure the stack unwinds from the top. Deterministic code.
 */
import { ActivityFailure, ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { HostActivities } from '../../activities';
import { isStepFailureDetails, NOT_THIS_HOST, type DataSource, type DeploymentInput, type DeploymentStep, type StepTiming } from '../../domain/deployment';
import { undosToRun, type GroupActivity, type PlannedGroup, type Undo } from '../../domain/deployment-plan';
import type { SlugManifest } from '../../domain/project-files';
import { SlipwayPhase } from '../../domain/search-attributes';

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped';
export interface StepProgress {
  step: DeploymentStep;
  status: StepStatus;
  startedAt: number;
  endedAt?: number;
  /** The host that ran it, when the environment has several. */
  host?: string;
}
export interface DeploymentProgress {
  phase: 'build' | 'deploy' | 'compensating' | 'succeeded' | 'failed';
  commit: string;
  steps: StepProgress[];
}

/** What the groups of a deployment learn and hand on: the argument of every group's activity. */
export interface DeploymentContext {
  project: string;
  environment: string;
  number: number;
  branch: string;
  commit: string;
  mode: 'install' | 'update';
  smokePaths: string[];
  /** Releases that pruning keeps besides the new one: the live one. */
  pruneKeeping: string[];
  treeId?: string;
  slug?: string;
  manifest?: SlugManifest;
  slugReused?: boolean;
  workspace?: string;
  release?: string;
  /** Data brought in inside the window (a branch's parent's, sync --data, promote --data, rollback --with-data). */
  data?: DataSource;
  /** Maintenance on and off (the window), from the group that switches (several hosts: the first on, the last off). */
  since?: number;
  until?: number;
  /** On a host other than the first (several hosts): the work done once for the environment ran there, not here. */
  onceOn?: string;
}

/** A proxy's call as the runner makes it: any group activity, with one argument. */
type Call = { executeWithOptions(o: { summary: string }, args: [unknown]): Promise<unknown> };
export type GroupProxy = Record<GroupActivity, Call>;
type CompensationProxy = Pick<Record<keyof HostActivities, Call>, 'restorePreviousRelease' | 'maintenanceOff'>;

/** The proxies a runner calls through: by queue, local or not, long or not. */
export interface RunnerProxies {
  engineLocal: GroupProxy;
  engineLong: GroupProxy;
  hostLocal: GroupProxy;
  host: GroupProxy & CompensationProxy;
  hostLong: GroupProxy;
}

/** The application failure a step raised: an activity's comes wrapped, a local activity's as it is. */
export function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  if (err instanceof ApplicationFailure) return err;
  return undefined;
}

/** The step a step failure names, if the error is one. */
export function failedStepOf(err: unknown): DeploymentStep | undefined {
  const d: unknown = applicationFailureOf(err)?.details?.[0];
  return isStepFailureDetails(d) ? d.step : undefined;
}

/** How each group's result feeds the context (the activities' results, as recorded in histories). */
const ABSORB: Record<GroupActivity, (ctx: DeploymentContext, result: unknown, input: DeploymentInput) => void> = {
  loadSlugManifest: (ctx, r, input) => {
    if (input.source.kind !== 'slug') return;
    Object.assign(ctx, { manifest: r as SlugManifest, slug: input.source.slug, treeId: input.source.treeId, slugReused: true });
  },
  prepareBuild: (ctx, r) => {
    const p = r as { treeId: string; slug: string; manifest: SlugManifest; reused: boolean; workspace?: string };
    Object.assign(ctx, { treeId: p.treeId, slug: p.slug, manifest: p.manifest, slugReused: p.reused, workspace: p.workspace ?? '' });
  },
  buildSlug: () => undefined,
  stageRelease: (ctx, r) => {
    ctx.release = (r as { release: string }).release;
  },
  deployAndSwitch: (ctx, r) => {
    const d = r as { since: number; until: number };
    // One host: its window. Several: from the first host's maintenance on to the last one's off.
    Object.assign(ctx, { since: ctx.since === undefined ? d.since : Math.min(ctx.since, d.since), until: Math.max(ctx.until ?? 0, d.until) });
  },
  postDeployAndVerify: () => undefined,
};

export class PlanRunner {
  readonly progress: DeploymentProgress;
  /** The step being run, or the last one that failed: what a failure without details names. */
  currentStep: DeploymentStep = 'checkout';
  private readonly undos: Undo[] = [];
  /** Whether this engine may run the host's groups locally: until it says it is not the host. */
  private hostHere = true;
  /** The host a group failed on, when the environment has several. */
  failedHost?: string;

  constructor(
    private readonly input: DeploymentInput,
    readonly ctx: DeploymentContext,
    private readonly proxies: RunnerProxies,
    /** Each host's proxies, when the environment has several (the plan's groups name their hosts). */
    private readonly proxiesOn: (host: string) => RunnerProxies = () => proxies,
  ) {
    this.progress = { phase: 'build', commit: input.commit, steps: [] };
  }

  setPhase(phase: DeploymentProgress['phase']): void {
    this.progress.phase = phase;
    upsertSearchAttributes([{ key: SlipwayPhase, value: phase }]);
  }

  private report(step: DeploymentStep, status: StepStatus, startedAt: number, endedAt: number): void {
    this.progress.steps.push({ step, status, startedAt, endedAt });
  }

  /** Runs the groups in order; the phase changes as the groups' phase does. */
  async run(groups: readonly PlannedGroup[]): Promise<void> {
    for (const group of groups) {
      if (group.phase !== this.progress.phase) this.setPhase(group.phase);
      if (group.onlyIfNotBuilt && this.ctx.slugReused) {
        for (const step of group.steps) this.report(step, 'skipped', Date.now(), Date.now());
        continue;
      }
      if (group.hosts) await this.runOnHosts(group, group.hosts);
      else await this.runGroup(group);
    }
  }

  private call(group: PlannedGroup): Promise<unknown> {
    const o = { summary: group.summary };
    const args = { ...this.ctx };
    if (group.queue === 'engine') return (group.local ? this.proxies.engineLocal : this.proxies.engineLong)[group.activity].executeWithOptions(o, [args]);
    if (!group.local) return this.proxies.hostLong[group.activity].executeWithOptions(o, [args]);
    // A host's short group: locally when this engine is the host, else on the host's queue.
    if (!this.hostHere) return this.proxies.host[group.activity].executeWithOptions(o, [args]);
    return this.proxies.hostLocal[group.activity].executeWithOptions(o, [{ ...args, host: this.input.host }]).catch((err: unknown) => {
      if (applicationFailureOf(err)?.type !== NOT_THIS_HOST) throw err;
      this.hostHere = false;
      return this.proxies.host[group.activity].executeWithOptions(o, [args]);
    });
  }

  private async runGroup(group: PlannedGroup): Promise<void> {
    for (const step of group.skips ?? []) this.report(step, 'skipped', Date.now(), Date.now());
    const startedAt = Date.now();
    const at = this.progress.steps.length;
    if (group.steps.length > 0) {
      this.currentStep = group.steps[0]!;
      this.progress.steps.push({ step: this.currentStep, status: 'running', startedAt });
    }
    const pushed = group.undo ?? [];
    this.undos.push(...pushed);
    let result: unknown;
    try {
      result = await this.call(group);
    } catch (err) {
      const named = failedStepOf(err);
      const failed = named !== undefined && group.steps.includes(named) ? named : this.currentStep;
      const before = group.steps.slice(0, Math.max(0, group.steps.indexOf(failed)));
      const now = Date.now();
      this.progress.steps.splice(at, this.progress.steps.length - at, ...before.map((step) => ({ step, status: 'succeeded' as const, startedAt, endedAt: now })));
      if (group.steps.length > 0) this.report(failed, 'failed', startedAt, now);
      this.currentStep = failed;
      throw err;
    }
    // Undos needed only while the group ran are done by the group itself.
    for (const u of pushed.filter((x) => x.whileRunning)) this.undos.splice(this.undos.lastIndexOf(u), 1);
    ABSORB[group.activity](this.ctx, result, this.input);
    // Every planned step as the activity timed it, in plan order; one it did not report was skipped.
    const timings = (result as { steps?: StepTiming[] } | undefined)?.steps;
    const now = Date.now();
    const reported = group.steps.map((step): StepProgress => {
      const t = timings?.find((x) => x.step === step);
      if (t) return { ...t };
      return timings ? { step, status: 'skipped', startedAt: now, endedAt: now } : { step, status: 'succeeded', startedAt, endedAt: now };
    });
    this.progress.steps.splice(at, this.progress.steps.length - at, ...reported);
  }

  /**
   * A group on each of its hosts, in parallel, on their queues: every host's steps recorded
   * with its name. Waits for every host; the first that failed (in the group's order) fails it.
   */
  private async runOnHosts(group: PlannedGroup, hosts: readonly string[]): Promise<void> {
    const now = Date.now();
    for (const step of group.skips ?? []) for (const host of hosts) this.progress.steps.push({ step, status: 'skipped', startedAt: now, endedAt: now, host });
    const outcomes = await Promise.allSettled(hosts.map((host) => this.runOn(group, host)));
    const failed = outcomes.findIndex((o) => o.status === 'rejected');
    if (failed >= 0) {
      this.failedHost = hosts[failed];
      const named = failedStepOf((outcomes[failed] as PromiseRejectedResult).reason);
      this.currentStep = named !== undefined && group.steps.includes(named) ? named : (group.steps[0] ?? this.currentStep);
      throw (outcomes[failed] as PromiseRejectedResult).reason;
    }
    for (const o of outcomes) ABSORB[group.activity](this.ctx, (o as PromiseFulfilledResult<unknown>).value, this.input);
  }

  private async runOn(group: PlannedGroup, host: string): Promise<unknown> {
    const startedAt = Date.now();
    const running: StepProgress = { step: group.steps[0] ?? this.currentStep, status: 'running', startedAt, host };
    if (group.steps.length > 0) {
      this.currentStep = running.step;
      this.progress.steps.push(running);
    }
    const replace = (entries: StepProgress[]): void => {
      const at = this.progress.steps.indexOf(running);
      if (at >= 0) this.progress.steps.splice(at, 1, ...entries);
      else this.progress.steps.push(...entries);
    };
    const pushed = (group.undo ?? []).map((u): Undo => ({ ...u, host }));
    this.undos.push(...pushed);
    const proxies = this.proxiesOn(host);
    let result: unknown;
    try {
      result = await (group.long ? proxies.hostLong : proxies.host)[group.activity].executeWithOptions({ summary: group.summary }, [
        { ...this.ctx, ...(group.onceOn ? { onceOn: group.onceOn } : {}) },
      ]);
    } catch (err) {
      const named = failedStepOf(err);
      const failed = named !== undefined && group.steps.includes(named) ? named : running.step;
      const now = Date.now();
      const before = group.steps.slice(0, Math.max(0, group.steps.indexOf(failed)));
      replace([...before.map((step) => ({ step, status: 'succeeded' as const, startedAt, endedAt: now, host })), ...(group.steps.length > 0 ? [{ step: failed, status: 'failed' as const, startedAt, endedAt: now, host }] : [])]);
      throw err;
    }
    // Undos needed only while the group ran are done by the group itself; what it did is undone
    // whatever fails later (on this host or another).
    for (const u of pushed) {
      const at = this.undos.lastIndexOf(u);
      if (u.whileRunning) this.undos.splice(at, 1);
      else this.undos[at] = { step: u.step, host };
    }
    const timings = (result as { steps?: StepTiming[] } | undefined)?.steps;
    const now = Date.now();
    replace(
      group.steps.map((step): StepProgress => {
        const t = timings?.find((x) => x.step === step);
        if (t) return { ...t, host };
        return timings ? { step, status: 'skipped', startedAt: now, endedAt: now, host } : { step, status: 'succeeded', startedAt, endedAt: now, host };
      }),
    );
    return result;
  }

  /**
   * Unwinds the compensation stack after a failure (the caller makes it non-cancellable): the
   * release served before is restored, maintenance switched off. Returns what was undone, and
   * what could not be (`describe` says why: "host web2 did not take the step in 60 s …").
   */
  async compensate(failedStep: DeploymentStep | undefined, describe: (err: unknown, host: string) => string = errorText): Promise<string[]> {
    const undone: string[] = [];
    // Several hosts: a completed group's undos name no step to skip (see runOn), so only the
    // failed host's own group is exempted by the step it failed at.
    const toRun = undosToRun(this.undos, failedStep);
    if (toRun.length === 0) return undone;
    this.setPhase('compensating');
    if (toRun.some((u) => u.host !== undefined)) return this.compensateOnHosts(toRun, describe);
    const key = { project: this.input.project, environment: this.input.environment, number: this.input.number };
    // An undo that fails (its host gone: the schedule-to-start timeout) is said, and the next one is still tried.
    for (const u of toRun) {
      if (u.step === 'restore-previous') {
        const previous = this.input.liveRelease;
        const startedAt = Date.now();
        this.currentStep = 'restore-previous';
        this.progress.steps.push({ step: 'restore-previous', status: 'running', startedAt });
        const s = this.progress.steps[this.progress.steps.length - 1]!;
        try {
          await this.proxies.host.restorePreviousRelease.executeWithOptions({ summary: `restore ${previous ?? 'nothing'}` }, [{ ...key, previous }]);
          s.status = 'succeeded';
          undone.push(previous ? `restored ${previous}` : 'no previous release: unpublished');
        } catch (err) {
          s.status = 'failed';
          undone.push(`could not ${previous ? `restore ${previous}` : 'unpublish the new release'}: ${describe(err, this.input.host)}`);
        } finally {
          s.endedAt = Date.now();
        }
      } else {
        try {
          await this.proxies.host.maintenanceOff.executeWithOptions({ summary: 'maintenance off (compensation)' }, [key]);
          undone.push('maintenance off');
        } catch (err) {
          undone.push(`could not turn maintenance off: ${describe(err, this.input.host)}`);
        }
      }
    }
    return undone;
  }

  /**
   * The undos of several hosts: each host's in the stack's order, the hosts in parallel (a host
   * that does not answer does not hold up switching the others back). A host whose undo fails
   * is named in what is reported; the others are undone all the same.
   */
  private async compensateOnHosts(toRun: Undo[], describe: (err: unknown, host: string) => string): Promise<string[]> {
    const key = { project: this.input.project, environment: this.input.environment, number: this.input.number };
    const hosts = [...new Set(toRun.map((u) => u.host ?? this.input.host))];
    const previous = this.input.liveRelease;
    this.currentStep = 'restore-previous';
    const perHost = await Promise.all(
      hosts.map(async (host): Promise<string> => {
        const proxies = this.proxiesOn(host).host;
        const done: string[] = [];
        try {
          for (const u of toRun.filter((x) => (x.host ?? this.input.host) === host)) {
            if (u.step === 'restore-previous') {
              const s: StepProgress = { step: 'restore-previous', status: 'running', startedAt: Date.now(), host };
              this.progress.steps.push(s);
              try {
                await proxies.restorePreviousRelease.executeWithOptions({ summary: `restore ${previous ?? 'nothing'} on ${host}` }, [{ ...key, previous }]);
                s.status = 'succeeded';
              } catch (err) {
                s.status = 'failed';
                throw err;
              } finally {
                s.endedAt = Date.now();
              }
              done.push(previous ? `restored ${previous}` : 'no previous release: unpublished');
            } else {
              await proxies.maintenanceOff.executeWithOptions({ summary: `maintenance off on ${host} (compensation)` }, [key]);
              done.push('maintenance off');
            }
          }
        } catch (err) {
          done.push(`not undone: ${describe(err, host)}`);
        }
        return `${host}: ${done.join(', ')}`;
      }),
    );
    return perHost;
  }
}

const errorText = (err: unknown): string => (err instanceof ActivityFailure && err.cause ? err.cause.message : err instanceof Error ? err.message : String(err));
