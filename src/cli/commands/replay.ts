/** `slipway replay`: live workflows or saved histories replayed against the current workflow code. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlipwayError } from '../../errors';
import type { Cli } from '../context';

/** One line for a history that could not be fetched (no gRPC stack): unknown id, or the server's reason. */
function historyNotFetched(id: string, err: unknown): SlipwayError {
  const e = err as { name?: string; code?: number; message?: string; cause?: { code?: number; details?: string } };
  // gRPC NOT_FOUND (5), as a WorkflowNotFoundError or a bare ServiceError.
  if (e?.name === 'WorkflowNotFoundError' || e?.code === 5 || e?.cause?.code === 5) {
    return new SlipwayError(`no workflow ${JSON.stringify(id)} on the Temporal server (namespace default): ids look like deploy/<project>/<environment>/<n>`);
  }
  const reason = e?.cause?.details ?? (err instanceof Error ? err.message : String(err));
  return new SlipwayError(`the history of ${id} could not be fetched: ${reason.split('\n')[0]}`);
}

export function registerReplayCommand({ program, withClient }: Cli): void {
  program
    .command('replay [workflow-ids...]')
    .description('replay live workflows (by id) or saved histories (--file) against the current workflow code')
    .option('--workflow-id <ids...>', 'workflows whose history to fetch from the server')
    .option('--file <files...>', 'history JSON files (as written by `temporal workflow show --output json` or `--save`)')
    .option('--save <dir>', 'also save the live histories as JSON files in this directory')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExamples:\n  slipway replay --workflow-id deploy/shop/integration/3 env/shop/integration\n  slipway replay --file test/histories/*.json')
    .action(async (positional: string[], opts: { workflowId?: string[]; file?: string[]; save?: string; json: boolean }) => {
      const ids = [...positional, ...(opts.workflowId ?? [])];
      const { replayFile, replayHistoryJson, fetchHistoryJson } = await import('../../replay');
      const outcomes = [];
      for (const f of opts.file ?? []) outcomes.push(await replayFile(f));
      if (ids.length > 0) {
        await withClient(async (client) => {
          for (const id of ids) {
            const json = await fetchHistoryJson(client.temporal, id).catch((err: unknown) => {
              throw historyNotFetched(id, err);
            });
            if (opts.save) {
              fs.mkdirSync(opts.save, { recursive: true });
              fs.writeFileSync(path.join(opts.save, `${id.replace(/\//g, '_')}.json`), json);
            }
            outcomes.push(await replayHistoryJson(json, `live ${id}`, id));
          }
        });
      }
      if (outcomes.length === 0) throw new SlipwayError('nothing to replay: name workflow ids or --file', 2);
      if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
      else for (const o of outcomes) console.log(`${o.ok ? 'ok  ' : 'FAIL'} ${o.source}${o.error ? `: ${o.error}` : ''}`);
      if (outcomes.some((o) => !o.ok)) throw new SlipwayError('replay found non-determinism');
    });
}
