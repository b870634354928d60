/**
 * What the client's operations (src/client-lib/*) share: the Temporal client and the home's
 * layout they act through, and the wait between polls.
 */
import type { Client } from '@temporalio/client';
import { SlipwayError } from '../errors';
import type { Layout } from '../home';
import type { Identities } from '../identities';

/** The SlipwayClient as its operations see it. */
export interface ClientContext {
  readonly temporal: Client;
  readonly layout: Layout;
  /** Users and their roles per project (read again on every call, so edits apply at once). */
  identities(): Identities;
}

export type WorkflowHandle = ReturnType<Client['workflow']['getHandle']>;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `done` every 100 ms until it says so; refused once `timeoutMs` has passed. */
export async function until(done: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new SlipwayError(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
