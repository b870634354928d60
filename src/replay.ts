/**
 * Replays workflow histories — saved files or live workflows — against the current workflow
 * code, to catch changes that would break running workflows (non-determinism).
 */
import * as fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { installRuntime, workflowBundle } from './worker';

export interface ReplayOutcome {
  source: string;
  workflowId: string;
  ok: boolean;
  error?: string;
}

export async function fetchHistoryJson(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return historyToJSON(history);
}

export async function replayHistoryJson(
  json: string,
  source: string,
  workflowId: string,
  bundle?: Awaited<ReturnType<typeof workflowBundle>>,
): Promise<ReplayOutcome> {
  installRuntime();
  try {
    await Worker.runReplayHistory(
      { workflowBundle: bundle ?? (await workflowBundle()), replayName: source },
      historyFromJSON(JSON.parse(json)),
      workflowId,
    );
    return { source, workflowId, ok: true };
  } catch (err) {
    return { source, workflowId, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export async function replayFile(file: string): Promise<ReplayOutcome> {
  const json = fs.readFileSync(file, 'utf8');
  return replayHistoryJson(json, file, file);
}

export async function replayLive(client: Client, workflowId: string): Promise<ReplayOutcome> {
  return replayHistoryJson(await fetchHistoryJson(client, workflowId), `live ${workflowId}`, workflowId);
}
