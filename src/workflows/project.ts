/**
 * A project's entity workflow, id `project/<project>`: it creates the project's remote, owns
 * the environment registry (types, parents, active or inactive, the plan's limit), and routes
 * pushes to the environments' workflows. Every operation that can be refused is an Update with
 * a validator: the caller gets the reason at once and the registry does not change.
 *
 * Its parts, by concern, under ./project/: the environment registry (environments.ts), SSH
 * keys (ssh-keys.ts), promotion gating (promotions.ts) and ticket numbers (tickets.ts). Each
 * registers its own handlers on the shared context (context.ts); the rules they apply are pure
 * functions in domain/project-rules.ts.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  log,
  setDefaultSignalHandler,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { environmentTypeOf, MAIN_BRANCHES, workflowIds } from '../domain/names';
import { countActiveIntegration, hostFieldsFor, hostRoleOf, PLANS, projectHosts, type BranchPush, type ProjectInfo, type ProjectState } from '../domain/project';
import { isObject } from '../domain/project-rules';
import type { TicketRecord } from '../domain/tickets';
import { projectGit as git } from './activity-proxies';
import { projectContext } from './project/context';
import { registerEnvironments, routePush, startEnvironment } from './project/environments';
import { registerPromotions } from './project/promotions';
import { registerSshKeys } from './project/ssh-keys';
import { registerVariables, settleVariableTicket, type VariableSettlement } from './project/variables';
import { registerDataRefreshes, settleDataRefresh } from './project/data-refresh';
import { internalSignal, RETIRED_SIGNAL_NAMES, ticketClosedSignal, ticketOutcomeSignal } from './ticket';
import { registerTickets } from './project/tickets';

// Every signal, query and update this workflow handles, for its callers.
export {
  activateUpdate,
  branchUpdate,
  deactivateUpdate,
  deleteUpdate,
  mergeUpdate,
  syncUpdate,
  type BranchRequest,
  type EnvironmentRequest,
  type MergeResult,
} from './project/environments';
export { promoteUpdate, type PromoteRequest } from './project/promotions';
export { requestSshKeyRemovalUpdate, requestSshKeyUpdate, type SshKeyTicketRequest } from './project/ssh-keys';
export { requestVariableChangeUpdate, type VariableTicketRequest } from './project/variables';
export { requestDataRefreshUpdate } from './project/data-refresh';
export { allocateTicketUpdate } from './project/tickets';
export { promotionClosedSignal } from './project-signals';

/** Resolves once the project's remote exists; returns where it is. */
export const projectReadyUpdate = defineUpdate<ProjectInfo>('awaitReady');
export const projectInfoQuery = defineQuery<ProjectInfo | undefined>('project');
/** Sent by the remote's post-receive hook for every updated branch. */
export const branchPushedSignal = defineSignal<[BranchPush]>('branchPushed');

export async function projectWorkflow(initial: ProjectState): Promise<void> {
  const state = initial;
  const inbox: BranchPush[] = [];
  const ctx = projectContext(state);
  const { outbox } = ctx;
  const settlements: VariableSettlement[] = [];
  const refreshes: Array<{ ticket: number; approved: boolean }> = [];

  const info = (): ProjectInfo | undefined =>
    state.remote === undefined
      ? undefined
      : {
          project: state.project,
          plan: state.plan,
          hosts: projectHosts(state),
          productionApprovals: state.productionApprovals ?? 1,
          remote: state.remote,
          environments: Object.values(state.environments),
          activeIntegration: countActiveIntegration(state.environments),
          activeIntegrationLimit: PLANS[state.plan].activeIntegrationLimit,
          sshKeys: state.sshKeys ?? {},
        };
  setHandler(projectInfoQuery, info);
  setHandler(projectReadyUpdate, async () => {
    await condition(() => state.remote !== undefined);
    return info()!;
  });
  setHandler(
    branchPushedSignal,
    (push) => {
      if (isObject(push)) inbox.push(push); // anything else (a hand-made signal) names no branch
    },
    { description: "Internal (sent by the remote's post-receive hook for each updated branch). Not an operator action: push to the branch." },
  );

  // The Updates' handlers are registered only now that the context (and its rules) exists: an
  // Update buffered before this run started (e.g. across continue-as-new) is delivered the
  // moment its handler is set, and its validator needs them. The order of registration is that
  // of the histories: SSH keys, promotions, tickets, then the registry.
  const sshKeyTicketClosed = registerSshKeys(ctx);
  const variableTicketClosed = registerVariables(ctx, settlements);
  const dataRefreshClosed = registerDataRefreshes(ctx, refreshes);
  /** A ticket of the project closed: an SSH key recorded, a variable change to apply (or drop). */
  const ticketClosed = (t: TicketRecord): void => {
    if (!isObject(t)) return;
    sshKeyTicketClosed(t);
    variableTicketClosed(t);
    dataRefreshClosed(t);
  };
  setHandler(ticketClosedSignal, ticketClosed, { description: 'Internal (sent by a ticket of the project when it closes). Not an operator action: decide the ticket/… workflow instead.' });
  registerPromotions(ctx);
  registerTickets(ctx);
  registerEnvironments(ctx);
  // Last, so every named handler is set first: the retired name of ticketClosed (runs and
  // histories of before) is still honoured, and not listed in the UI.
  setDefaultSignalHandler((name, ...args) => {
    if (name === RETIRED_SIGNAL_NAMES[ticketClosedSignal.name]) ticketClosed(args[0] as TicketRecord);
    else log.warn(`signal ${JSON.stringify(name)} is not one a project takes: ignored`);
  });

  if (state.remote === undefined) {
    const created = await git.createProjectRemote.executeWithOptions({ summary: 'create the Git remote' }, [
      // The plan goes with it: the sandbox's limits default to the plan's (an argument only:
      // replay compares no activity input, so no patch).
      { project: state.project, from: state.from, plan: state.plan },
    ]);
    for (const branch of MAIN_BRANCHES) {
      state.environments[branch] = {
        name: branch,
        type: environmentTypeOf(branch),
        status: branch === 'integration' ? 'active' : 'inactive',
        ...hostFieldsFor(state, hostRoleOf(environmentTypeOf(branch))),
      };
    }
    state.initialCommit = created.commit;
    state.environments.integration!.started = true;
    await startEnvironment(state, 'integration', { commit: created.commit, pushedAt: Date.now() });
    state.remote = created.remote;
  }

  for (;;) {
    await condition(() => inbox.length > 0 || outbox.length > 0 || settlements.length > 0 || refreshes.length > 0 || workflowInfo().continueAsNewSuggested);
    const settlement = settlements.shift();
    if (settlement) {
      await settleVariableTicket(ctx, settlement);
      continue;
    }
    const refresh = refreshes.shift();
    if (refresh) {
      await settleDataRefresh(ctx, refresh);
      continue;
    }
    const told = outbox.shift();
    if (told) {
      await getExternalWorkflowHandle(workflowIds.ticket(state.project, told.ticket)).signal(internalSignal(ticketOutcomeSignal), { outcome: told.outcome });
      continue;
    }
    if (inbox.length === 0) {
      await condition(allHandlersFinished);
      // A ticket decided meanwhile is settled first (its change would not survive continue-as-new).
      if (settlements.length > 0 || refreshes.length > 0) continue;
      await continueAsNew<typeof projectWorkflow>(state);
    }
    const push = inbox.shift()!;
    await routePush(ctx, push);
  }
}
