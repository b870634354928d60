/**
 * The project's environment registry: branch, activate, deactivate, delete, sync and merge (each
 * an Update whose validator runs the domain's rule), what a push means, and how an
 * environment's own workflow is started and told of its lifecycle.
 */
import { ParentClosePolicy, defineUpdate, getExternalWorkflowHandle, startChild } from '@temporalio/workflow';
import { environmentNameProblem } from '../../domain/environment-names';
import { ZERO_COMMIT } from '../../domain/git-refs';
import { workflowIds } from '../../domain/names';
import type { BranchPush, EnvironmentEntry, ProjectState } from '../../domain/project';
import {
  activateRefusal,
  branchRefusal,
  deactivateRefusal,
  deleteRefusal,
  syncRefusal,
  type BranchRequest,
  type EnvironmentRequest,
} from '../../domain/project-rules';
import { SlipwayEnvironment, SlipwayKind, SlipwayPhase, SlipwayProject } from '../../domain/search-attributes';
import { projectGit as git } from '../activity-proxies';
import { environmentLifecycleSignal, environmentPushSignal, environmentWorkflow } from '../environment';
import type { ProjectContext } from './context';
import { setAnsweredOnceHandler } from '../lib/answered-updates';

export type { BranchRequest, EnvironmentRequest } from '../../domain/project-rules';
export interface MergeResult {
  environment: string;
  /** The branch that received the code and its new head. */
  target: string;
  commit: string;
  changed: boolean;
  /** The target deploys (it is active and its code changed). */
  deploys: boolean;
}

export const branchUpdate = defineUpdate<EnvironmentEntry, [BranchRequest]>('branch');
export const activateUpdate = defineUpdate<EnvironmentEntry, [EnvironmentRequest]>('activate');
export const deactivateUpdate = defineUpdate<EnvironmentEntry, [EnvironmentRequest]>('deactivate');
export const deleteUpdate = defineUpdate<{ deleted: string }, [EnvironmentRequest]>('delete');
export const syncUpdate = defineUpdate<MergeResult, [EnvironmentRequest]>('sync');
export const mergeUpdate = defineUpdate<MergeResult, [EnvironmentRequest]>('merge');

/** A new branch runs where its parent does (integration's shared hosts): `hosts` only when the parent names them. */
function branchHosts(state: ProjectState, parent: string): { host: string; hosts?: string[] } {
  const p = state.environments[parent];
  if (!p) return { host: state.host };
  return p.hosts ? { host: p.host, hosts: [...p.hosts] } : { host: p.host };
}

