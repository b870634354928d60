/**
 * The supervisor of one host's environment runtimes, id `host/<host>/supervisor`: one
 * long-running, heartbeating activity on the host's task queue that keeps every environment's
 * processes as its wanted state says (restarting what is down, recording each restart in that
 * environment's history). A worker that dies stops heartbeating; the attempt times out after
 * the heartbeat timeout and the next worker of the host takes it over. Each run of the
 * activity ends after an hour and the workflow continues as new, so its history stays short.
 */
import { makeContinueAsNewFunc } from '@temporalio/workflow';
import { hostTaskQueue } from '../domain/names';
import { SlipwayKind } from '../domain/search-attributes';
import { supervisorHost } from './activity-proxies';

export interface HostSupervisorInput {
  host: string;
}

export async function hostSupervisorWorkflow(input: HostSupervisorInput): Promise<void> {
  await supervisorHost(hostTaskQueue(input.host)).superviseRuntimes.executeWithOptions({ summary: `supervise the environments of host ${input.host}` }, [
    { host: input.host, forSeconds: 3600 },
  ]);
  // With its search attribute: a supervisor started before it was set at start gets it here.
  await makeContinueAsNewFunc<typeof hostSupervisorWorkflow>({ typedSearchAttributes: [{ key: SlipwayKind, value: 'host-supervisor' }] })(input);
}
