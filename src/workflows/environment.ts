/**
 * An environment's entity workflow, id `env/<project>/<environment>`: it owns the push queue
 * and the current and previous releases, and runs one deployment at a time. Pushes that
 * arrive during a deployment are coalesced: the branch's newest commit deploys next. Redeploys
 * and rollbacks are Updates with validators: refused at once, with a reason, or queued.
 */
import {
  ActivityFailure,
  ChildWorkflowFailure,
  ApplicationFailure,
  CancelledFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowOptions,
} from '@temporalio/workflow';
import { DEFAULT_HOST_START_TIMEOUT_SECONDS, hostDidNotTakeStep } from '../domain/activity-timeouts';
import { describeFailure, isStepFailureDetails, type DataSource, type DeploymentInput, type DeploymentSource } from '../domain/deployment';
import {
  DEPLOYMENT_RECORDS_KEPT,
  type DeploymentRecord,
  type DeploymentRequest,
  type EnvironmentState,
  type EnvironmentStatus,
  type LifecycleAction,
  type PromotionRequest,
  type PushEvent,
  type RuntimeRestart,
  RUNTIME_RESTARTS_KEPT,
  type SshSessionEvent,
  SSH_SESSION_EVENTS_KEPT,
} from '../domain/environment';
import { workflowIds } from '../domain/names';
import { SlipwayCommit, SlipwayEnvironment, SlipwayKind, SlipwayPhase, SlipwayProject } from '../domain/search-attributes';
import { isCommitId } from '../domain/git-refs';
import { environmentCrons, environmentGit as git, environmentGitLocal as gitLocal, environmentHost, environmentHostOnRequest } from './activity-proxies';
import { deploymentWorkflow } from './deployment';
import { setAnsweredOnceHandler } from './lib/answered-updates';

/** A push to the environment's branch (sent by the project workflow). */
export const environmentPushSignal = defineSignal<[PushEvent]>('push');
/** Sent by the project workflow, which validated it: activate, deactivate, or retire (delete). */
export const environmentLifecycleSignal = defineSignal<[LifecycleAction]>('lifecycle');
export const environmentStatusQuery = defineQuery<EnvironmentStatus>('status');
/** Deploy the current slug again, with no build. Returns the deployment's number. */
export const redeployUpdate = defineUpdate<{ deployment: number }, []>('redeploy');
/** Build the current commit again and deploy it (variables visible at build changed). Returns the deployment's number. */
export const rebuildUpdate = defineUpdate<{ deployment: number }, []>('rebuild');
/**
 * Sent by the project workflow when a ticket's variable change was applied: the environment is
 * deployed again (built again when the build sees the variable), if it serves a release.
 */
export const variablesChangedSignal = defineSignal<[{ build: boolean }]>('variablesChanged');
/**
 * Deploy an earlier deployment's slug again (default: the previous release), with no build;
 * `withData`: the database and mounts as they were before the current release's deployment
 * too (its snapshot).
 */
export const rollbackUpdate = defineUpdate<{ deployment: number }, [{ to?: number; withData?: boolean }]>('rollback');
/** Sent by the project workflow once a data-refresh ticket is approved: the current release deployed again with that environment's data. */
export const refreshDataSignal = defineSignal<[{ from: string }]>('refreshData');
/** A snapshot of the database and mounts, taken between deployments (`env snapshot create`). */
export const snapshotUpdate = defineUpdate<{ snapshot: string; sizeBytes: number }, []>('snapshot');
/** Deploy the current release again with another environment's database and mounts (`env sync --data`), or with one of its snapshots (`env snapshot restore`). */
export const syncDataUpdate = defineUpdate<{ deployment: number }, [{ from: string } | { snapshot: string }]>('syncData');
/** Deploy a promoted slug (sent by a promotion workflow, which is signalled back with the outcome). */
export const environmentPromoteSignal = defineSignal<[PromotionRequest]>('promote');
/** The outcome of a promoted deployment, sent to the promotion workflow. */
export const promotionDeployedSignal = defineSignal<[DeploymentRecord]>('promotionDeployed');

/**
 * Sent by the supervisor of the environment's host when it found a process of the
 * environment's runtime down and started it again: kept in the environment's state (and so
 * in its history) for `env status`.
 */
