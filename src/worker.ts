/**
 * The Slipway worker: workflows and build activities on the engine's task queue, and the
 * release (deploy) activities on the task queue of one host.
 */
import { temporalConnectionOptions } from './temporal/connection-options';
import { Client, Connection, type ScheduleClient } from '@temporalio/client';
import { checkSandbox } from './sandbox/sandbox';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createEngineActivities, createHostActivities, localHostActivities } from './activities';
import { upgradeRemotes } from './activities/git';
import { heartbeatInterceptor } from './activities/lib/heartbeat';
import { timingInterceptors } from './activities/lib/timings';
import { workflowBundle } from './temporal/workflow-bundle';
import { DEFAULT_HOST, ENGINE_TASK_QUEUE, hostTaskQueue, workflowIds } from './domain/names';
import type { RuntimeRestart } from './domain/environment';
import { SlipwayKind } from './domain/search-attributes';
import { runtimeRestartedSignal } from './workflows/environment';
import { hostSupervisorWorkflow } from './workflows/host-supervisor';
import { supervisePass } from './activities/supervision';
import { protectControlPlane, type Layout } from './home';

export interface WorkerOptions {
  address: string;
  namespace?: string;
  layout: Layout;
  /** The host whose deploy activities this process runs. */
  host?: string;
  /** Also run workflows and build activities (the engine). Default true. */
  engine?: boolean;
  /** The port of the router on this host (warm-up and health checks go through it). */
  routerPort?: () => number | undefined;
  /** A bundle made once and shared (tests); made here when absent. */
  workflowBundle?: WorkflowBundleOption;
}

export interface RunningWorker {
  /** Resolves when the workers have stopped; rejects if one of them failed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

let runtimeInstalled = false;

/** SDK logs at WARN and above (SLIPWAY_LOG_LEVEL to change), without the expected noise. */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.SLIPWAY_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  const logger = new DefaultLogger(level, (entry) => {
    // A host worker runs activities only: that is by design, not a warning.
    if (entry.message.startsWith('No workflows registered')) return;
    console.error(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}`);
  });
  try {
    Runtime.install({ logger });
  } catch {
    /* a runtime exists already (installed by the embedding process) */
  }
}

/** The workflow code: the bundle `npm run build` made when it matches the sources, else bundled here. */
export { workflowBundle };

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  installRuntime();
  // Tenant hooks run in the sandbox, and nowhere else: a host that cannot make one says so now.
  await checkSandbox();
  protectControlPlane(options.layout);
  const connection = await NativeConnection.connect({ address: options.address, ...temporalConnectionOptions() });
  const namespace = options.namespace ?? 'default';
  const workers: Worker[] = [];
  const host = options.host ?? DEFAULT_HOST;
  const interceptors = { activity: [...timingInterceptors(), heartbeatInterceptor] };
  // A client of the same server for the crons' Schedules and the supervisor's signals, connected on first use.
  let scheduleConnection: Promise<Connection> | undefined;
  const client = async (): Promise<Client> => {
    scheduleConnection ??= Connection.connect({ address: options.address, ...temporalConnectionOptions() });
    return new Client({ connection: await scheduleConnection, namespace });
  };
  const schedules = async (): Promise<ScheduleClient> => (await client()).schedule;
  const recordRestart = async (project: string, environment: string, restart: RuntimeRestart): Promise<void> => {
    await (await client()).workflow.getHandle(workflowIds.environment(project, environment)).signal(runtimeRestartedSignal, restart);
  };
  const closeScheduleConnection = async (): Promise<void> => {
    if (scheduleConnection) await (await scheduleConnection).close();
  };
  const hostActivities = createHostActivities({ layout: options.layout, routerPort: options.routerPort ?? (() => undefined), recordRestart });
  // The environments this host runs are brought back now (what runs is adopted, what does not is
  // started), before the supervisor's activity is taken over from a worker that died; in the
  // background, so a host with many environments to start takes work meanwhile.
  const broughtBack = supervisePass({ layout: options.layout, recordRestart }, host, new Map()).then(
    () => undefined,
    (err: unknown) => {
      console.error(`warning: the environments of host ${host} could not all be brought back: ${err instanceof Error ? err.message : String(err)}`);
    },
  );
  if (options.engine !== false) {
    // Remotes made by an earlier version get this version's hooks and settings.
    const remotes = await upgradeRemotes(options.layout);
    for (const f of remotes.failed) console.error(`warning: remote not brought up to date: ${f}`);
    workers.push(
      await Worker.create({
        connection,
        namespace,
        taskQueue: ENGINE_TASK_QUEUE,
        workflowBundle: options.workflowBundle ?? (await workflowBundle()),
        // The engine's activities, and this host's short steps, which a deployment for this
        // host runs as local activities.
        activities: { ...createEngineActivities(options.layout, schedules), ...localHostActivities(host, hostActivities) },
        interceptors,
      }),
    );
  }
  workers.push(
    await Worker.create({
      connection,
      namespace,
      taskQueue: hostTaskQueue(host),
      activities: hostActivities,
      interceptors,
    }),
  );
  const running = workers.map((w) => w.run());
  // The host's supervisor: started once per host (a running one is kept).
  await (await client()).workflow
    .start(hostSupervisorWorkflow, {
      workflowId: workflowIds.hostSupervisor(host),
      taskQueue: ENGINE_TASK_QUEUE,
      args: [{ host }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Supervise the environment runtimes of host ${host}`,
      typedSearchAttributes: [{ key: SlipwayKind, value: 'host-supervisor' }],
    })
    .catch((err: unknown) => console.error(`warning: the supervisor of host ${host} could not be started: ${err instanceof Error ? err.message : String(err)}`));
  const done = Promise.all(running).then(
    async () => {
      await connection.close();
      await closeScheduleConnection();
    },
    async (err: unknown) => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await connection.close();
      await closeScheduleConnection();
      throw err;
    },
  );
  let stopping: Promise<void> | undefined;
  return {
    done,
    shutdown: () => {
      stopping ??= (async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await done;
        await broughtBack;
      })();
      return stopping;
    },
  };
}
