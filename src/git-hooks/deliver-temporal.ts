/** The hook's fallback: signal the project's workflow with the Temporal client directly. */
import { SlipwayClient } from '../client';
import { Layout, resolveHome } from '../home';
import type { RefUpdate } from '../domain/git-refs';

export async function deliverThroughTemporal(home: string, project: string, updates: RefUpdate[]): Promise<void> {
  const client = await SlipwayClient.connect({ layout: new Layout(resolveHome(home || undefined)) });
  try {
    for (const u of updates) await client.branchPushed(project, { ...u, pushedAt: Date.now() });
  } finally {
    await client.close();
  }
}
