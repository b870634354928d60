/**
 * One change at a time to an environment's runtime within a worker process: a deployment's
 * start of its services or application, a deactivation, and the supervisor's restarts queue
 * behind each other instead of starting the same process twice.
 */
import type { EnvironmentRef } from './services/environment';

const tails = new Map<string, Promise<unknown>>();

export async function withEnvironmentLock<T>(ref: EnvironmentRef, fn: () => Promise<T>): Promise<T> {
  const key = `${ref.layout.home}\0${ref.project}\0${ref.environment}`;
  const before = tails.get(key) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  try {
    return await run;
  } finally {
    if (tails.get(key) === tail) tails.delete(key);
  }
}
