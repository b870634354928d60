/**
 * The floor of the benchmark's durability scenario: a workflow with the same hand-overs as a
 * cold deployment of the sample store (a local activity, an activity, a local activity, two
 * activities), each doing nothing. What it costs is the Temporal SDK's and server's own price
 * of that shape on this machine, with no Slipway code in it.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { FloorActivities } from './activities';

const remote = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

export async function deploymentShape(): Promise<void> {
  await local.nothing('prepare the build');
  await remote.nothing('build');
  await local.nothing('stage the release');
  await remote.nothing('deploy and switch');
  await remote.nothing('post-deploy and verify');
}
