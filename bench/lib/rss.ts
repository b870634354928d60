/**
 * Peak resident memory of a process (the worker): its kernel high-water mark VmHWM, reset
 * before a measurement through /proc/<pid>/clear_refs where allowed, and VmRSS sampled every
 * 100 ms as a cross-check.
 */
import * as fs from 'node:fs';

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

export interface RssWatch {
  /** Peak in MB since start: the high-water mark when it could be reset, else the sampled peak. */
  stop(): { peakMb: number; sampledPeakMb: number; hwmReset: boolean };
}

export function watchRss(pid: number): RssWatch {
  let hwmReset = false;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); // 5: reset the peak RSS (Linux ≥ 4.0)
    hwmReset = true;
  } catch {
    /* not permitted here: the sampled peak is used */
  }
  let sampled = statusKb(pid, 'VmRSS');
  const timer = setInterval(() => {
    try {
      sampled = Math.max(sampled, statusKb(pid, 'VmRSS'));
    } catch {
      /* exited */
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      const hwm = statusKb(pid, 'VmHWM');
      const sampledPeakMb = sampled / 1024;
      return { peakMb: hwmReset ? Math.max(hwm / 1024, sampledPeakMb) : sampledPeakMb, sampledPeakMb, hwmReset };
    },
  };
}