export const runtimeRestartedSignal = defineSignal<[RuntimeRestart]>('runtimeRestarted');

/** Sent by the SSH gateway when a session into the environment starts and when it ends: in the history, and the newest in `status`. */
export const sshSessionSignal = defineSignal<[SshSessionEvent]>('sshSession');

/** Since this patch, signals that no engine component sends (a lifecycle action such as "explode", a push of null) are ignored. */
const MALFORMED_SIGNALS_PATCH = 'ignore-malformed-environment-signals';
const LIFECYCLE_ACTIONS: readonly unknown[] = ['activate', 'deactivate', 'retire'] satisfies LifecycleAction[];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
/** How a workflow-to-workflow signal is described to the Temporal UI, which lists every signal: internal, not an operator's. */
const internal = (by: string): { description: string } => ({ description: `Internal (sent by ${by}). Not an operator action.` });

/** Since this patch, the branch head is read by a local activity: no round trip through the server before a deployment starts. */
const LOCAL_BRANCH_HEAD_PATCH = 'branch-head-as-local-activity';
/**
 * Since this patch, a push that follows the head the environment knows (its `before` is that
 * commit) names the new head itself: nothing is read from Git before the deployment starts.
 * Any other push (out of order, after a change made without the hooks, the first one) has
 * the head read from Git as before.
 */
const HEAD_FROM_PUSH_PATCH = 'branch-head-from-a-following-push';
/**
 * Since this patch, the environment keeps the Temporal Schedules of its crons: paused while it
 * deploys, synced to the live release after each deployment (created, updated, deleted;
 * running when active), paused when deactivated, deleted with the environment.
 */
const CRONS_AS_SCHEDULES = 'crons-as-schedules';

/**
 * A cron Schedule step that did not succeed after its retries is logged, not thrown: the
 * environment's own work (deploying, serving) must not stop because a Schedule could not be
 * changed; the next deployment or lifecycle change tries again.
 */
