/**
 * One run of one cron of one environment, started by its Temporal Schedule
 * (`cron/<project>/<environment>/<name>`, overlap: skip): the command runs on the environment's
 * host, in its sandbox, in the release the Schedule was synced to. Each run is its own
 * workflow, so the Temporal UI lists every run with its outcome; a failed run fails its
 * workflow with the command's message.
 */
import type { CronRunInput, CronRunResult } from '../domain/crons';
import { hostTaskQueue } from '../domain/names';
import { cronHost } from './activity-proxies';

export async function cronRunWorkflow(input: CronRunInput): Promise<CronRunResult> {
  return cronHost(hostTaskQueue(input.host)).runCron.executeWithOptions({ summary: `cron ${input.name}` }, [input]);
}
