/**
 * One control group per sandbox run, holding every process of the run: its memory and
 * process limits, its CPU use (for silence detection), what limit it hit, and a way to stop
 * all of it. cgroup v1 (a hierarchy per controller: memory, pids, cpuacct) or v2 (one unified
 * hierarchy), whichever the host mounts. Needs root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** The parent of every sandbox's group, in each hierarchy. */
const PARENT = 'slipway';

export interface CgroupLimits {
  memoryBytes: number;
  processes: number;
}

export interface CgroupUsage {
  /** CPU time used by every process of the group so far, in nanoseconds (when measured). */
  cpuNs?: number;
  /** Processes the kernel killed for memory. */
  oomKills: number;
  /** Forks refused at the process limit. */
  processLimitHits: number;
}

type Version = 'v1' | 'v2';

function detect(): Version | undefined {
  if (fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))) return 'v2';
  if (fs.existsSync(path.join(CGROUP_ROOT, 'memory', 'cgroup.procs')) && fs.existsSync(path.join(CGROUP_ROOT, 'pids', 'cgroup.procs'))) return 'v1';
  return undefined;
}

export class CgroupUnavailableError extends Error {
  constructor(why: string) {
    super(
      `cannot limit the sandbox's memory and processes: ${why}. Slipway needs root and cgroup v1 (memory and pids controllers) or cgroup v2 mounted at ${CGROUP_ROOT}`,
    );
    this.name = 'CgroupUnavailableError';
  }
}

const write = (file: string, value: string): void => fs.writeFileSync(file, value);

