/**
 * What tenant code may use in its sandbox: memory, processes, CPU time, file size, and how
 * long each kind of hook may run (and stay silent). A default per plan, overridden per
 * project by the operator's `SLIPWAY_HOME/sandbox.yaml`, never by the tenant's own files.
 * Pure: parsing and resolution only.
 */
import { z } from 'zod';
import { PLANS, type Plan } from './project';

/** What runs in a sandbox with a time limit: the three hooks, and each run of a cron. */
export type HookKind = 'build' | 'deploy' | 'post_deploy' | 'cron';
export const HOOK_KINDS: readonly HookKind[] = ['build', 'deploy', 'post_deploy', 'cron'];

export interface SandboxLimits {
  /** Memory of the whole sandbox (every process in it), in bytes: a cgroup limit. */
  memoryBytes: number;
  /** Processes and threads alive at once in the sandbox: a cgroup limit. */
  processes: number;
  /** CPU time of each process, in seconds (RLIMIT_CPU). */
  cpuSeconds: number;
  /** Largest file a process may write, in bytes (RLIMIT_FSIZE). */
  fileSizeBytes: number;
  /** Wall-clock time a hook may run, per kind, in seconds. */
  timeoutSeconds: Record<HookKind, number>;
  /** A hook that prints nothing and uses no CPU for this long is stopped, in seconds. */
  silenceSeconds: number;
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** The built-in defaults, per plan. */
export const PLAN_SANDBOX_LIMITS: Record<Plan, SandboxLimits> = {
  pro: {
    memoryBytes: 2 * GIB,
    processes: 512,
    cpuSeconds: 30 * 60,
    fileSizeBytes: 4 * GIB,
    timeoutSeconds: { build: 30 * 60, deploy: 15 * 60, post_deploy: 10 * 60, cron: 30 * 60 },
    silenceSeconds: 10 * 60,
  },
  enterprise: {
    memoryBytes: 4 * GIB,
    processes: 1024,
    cpuSeconds: 30 * 60,
    fileSizeBytes: 8 * GIB,
    timeoutSeconds: { build: 30 * 60, deploy: 15 * 60, post_deploy: 10 * 60, cron: 30 * 60 },
    silenceSeconds: 10 * 60,
  },
};

/**
 * The longest a hook may be allowed to run: the hook activities' start-to-close timeout is 60
 * minutes, and the hook must fail on its own limit, with its message, before that.
 */
export const MAX_HOOK_SECONDS = 55 * 60;

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, kib: 1024, m: MIB, mib: MIB, g: GIB, gib: GIB, kb: 1000, mb: 1e6, gb: 1e9 };
const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600 };

/** "512MiB", "2GiB", "1.5G", or a number of bytes. */
export const sizeSchema = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a size: write a number with B, KiB, MiB or GiB (e.g. 512MiB)` });
    return z.NEVER;
  }
  return Math.floor(Number(m[1]) * unit);
});

/** "30m", "90s", "1h", or a number of seconds. */
export const durationSchema = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = DURATION_UNITS[(m?.[2] ?? '').toLowerCase() || 's'];
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: write a number with s, m or h (e.g. 15m)` });
    return z.NEVER;
  }
  return Number(m[1]) * unit;
});

const hookTime = durationSchema.refine((s) => s <= MAX_HOOK_SECONDS, {
  message: `at most ${MAX_HOOK_SECONDS / 60} minutes (a hook's activity ends at 60)`,
});

const limitsOverride = z
  .object({
    memory: sizeSchema.refine((b) => b >= 16 * MIB, 'at least 16MiB').optional(),
    processes: z.number().int().min(8, 'at least 8').max(65536).optional(),
    cpu_time: durationSchema.optional(),
    file_size: sizeSchema.optional(),
    timeouts: z
      .object({ build: hookTime.optional(), deploy: hookTime.optional(), post_deploy: hookTime.optional(), cron: hookTime.optional() })
      .strict()
      .optional(),
    silence: durationSchema.optional(),
  })
  .strict();

const planNames = Object.keys(PLANS) as [Plan, ...Plan[]];

export const sandboxConfigSchema = z
  .object({
    plans: z.partialRecord(z.enum(planNames), limitsOverride).default({}),
    projects: z.record(z.string(), limitsOverride.extend({ plan: z.enum(planNames).optional() }).strict()).default({}),
  })
  .strict();
export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;

function apply(base: SandboxLimits, o: z.infer<typeof limitsOverride> | undefined): SandboxLimits {
  if (!o) return base;
  return {
    memoryBytes: o.memory ?? base.memoryBytes,
    processes: o.processes ?? base.processes,
    cpuSeconds: o.cpu_time ?? base.cpuSeconds,
    fileSizeBytes: o.file_size ?? base.fileSizeBytes,
    timeoutSeconds: {
      build: o.timeouts?.build ?? base.timeoutSeconds.build,
      deploy: o.timeouts?.deploy ?? base.timeoutSeconds.deploy,
      post_deploy: o.timeouts?.post_deploy ?? base.timeoutSeconds.post_deploy,
      cron: o.timeouts?.cron ?? base.timeoutSeconds.cron,
    },
    silenceSeconds: o.silence ?? base.silenceSeconds,
  };
}

/** A project's limits: its plan's defaults, the operator's plan override, then the project's own. */
export function resolveSandboxLimits(config: SandboxConfig, project: string, knownPlan?: Plan): { plan: Plan; limits: SandboxLimits } {
  const own = config.projects[project];
  const plan = own?.plan ?? knownPlan ?? 'pro';
  return { plan, limits: apply(apply(PLAN_SANDBOX_LIMITS[plan], config.plans[plan]), own) };
}

/** "512 MiB", "2 GiB", "1000 B". */
export function formatSize(bytes: number): string {
  if (bytes >= GIB && bytes % (GIB / 4) === 0) return `${bytes / GIB} GiB`;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** "15 min", "90 s", "1 h". */
export function formatDuration(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
