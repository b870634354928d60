/**
 * A worker as its own process, for the fault-injection tests to kill with SIGKILL and start
 * again. It runs the same `startWorker` as `slipway worker`, with the workflow bundle the
 * harness made once (so a restart takes a second, not a bundling).
 * Environment: SLIPWAY_HOME, SLIPWAY_CHAOS_ADDRESS, SLIPWAY_CHAOS_BUNDLE, SLIPWAY_CHAOS_ROUTER_PORT.
 */
import { Layout } from '../../src/home';
import { startWorker } from '../../src/worker';

async function main(): Promise<void> {
  const layout = new Layout(process.env.SLIPWAY_HOME!);
  const routerPort = Number(process.env.SLIPWAY_CHAOS_ROUTER_PORT);
  const worker = await startWorker({
    address: process.env.SLIPWAY_CHAOS_ADDRESS!,
    layout,
    routerPort: () => routerPort,
    workflowBundle: { codePath: process.env.SLIPWAY_CHAOS_BUNDLE! },
  });
  console.log(`worker ${process.pid} running`);
  process.once('SIGTERM', () => void worker.shutdown());
  await worker.done;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