function readNumberField(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field} (\\d+)$`, 'm').exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pidsOf(procsFile: string): number[] {
  try {
    return fs
      .readFileSync(procsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export class SandboxCgroup {
  private constructor(
    readonly version: Version,
    /** The group's directory in each hierarchy, by controller (v2: one, under 'unified'). */
    private readonly dirs: Record<string, string>,
  ) {}

  /** The group of a run, whether or not it exists (to clean up after a dead worker). */
  static named(name: string): SandboxCgroup | undefined {
    const version = detect();
    if (!version) return undefined;
    return version === 'v2'
      ? new SandboxCgroup('v2', { unified: path.join(CGROUP_ROOT, PARENT, name) })
      : new SandboxCgroup('v1', {
          memory: path.join(CGROUP_ROOT, 'memory', PARENT, name),
          pids: path.join(CGROUP_ROOT, 'pids', PARENT, name),
          cpuacct: path.join(CGROUP_ROOT, 'cpuacct', PARENT, name),
        });
  }

  /**
   * The names of the groups that exist now and start with `prefix` (to find what a dead
   * worker left running: long-running services are found by their group's name).
   */
  static list(prefix: string): string[] {
    const version = detect();
    if (!version) return [];
    const parent = version === 'v2' ? path.join(CGROUP_ROOT, PARENT) : path.join(CGROUP_ROOT, 'pids', PARENT);
    try {
      return fs
        .readdirSync(parent, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith(prefix))
        .map((e) => e.name)
        .sort();
    } catch {
      return [];
    }
  }

  /** Whether the group exists (in every hierarchy it is made in). */
  exists(): boolean {
    return Object.values(this.dirs).every((d) => fs.existsSync(d));
  }

  /** Makes the group with its limits (a group of the same name left by a dead run is emptied and reused). */
  static create(name: string, limits: CgroupLimits): SandboxCgroup {
    const group = SandboxCgroup.named(name);
    if (!group) throw new CgroupUnavailableError(`no cgroup hierarchy with memory and pids is mounted at ${CGROUP_ROOT}`);
    try {
      group.make(limits);
    } catch (err) {
      group.remove();
      throw new CgroupUnavailableError(err instanceof Error ? err.message : String(err));
    }
    return group;
  }

  private make(limits: CgroupLimits): void {
    if (this.version === 'v2') {
      const parent = path.dirname(this.dirs.unified!);
      fs.mkdirSync(parent, { recursive: true });
      // Controllers are handed down level by level; the root's processes are exempt from the
      // "no processes in inner groups" rule, and the parent holds none.
      write(path.join(CGROUP_ROOT, 'cgroup.subtree_control'), '+memory +pids +cpu');
      write(path.join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu');
      fs.mkdirSync(this.dirs.unified!, { recursive: true });
      write(path.join(this.dirs.unified!, 'memory.max'), String(limits.memoryBytes));
      if (fs.existsSync(path.join(this.dirs.unified!, 'memory.swap.max'))) write(path.join(this.dirs.unified!, 'memory.swap.max'), '0');
      write(path.join(this.dirs.unified!, 'pids.max'), String(limits.processes));
      return;
    }
    for (const dir of Object.values(this.dirs)) {
      this.empty(dir);
      fs.mkdirSync(dir, { recursive: true });
    }
    write(path.join(this.dirs.memory!, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // No swapping past the limit either (the file exists where swap accounting is on).
    const memsw = path.join(this.dirs.memory!, 'memory.memsw.limit_in_bytes');
    if (fs.existsSync(memsw)) write(memsw, String(limits.memoryBytes));
    write(path.join(this.dirs.pids!, 'pids.max'), String(limits.processes));
  }

  /** The files a process writes its pid into to join the group (one per hierarchy). */
  get procsFiles(): string[] {
    return Object.values(this.dirs)
      .filter((d) => fs.existsSync(d))
      .map((d) => path.join(d, 'cgroup.procs'));
  }

  /** The processes in the group now. */
  pids(): number[] {
    return pidsOf(path.join(this.version === 'v2' ? this.dirs.unified! : this.dirs.pids!, 'cgroup.procs'));
  }

  usage(): CgroupUsage {
    if (this.version === 'v2') {
      const d = this.dirs.unified!;
      const usec = readNumberField(path.join(d, 'cpu.stat'), 'usage_usec');
      return {
        cpuNs: fs.existsSync(path.join(d, 'cpu.stat')) ? usec * 1000 : undefined,
        oomKills: readNumberField(path.join(d, 'memory.events'), 'oom_kill'),
        processLimitHits: readNumberField(path.join(d, 'pids.events'), 'max'),
      };
    }
    let cpuNs: number | undefined;
    try {
      cpuNs = Number(fs.readFileSync(path.join(this.dirs.cpuacct!, 'cpuacct.usage'), 'utf8').trim());
    } catch {
      cpuNs = undefined;
    }
    return {
      cpuNs,
      oomKills: readNumberField(path.join(this.dirs.memory!, 'memory.oom_control'), 'oom_kill'),
      processLimitHits: readNumberField(path.join(this.dirs.pids!, 'pids.events'), 'max'),
    };
  }

  /** Sends a signal to every process of the group; the number signalled. */
  signalAll(signal: NodeJS.Signals): number {
    let n = 0;
    for (const pid of this.pids()) {
      try {
        process.kill(pid, signal);
        n++;
      } catch {
        /* it ended meanwhile */
      }
    }
    return n;
  }

  /** Kills every process of the group, until none is left (v1 has no cgroup.kill); the number found. */
  killAll(): number {
    const killFile = this.version === 'v2' ? path.join(this.dirs.unified!, 'cgroup.kill') : undefined;
    const first = this.pids().length;
    for (let i = 0; i < 100; i++) {
      if (this.pids().length === 0) break;
      if (killFile && fs.existsSync(killFile)) write(killFile, '1');
      else this.signalAll('SIGKILL');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    return first;
  }

  private empty(dir: string): void {
    const procs = pidsOf(path.join(dir, 'cgroup.procs'));
    for (const pid of procs) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (procs.length > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }

  /** Removes the group (its processes killed first). */
  remove(): void {
    this.killAll();
    for (const dir of Object.values(this.dirs)) {
      for (let i = 0; i < 500; i++) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          // EBUSY: the last processes are still exiting (usually well under a millisecond).
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        }
      }
    }
  }
}
