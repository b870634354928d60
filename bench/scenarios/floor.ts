/**
 * The floor under the durability scenario's orchestration: a workflow with a cold
 * deployment's five hand-overs and nothing in them (bench/floor), run by a worker in the
 * benchmark's process on the same Temporal dev server. Started → closed is what Temporal
 * itself costs for that shape on this machine; Slipway's own figure to set beside it is the
 * durability scenario's "deployment workflow started → closed, minus its activities".
 */
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { installRuntime } from '../../src/worker';
import { floorActivities } from '../floor/activities';
import { figure } from '../lib/results';
import { eventMs } from '../lib/history';
import type { Scenario } from './scenario';

const TASK_QUEUE = 'bench-floor';
const quiet = { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: console.error, log: () => {} };

export const floor: Scenario = {
  name: 'floor',
  title: "Temporal's own floor: a cold deployment's five hand-overs with nothing in them",
  async run({ stack, runs, warmup, log }) {
    installRuntime(); // the SDK's logs at WARN, as Slipway's worker has them
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../floor/workflows'), logger: quiet });
    const connection = await NativeConnection.connect({ address: stack.temporalAddress });
    const worker = await Worker.create({ connection, taskQueue: TASK_QUEUE, workflowBundle: bundle, activities: floorActivities });
    const samples: number[] = [];
    try {
      await worker.runUntil(async () => {
        for (let i = 0; i < warmup + runs; i++) {
          const handle = await stack.client.temporal.workflow.start('deploymentShape', {
            taskQueue: TASK_QUEUE,
            workflowId: `bench-floor-${Date.now()}-${i}`,
          });
          await handle.result();
          const events = (await handle.fetchHistory()).events ?? [];
          const ms = eventMs(events[events.length - 1]!) - eventMs(events[0]!);
          log(`  floor ${i < warmup ? 'warm-up' : `run ${i - warmup + 1}/${runs}`}: ${ms.toFixed(0)} ms, ${events.length} events`);
          if (i >= warmup) samples.push(ms);
        }
      });
    } finally {
      await connection.close();
    }
    return {
      figures: [
        figure('floor', {
          id: 'shape',
          label: 'empty workflow with a deployment\'s hand-overs (2 local activities, 3 activities): started → closed',
          unit: 'ms',
          samples,
        }),
      ],
      notes: [
        "The worker runs in the benchmark's process with the SDK's default options, on the same dev server as Slipway's; its activities return at once. Compare with durability's \"deployment workflow started → closed, minus its activities\".",
      ],
    };
  },
};