/** Starts an environment's entity workflow (on its first activation); it outlives this run. */
export async function startEnvironment(state: ProjectState, name: string, pending?: { commit: string; pushedAt: number }): Promise<void> {
  const entry = state.environments[name]!;
  await startChild(environmentWorkflow, {
    workflowId: workflowIds.environment(state.project, name),
    args: [
      {
        project: state.project,
        environment: name,
        branch: name,
        host: entry.host,
        // Several hosts (or dedicated ones): the state names them all (absent: `host` alone).
        ...(entry.hosts ? { hosts: [...entry.hosts] } : {}),
        ...(state.hostStartTimeout !== undefined ? { hostStartTimeout: state.hostStartTimeout } : {}),
        // A branch's first deployment copies its parent's database and mounts.
        ...(entry.type === 'integration-child' && entry.parent ? { dataFrom: entry.parent } : {}),
        nextDeployment: 1,
        deployments: [],
        requests: [],
        pending,
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: `Environment ${name} of ${state.project} (${entry.type}${entry.parent ? `, child of ${entry.parent}` : ''})`,
    typedSearchAttributes: [
      { key: SlipwayProject, value: state.project },
      { key: SlipwayEnvironment, value: name },
      { key: SlipwayKind, value: 'environment' },
      // From its start (its first deployment, if any, makes it `deploying` at once).
      { key: SlipwayPhase, value: 'idle' },
    ],
  });
}

const startOrActivate = async (state: ProjectState, entry: EnvironmentEntry): Promise<void> => {
  if (!entry.started) {
    entry.started = true;
    await startEnvironment(state, entry.name, { commit: '', pushedAt: Date.now() });
  } else {
    await getExternalWorkflowHandle(workflowIds.environment(state.project, entry.name)).signal(environmentLifecycleSignal, 'activate');
  }
};

const lifecycle = async (state: ProjectState, entry: EnvironmentEntry, action: 'deactivate' | 'retire'): Promise<void> => {
  if (entry.started) {
    await getExternalWorkflowHandle(workflowIds.environment(state.project, entry.name)).signal(environmentLifecycleSignal, action);
  }
};

const merge = async (state: ProjectState, source: string, target: string, environment: string, message: string): Promise<MergeResult> => {
  const result = await git.mergeBranch.executeWithOptions({ summary: `merge ${source} into ${target}` }, [
    { project: state.project, source, target, message },
  ]);
  const deploys = result.changed && state.environments[target]?.status === 'active';
  return { environment, target, commit: result.commit, changed: result.changed, deploys };
};

export function registerEnvironments(ctx: ProjectContext): void {
  const { state } = ctx;
  setAnsweredOnceHandler(
    ctx.state,
    branchUpdate,
    async (r) => {
      ctx.recheck(branchRefusal(ctx.registry(), r));
      const parent = r.parent ?? 'integration';
      const entry: EnvironmentEntry = {
        name: r.name,
        type: 'integration-child',
        parent,
        status: r.inactive ? 'inactive' : 'active',
        ...branchHosts(state, parent),
      };
      state.environments[r.name] = entry; // the slot is taken now, before anything is awaited
      try {
        await git.createBranch.executeWithOptions({ summary: `branch ${r.name} from ${parent}` }, [
          { project: state.project, name: r.name, from: parent },
        ]);
      } catch (err) {
        delete state.environments[r.name];
        throw err;
      }
      if (!r.inactive) await startOrActivate(state, entry);
      return { ...entry };
    },
    { validator: (r: BranchRequest) => ctx.validate(() => branchRefusal(ctx.registry(), r)) },
  );

  setAnsweredOnceHandler(
    ctx.state,
    activateUpdate,
    async (r) => {
      ctx.recheck(activateRefusal(ctx.registry(), r));
      const entry = state.environments[r.name]!;
      entry.status = 'active';
      await startOrActivate(state, entry);
      return { ...entry };
    },
    { validator: (r: EnvironmentRequest) => ctx.validate(() => activateRefusal(ctx.registry(), r)) },
  );

  setAnsweredOnceHandler(
    ctx.state,
    deactivateUpdate,
    async (r) => {
      ctx.recheck(deactivateRefusal(ctx.registry(), r));
      const entry = state.environments[r.name]!;
      entry.status = 'inactive';
      await lifecycle(state, entry, 'deactivate');
      return { ...entry };
    },
    { validator: (r: EnvironmentRequest) => ctx.validate(() => deactivateRefusal(ctx.registry(), r)) },
  );

  setAnsweredOnceHandler(
    ctx.state,
    deleteUpdate,
    async (r) => {
      ctx.recheck(deleteRefusal(ctx.registry(), r));
      const entry = state.environments[r.name]!;
      delete state.environments[r.name];
      await lifecycle(state, entry, 'retire');
      await git.deleteBranch.executeWithOptions({ summary: `delete branch ${r.name}` }, [{ project: state.project, name: r.name }]);
      return { deleted: r.name };
    },
    { validator: (r: EnvironmentRequest) => ctx.validate(() => deleteRefusal(ctx.registry(), r)) },
  );

  for (const [update, op] of [
    [syncUpdate, 'synced'],
    [mergeUpdate, 'merged'],
  ] as const) {
    setAnsweredOnceHandler(
      ctx.state,
      update,
      async (r) => {
        ctx.recheck(syncRefusal(ctx.registry(), r, op));
        const parent = state.environments[r.name]!.parent!;
        return op === 'synced'
          ? merge(state, parent, r.name, r.name, `Sync ${r.name} with ${parent}`)
          : merge(state, r.name, parent, r.name, `Merge ${r.name} into ${parent}`);
      },
      { validator: (r: EnvironmentRequest) => ctx.validate(() => syncRefusal(ctx.registry(), r, op)) },
    );
  }
}

/** What a push means: a deployment, a new inactive environment, or a deactivation. */
export async function routePush(ctx: ProjectContext, push: BranchPush): Promise<void> {
  const { state } = ctx;
  const env = ctx.entryOf(push.branch);
  const deleted = push.after === ZERO_COMMIT;
  if (!env) {
    if (deleted || environmentNameProblem(push.branch)) return;
    // A new branch: an inactive child of integration (it takes no slot until activated).
    state.environments[push.branch] = {
      name: push.branch,
      type: 'integration-child',
      parent: 'integration',
      status: 'inactive',
      ...branchHosts(state, 'integration'),
    };
    return;
  }
  if (deleted) {
    if (env.type === 'integration-child') {
      env.branchDeleted = true;
      if (env.status === 'active') {
        env.status = 'inactive';
        await lifecycle(state, env, 'deactivate');
      }
    }
    return;
  }
  env.branchDeleted = undefined;
  // A push the client delivered to the environment itself is not forwarded again.
  if (env.status === 'active' && env.started && push.delivered !== true) {
    await getExternalWorkflowHandle(workflowIds.environment(state.project, push.branch)).signal(environmentPushSignal, {
      commit: push.after,
      pushedAt: push.pushedAt,
    });
  }
}
