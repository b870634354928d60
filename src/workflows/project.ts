/**
 * A project's entity workflow, id `project/<project>`: it creates the project's remote, owns
 * the environment registry, and routes pushes to the environments' workflows.
 */
import {
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { EngineActivities } from '../activities';
import { environmentTypeOf, MAIN_BRANCHES, workflowIds } from '../domain/names';
import type { BranchPush, ProjectInfo, ProjectState } from '../domain/project';
import { SlipwayEnvironment, SlipwayKind, SlipwayProject } from '../domain/search-attributes';
import { environmentPushSignal, environmentWorkflow } from './environment';

/** Resolves once the project's remote exists; returns where it is. */
export const projectReadyUpdate = defineUpdate<ProjectInfo>('awaitReady');
export const projectInfoQuery = defineQuery<ProjectInfo | undefined>('project');
/** Sent by the remote's post-receive hook for every updated branch. */
export const branchPushedSignal = defineSignal<[BranchPush]>('branchPushed');

const git = proxyActivities<EngineActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: ['SlipwayInvalidInput'] },
});

export async function projectWorkflow(initial: ProjectState): Promise<void> {
  const state = initial;
  const inbox: BranchPush[] = [];

  const info = (): ProjectInfo | undefined =>
    state.remote === undefined
      ? undefined
      : {
          project: state.project,
          plan: state.plan,
          remote: state.remote,
          environments: Object.values(state.environments),
        };
  setHandler(projectInfoQuery, info);
  setHandler(projectReadyUpdate, async () => {
    await condition(() => state.remote !== undefined);
    return info()!;
  });
  setHandler(branchPushedSignal, (push) => {
    inbox.push(push);
  });

  if (state.remote === undefined) {
    const created = await git.createProjectRemote.executeWithOptions({ summary: 'create the Git remote' }, [
      { project: state.project, from: state.from },
    ]);
    for (const branch of MAIN_BRANCHES) {
      state.environments[branch] = {
        name: branch,
        type: environmentTypeOf(branch),
        status: branch === 'integration' ? 'active' : 'inactive',
        host: state.host,
      };
    }
    state.initialCommit = created.commit;
    await startEnvironment('integration', { commit: created.commit, pushedAt: Date.now() });
    state.remote = created.remote;
  }

  for (;;) {
    await condition(() => inbox.length > 0 || workflowInfo().continueAsNewSuggested);
    if (inbox.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof projectWorkflow>(state);
    }
    const push = inbox.shift()!;
    const env = state.environments[push.branch];
    if (env?.status === 'active' && push.after !== '0'.repeat(40)) {
      await getExternalWorkflowHandle(workflowIds.environment(state.project, push.branch)).signal(
        environmentPushSignal,
        { commit: push.after, pushedAt: push.pushedAt },
      );
    }
  }

  async function startEnvironment(name: string, pending?: { commit: string; pushedAt: number }): Promise<void> {
    const entry = state.environments[name]!;
    await startChild(environmentWorkflow, {
      workflowId: workflowIds.environment(state.project, name),
      args: [
        {
          project: state.project,
          environment: name,
          branch: name,
          host: entry.host,
          nextDeployment: 1,
          deployments: [],
          requests: [],
          pending,
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Environment ${name} of ${state.project} (${entry.type})`,
      typedSearchAttributes: [
        { key: SlipwayProject, value: state.project },
        { key: SlipwayEnvironment, value: name },
        { key: SlipwayKind, value: 'environment' },
      ],
    });
  }
}