async function cronStep(what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (err) {
    log.warn(`crons: could not ${what}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
  }
}

/** What one deployment deploys and why (the push path reads its commit from the branch). */
interface Planned {
  commit: string;
  source: DeploymentSource;
  data?: DataSource;
  reason: NonNullable<DeploymentRecord['reason']>;
  rollbackOf?: number;
  smokePaths?: string[];
}

/** A promotion, redeploy, rebuild or rollback as a deployment; nothing when its release is gone. */
function plannedFromRequest(state: EnvironmentState, request: DeploymentRequest): Planned | undefined {
  if (request.kind === 'rebuild') {
    return state.current ? { commit: state.current.commit, source: { kind: 'commit' }, reason: 'rebuild' } : undefined;
  }
  if (request.kind === 'snapshot') return undefined;
  if (request.kind === 'promotion' && request.promotion) {
    const pr = request.promotion;
    const source: DeploymentSource = { kind: 'slug', slug: pr.slug, treeId: pr.treeId, reason: 'promotion', from: pr.sourceDeployment };
    return { commit: pr.commit, source, reason: 'promotion', smokePaths: pr.smokePaths, ...(pr.withData ? { data: { kind: 'environment' as const, from: pr.source } } : {}) };
  }
  const target =
    request.kind === 'redeploy' ? state.current : state.deployments.find((d) => d.deployment === request.to && d.status === 'succeeded');
  if (!target?.slug || !target.treeId) return undefined;
  return {
    commit: target.commit,
    source: { kind: 'slug', slug: target.slug, treeId: target.treeId, reason: request.kind, from: target.deployment },
    reason: request.kind,
    rollbackOf: request.kind === 'rollback' ? request.to : undefined,
    ...(request.data ? { data: request.data } : {}),
  };
}

/** The deployment child of number `n`: its input, id, summary and search attributes. */
function deploymentChild(state: EnvironmentState, n: number, p: Planned): Omit<ChildWorkflowOptions, 'typeInfo' | 'args'> & { args: [DeploymentInput] } {
  const { commit, reason, rollbackOf } = p;
  const input: DeploymentInput = {
    project: state.project,
    environment: state.environment,
    branch: state.branch,
    commit,
    number: n,
    host: state.host,
    // Several hosts: each stages, all switch or none (absent on one host: the input as before).
    ...(state.hosts && state.hosts.length > 1 ? { hosts: [...state.hosts] } : {}),
    source: p.source,
    mode: state.installed || state.current ? 'update' : 'install',
    liveRelease: state.current?.release,
    smokePaths: p.smokePaths,
    ...(p.data ? { data: p.data } : {}),
    ...(state.hostStartTimeout !== undefined ? { hostStartTimeout: state.hostStartTimeout } : {}),
  };
  return {
    workflowId: workflowIds.deployment(state.project, state.environment, n),
    args: [input],
    staticSummary:
      `${{ push: 'Deploy', redeploy: 'Redeploy', rollback: `Roll back to #${rollbackOf} in`, promotion: 'Promote to', rebuild: 'Rebuild and deploy' }[reason]} ` +
      `${state.project}/${state.environment} #${n} at ${commit.slice(0, 12)}`,
    typedSearchAttributes: [
      { key: SlipwayProject, value: state.project },
      { key: SlipwayEnvironment, value: state.environment },
      { key: SlipwayCommit, value: commit },
      { key: SlipwayKind, value: 'deployment' },
      { key: SlipwayPhase, value: 'build' },
    ],
  };
}

/** The record of a deployment that failed or was cancelled. */
function unsuccessful(running: DeploymentRecord, err: unknown): DeploymentRecord {
  const details = err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined;
  const cancelled = err instanceof ChildWorkflowFailure && err.cause instanceof CancelledFailure;
  return {
    ...running,
    status: cancelled ? 'cancelled' : 'failed',
    endedAt: Date.now(),
    error: cancelled
      ? 'cancelled: what it had changed was undone, the release served before it is served'
      : isStepFailureDetails(details)
        ? describeFailure(details)
        : err instanceof Error
          ? err.message
          : String(err),
    failedStep: isStepFailureDetails(details) ? details.step : undefined,
  };
}

/**
 * The environment's signals, query and Updates. Redeploys and rollbacks wait in the queue until
 * the main loop gives them a deployment number (`assigned`; 0: dropped).
 */
/** The outcome of a snapshot asked for by the Update, by request id. */
type SnapshotOutcome = { snapshot: string; sizeBytes: number } | { error: string };

function registerHandlers(
  state: EnvironmentState,
  assigned: Map<string, number>,
  running: () => DeploymentRecord | undefined,
  snapshots: Map<string, SnapshotOutcome>,
): void {
  const lifecycle = state.lifecycle!;
  let nextRequestId = 0;
  setHandler(environmentPushSignal, (push) => {
    if (state.active === false) return; // an inactive environment keeps its code, undeployed
    if (!isObject(push) && patched(MALFORMED_SIGNALS_PATCH)) return;
    if (!state.pending || push.pushedAt >= state.pending.pushedAt) state.pending = push;
  }, internal('the remote\'s hook and the project workflow, for a push; to deploy again: the redeploy Update'));
  setHandler(environmentPromoteSignal, (promotion) => {
    if (!isObject(promotion)) return; // it would fail every workflow task
    state.requests.push({ id: `p-${promotion.replyTo}`, kind: 'promotion', promotion });
  }, internal('a promotion workflow once its ticket is approved; to promote: slipway promote'));
  setHandler(environmentLifecycleSignal, (action) => {
    // Anything but the three actions used to deactivate the environment.
    if (!LIFECYCLE_ACTIONS.includes(action) && patched(MALFORMED_SIGNALS_PATCH)) return;
    lifecycle.push(action);
  }, internal('the project workflow, which validated it; to activate or deactivate: the project workflow\'s Updates or slipway env'));
  // The kept answers to Updates are bookkeeping, not status.
  setHandler(environmentStatusQuery, () => ({ ...state, answeredUpdates: undefined, running: running() }));
  setHandler(runtimeRestartedSignal, (restart) => {
    if (!isObject(restart) || typeof restart.process !== 'string') return;
    state.restarts = [...(state.restarts ?? []), restart].slice(-RUNTIME_RESTARTS_KEPT);
  }, internal("the host's supervisor, a record of a process it restarted"));
  setHandler(sshSessionSignal, (event) => {
    if (!isObject(event) || typeof event.session !== 'string' || (event.event !== 'start' && event.event !== 'end')) return;
    state.sshSessions = [...(state.sshSessions ?? []), event].slice(-SSH_SESSION_EVENTS_KEPT);
  }, internal('the SSH gateway, a record of a session'));

  const enqueue = async (request: Omit<DeploymentRequest, 'id'>): Promise<{ deployment: number }> => {
    const id = `r${workflowInfo().runId.slice(0, 8)}-${nextRequestId++}`;
    state.requests.push({ ...request, id });
    await condition(() => assigned.has(id));
    return { deployment: assigned.get(id)! };
  };
  setAnsweredOnceHandler(state, rebuildUpdate, () => enqueue({ kind: 'rebuild' }), {
    validator: () => {
      if (state.active === false) throw new Error(`${state.environment} is inactive; activate it first`);
      if (!state.current) throw new Error(`${state.environment} has no release to build again`);
    },
  });
  setHandler(refreshDataSignal, (r) => {
    if (!isObject(r) || typeof r.from !== 'string' || state.active === false || !state.current) return;
    state.requests.push({ kind: 'redeploy', data: { kind: 'environment', from: r.from }, id: `d${workflowInfo().runId.slice(0, 8)}-${nextRequestId++}` });
  }, internal('the project workflow once a data-refresh ticket is approved; to copy data: the syncData Update or slipway env sync --data'));
  setHandler(variablesChangedSignal, (change) => {
    if (!isObject(change) || state.active === false || !state.current) return;
    state.requests.push({ kind: change.build ? 'rebuild' : 'redeploy', id: `v${workflowInfo().runId.slice(0, 8)}-${nextRequestId++}` });
  }, internal("the project workflow once a variable change is applied"));
  setAnsweredOnceHandler(state, redeployUpdate, () => enqueue({ kind: 'redeploy' }), {
    validator: () => {
      if (state.active === false) throw new Error(`${state.environment} is inactive; activate it first`);
      if (!state.current) throw new Error(`${state.environment} has no deployed release to redeploy`);
    },
  });
  setAnsweredOnceHandler(
    state,
    syncDataUpdate,
    (args) => enqueue({ kind: 'redeploy', data: 'from' in args ? { kind: 'environment', from: args.from } : { kind: 'snapshot', id: args.snapshot } }),
    {
    validator: (args: { from: string } | { snapshot: string }) => {
      if (!isObject(args) || !(('from' in args && typeof args.from === 'string' && args.from !== '') || ('snapshot' in args && typeof args.snapshot === 'string' && args.snapshot !== ''))) {
        throw new Error('syncData takes {from: <environment>} or {snapshot: <id>}');
      }
      if ('from' in args && args.from === state.environment) throw new Error(`${state.environment} cannot take its data from itself`);
      if (state.active === false) throw new Error(`${state.environment} is inactive; activate it first`);
      if (!state.current) throw new Error(`${state.environment} has no release to deploy with the data`);
    },
    },
  );
  setAnsweredOnceHandler(state, snapshotUpdate, async () => {
    const id = `s${workflowInfo().runId.slice(0, 8)}-${nextRequestId++}`;
    state.requests.push({ kind: 'snapshot', id });
    await condition(() => snapshots.has(id));
    const r = snapshots.get(id)!;
    snapshots.delete(id);
    if ('error' in r) throw ApplicationFailure.create({ message: r.error, nonRetryable: true });
    return r;
  }, {
    validator: () => {
      if (state.active === false) throw new Error(`${state.environment} is inactive: its data is kept, but nothing runs to snapshot`);
    },
  });
  setAnsweredOnceHandler(
    state,
    rollbackUpdate,
    (args) =>
      enqueue({
        kind: 'rollback',
        to: args.to ?? state.previous?.deployment,
        ...(args.withData && state.current ? { data: { kind: 'snapshot' as const, before: state.current.deployment } } : {}),
      }),
    {
    validator: (args: { to?: number }) => {
      if (!isObject(args)) throw new Error('rollback takes {to?: <deployment number>}');
      if (state.active === false) throw new Error(`${state.environment} is inactive; activate it first`);
      if (args.to === undefined) {
        if (!state.previous) throw new Error(`${state.environment} has no previous release to roll back to`);
        return;
      }
      if (!Number.isInteger(args.to) || args.to < 1) throw new Error('--to must be a deployment number');
      if (args.to === state.current?.deployment) throw new Error(`deployment ${args.to} is the current release already`);
      const target = state.deployments.find((d) => d.deployment === args.to);
      if (!target) {
        throw new Error(`deployment ${args.to} is not among the last ${DEPLOYMENT_RECORDS_KEPT} of ${state.environment}`);
      }
      if (target.status !== 'succeeded' || !target.slug) {
        throw new Error(`deployment ${args.to} did not succeed: there is no release of it to roll back to`);
      }
    },
  });
}

export async function environmentWorkflow(initial: EnvironmentState): Promise<void> {
  const state: EnvironmentState = { ...initial, requests: initial.requests ?? [], lifecycle: initial.lifecycle ?? [] };
  const lifecycle = state.lifecycle!;
  const host = environmentHost(state.host);
  let running: DeploymentRecord | undefined;
  const assigned = new Map<string, number>();
  const snapshots = new Map<string, SnapshotOutcome>();
  registerHandlers(state, assigned, () => running, snapshots);

  const record = (r: DeploymentRecord): void => {
    state.deployments.push(r);
    if (state.deployments.length > DEPLOYMENT_RECORDS_KEPT) state.deployments.shift();
  };

  for (;;) {
    await condition(
      () =>
        lifecycle.length > 0 ||
        state.requests.length > 0 ||
        state.pending !== undefined ||
        workflowInfo().continueAsNewSuggested,
    );
    if (lifecycle.length === 0 && state.requests.length === 0 && state.pending === undefined) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof environmentWorkflow>(state);
    }

    const action = lifecycle.shift();
    if (action) {
      if (action === 'activate') {
        state.active = true;
        state.pending = { commit: '', pushedAt: Date.now() };
        upsertSearchAttributes([{ key: SlipwayPhase, value: 'idle' }]);
        continue;
      }
      // Deactivate or retire: stop serving; queued work is dropped (its callers are answered).
      // `active` turns false only once nothing is served: that is what callers wait for.
      // On every host that serves it (one host: the one call it always was).
      await Promise.all(
        [host, ...(state.hosts ?? []).slice(1).map((h) => environmentHost(h))].map((h) =>
          h.unpublishEnvironment.executeWithOptions(
            { summary: action === 'retire' ? 'remove the environment' : 'stop serving the environment' },
            [{ project: state.project, environment: state.environment, remove: action === 'retire' }],
          ),
        ),
      );
      state.active = false;
      state.pending = undefined;
      if ((state.crons?.length ?? 0) > 0 && patched(CRONS_AS_SCHEDULES)) {
        const key = { project: state.project, environment: state.environment };
        await (action === 'retire'
          ? cronStep('delete the Schedules', () => environmentCrons.deleteCrons.executeWithOptions({ summary: 'delete the crons' }, [key]))
          : cronStep('pause the Schedules', () =>
              environmentCrons.pauseCrons.executeWithOptions({ summary: 'pause the crons (inactive)' }, [{ ...key, note: 'environment inactive' }]),
            ));
      }
      for (const r of state.requests.splice(0)) assigned.set(r.id, 0);
      if (state.current) state.previous = state.current;
      state.current = undefined;
      upsertSearchAttributes([{ key: SlipwayPhase, value: action === 'retire' ? 'deleted' : 'inactive' }]);
      if (action === 'retire') {
        await condition(allHandlersFinished);
        return;
      }
      continue;
    }

    const request = state.requests.shift();
    if (request?.kind === 'snapshot') {
      // Between deployments: the data as the live release left it.
      try {
        snapshots.set(
          request.id,
          await environmentHostOnRequest(state.host, state.hostStartTimeout).snapshotEnvironment.executeWithOptions({ summary: 'snapshot the database and mounts' }, [
            { project: state.project, environment: state.environment, ...(state.current ? { commit: state.current.commit } : {}) },
          ]),
        );
      } catch (err) {
        const notTaken = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
        snapshots.set(request.id, {
          error: notTaken
            ? hostDidNotTakeStep(state.host, state.hostStartTimeout ?? DEFAULT_HOST_START_TIMEOUT_SECONDS, 'snapshotEnvironment')
            : err instanceof ActivityFailure && err.cause
              ? err.cause.message
              : String(err),
        });
      }
      continue;
    }
    let planned: Planned;
    if (request) {
      const fromRequest = plannedFromRequest(state, request);
      if (!fromRequest) {
        assigned.set(request.id, 0); // validated at the door; gone since (records are bounded)
        continue;
      }
      planned = fromRequest;
    } else {
      const push = state.pending;
      state.pending = undefined;
      // The branch's newest commit, not the signal's: signals from concurrent pushes may
      // arrive out of order, the branch head cannot. A push that follows the known head
      // directly is the exception: its commit is the head (since HEAD_FROM_PUSH_PATCH).
      const follows =
        push?.before !== undefined && push.before === state.head && isCommitId(push.commit) && patched(HEAD_FROM_PUSH_PATCH);
      const commit = follows
        ? push.commit
        : await (patched(LOCAL_BRANCH_HEAD_PATCH) ? gitLocal : git).resolveBranchHead.executeWithOptions(
            { summary: `resolve ${state.branch}` },
            [{ project: state.project, branch: state.branch }],
          );
      state.head = commit;
      const last = state.deployments[state.deployments.length - 1];
      if (state.current?.commit === commit && last?.status === 'succeeded') continue;
      // A branch's first deployment brings its parent's data (only environments started since dataFrom exists have it).
      const first = !state.current && !state.installed && state.deployments.every((d) => d.status !== 'succeeded');
      planned = { commit, source: { kind: 'commit' }, reason: 'push', ...(first && state.dataFrom ? { data: { kind: 'environment' as const, from: state.dataFrom } } : {}) };
    }

    const n = state.nextDeployment++;
    if (request) assigned.set(request.id, n);
    const { commit, reason, rollbackOf } = planned;
    const child = deploymentChild(state, n, planned);
    running = { deployment: n, commit, status: 'running', startedAt: Date.now(), reason, rollbackOf };
    upsertSearchAttributes([
      { key: SlipwayPhase, value: 'deploying' },
      { key: SlipwayCommit, value: commit },
    ]);
    // Only environments whose live release has crons take Schedule steps (none: no event).
    let newCrons: string[] | undefined;
    const hadCrons = (state.crons?.length ?? 0) > 0 && patched(CRONS_AS_SCHEDULES);
    if (hadCrons) {
      await cronStep('pause the Schedules', () =>
        environmentCrons.pauseCrons.executeWithOptions({ summary: 'pause the crons while deploying' }, [
          { project: state.project, environment: state.environment, note: `deploying #${n}` },
        ]),
      );
    }
    try {
      const result = await executeChild(deploymentWorkflow, child);
      newCrons = result.crons;
      if (state.current) state.previous = state.current;
      state.current = { deployment: n, commit, slug: result.slug, treeId: result.treeId, release: result.release };
      state.installed = true;
      record({
        ...running,
        status: 'succeeded',
        endedAt: Date.now(),
        slug: result.slug,
        slugReused: result.slugReused,
        treeId: result.treeId,
        release: result.release,
        maintenanceMs: result.maintenanceMs,
      });
    } catch (err) {
      record(unsuccessful(running, err));
    } finally {
      const finished = running;
      running = undefined;
      upsertSearchAttributes([{ key: SlipwayPhase, value: 'idle' }]);
      // The live release's crons: the new one's after a success, else unchanged.
      const liveCrons = newCrons ?? state.crons;
      if (hadCrons || ((liveCrons?.length ?? 0) > 0 && patched(CRONS_AS_SCHEDULES))) {
        state.crons = liveCrons;
        const live = state.current;
        await cronStep('sync the Schedules', () =>
          environmentCrons.syncCrons.executeWithOptions({ summary: `sync the crons to ${live ? `#${live.deployment}` : 'no release'}` }, [
            { project: state.project, environment: state.environment, host: state.host, active: state.active !== false, ...(live ? { live } : {}) },
          ]),
        );
      }
      const replyTo = request?.kind === 'promotion' ? request.promotion?.replyTo : undefined;
      const outcome = state.deployments.find((d) => d.deployment === finished?.deployment);
      if (replyTo && outcome) await getExternalWorkflowHandle(replyTo).signal(promotionDeployedSignal, outcome);
    }
  }
}
