/**
 * A client hammering the router: one GET at a time, a new one every `intervalMs` (or as soon
 * as the previous one returns, when that takes longer), each recorded with when it was sent,
 * its status and whether its body held a marker.
 */
import * as http from 'node:http';
import { nowMs } from './projects';

export interface ProbeSample {
  sentMs: number;
  doneMs: number;
  /** HTTP status, or 0 for a request that failed (connection error, timeout). */
  status: number;
  marked: boolean;
  error?: string;
}

export interface Probe {
  samples: ProbeSample[];
  stop(): Promise<ProbeSample[]>;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export function get(port: number, host: string, urlPath: string, marker?: string): Promise<ProbeSample> {
  const sentMs = nowMs();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ sentMs, doneMs: nowMs(), status: res.statusCode ?? 0, marked: marker !== undefined && body.includes(marker) }),
      );
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ sentMs, doneMs: nowMs(), status: 0, marked: false, error: err.message }));
  });
}

export function startProbe(options: {
  port: number;
  host: string;
  path?: string;
  intervalMs: number;
  marker?: string;
  /** The probe stops at the first sample that satisfies this; `reached` resolves with it. */
  until?: (s: ProbeSample) => boolean;
}): Probe & { reached: Promise<ProbeSample | undefined> } {
  const samples: ProbeSample[] = [];
  let stopped = false;
  const loop = (async (): Promise<ProbeSample | undefined> => {
    while (!stopped) {
      const s = await get(options.port, options.host, options.path ?? '/', options.marker);
      samples.push(s);
      if (options.until?.(s)) return s;
      const wait = options.intervalMs - (nowMs() - s.sentMs);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return undefined;
  })();
  return {
    samples,
    reached: loop,
    stop: async () => {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/** Resolves with the first sample that satisfies `until`; fails after `timeoutMs`. */
export async function probeUntil(options: {
  port: number;
  host: string;
  path?: string;
  intervalMs: number;
  marker?: string;
  timeoutMs: number;
  until: (s: ProbeSample) => boolean;
}): Promise<ProbeSample> {
  const probe = startProbe(options);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), options.timeoutMs)));
  const hit = await Promise.race([probe.reached, timeout]);
  clearTimeout(timer);
  await probe.stop();
  if (!hit) throw new Error(`probe of ${options.host}: nothing satisfied the condition within ${options.timeoutMs} ms`);
  return hit;
}
