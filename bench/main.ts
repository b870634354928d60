/**
 * `npm run bench`: starts its own stack (Temporal dev server, a worker process with its
 * router, the API) on a temporary SLIPWAY_HOME, runs the scenarios of issue 7, prints a table
 * and writes the figures as JSON (default bench/results/latest.json). `npm run bench:report`
 * turns that JSON into BENCHMARKS.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { PACKAGE_ROOT } from '../src/home';
import { machineInfo } from './lib/machine';
import { removeTempDirs } from './lib/projects';
import type { BenchReport, ScenarioResult } from './lib/results';
import { startBenchStack } from './lib/stack';
import { table } from './lib/table';
import { cluster } from './scenarios/cluster';
import { data } from './scenarios/data';
import { durability } from './scenarios/durability';
import { floor } from './scenarios/floor';
import { maintenance } from './scenarios/maintenance';
import { pushToLive } from './scenarios/push-to-live';
import { runtime } from './scenarios/runtime';
import { sandbox } from './scenarios/sandbox';
import { scale } from './scenarios/scale';
import { slugReuse } from './scenarios/slug-reuse';
import { staticContent } from './scenarios/static-content';
import type { Scenario } from './scenarios/scenario';

export const SCENARIOS: Scenario[] = [durability, floor, slugReuse, staticContent, maintenance, scale, pushToLive, sandbox, runtime, data, cluster];

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

interface Options {
  runs: number;
  warmup: number;
  only?: string[];
  out: string;
  scale: number[];
  scaleRuns: number;
  ephemeral: boolean;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench --')
    .description('Slipway benchmarks (issue 7): every figure is a median over --runs runs, each ratio against a baseline measured in the same run')
    .option('--runs <n>', 'measured runs per figure', positiveInt, 9)
    .option('--warmup <n>', 'unmeasured runs before them (the worker warms up: JIT, caches)', (v) => (v === '0' ? 0 : positiveInt(v)), 2)
    .option('--only <names>', `comma-separated scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`, (v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--out <file>', 'where to write the JSON', path.join(PACKAGE_ROOT, 'bench', 'results', 'latest.json'))
    .option('--scale <counts>', 'environment counts deploying at once (scale scenario)', (v) => v.split(',').map((s) => positiveInt(s.trim())), [1, 10, 50])
    .option('--scale-runs <n>', 'runs per environment count in the scale scenario', positiveInt, 5)
    .option('--ephemeral', "keep Temporal's state in memory instead of a SQLite file (slipway up uses the file)", false)
    .addHelpText('after', '\nExamples:\n  npm run bench\n  npm run bench -- --runs 1 --warmup 0 --only durability,maintenance');
  program.parse(process.argv);
  const opts = program.opts<Options>();
  const unknown = (opts.only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) program.error(`unknown scenario(s): ${unknown.join(', ')}`);
  const selected = SCENARIOS.filter((s) => !opts.only || opts.only.includes(s.name));

  const log = (line: string): void => console.error(line);
  const startedAt = new Date();
  const stack = await startBenchStack(log, { ephemeral: opts.ephemeral });
  const results: ScenarioResult[] = [];
  try {
    for (const s of selected) {
      log(`== ${s.name}: ${s.title}`);
      const t0 = Date.now();
      const r = await s.run({ stack, runs: opts.runs, warmup: opts.warmup, scale: opts.scale, scaleRuns: opts.scaleRuns, log });
      results.push({ name: s.name, title: s.title, runs: opts.runs, durationMs: Date.now() - t0, ...r });
      log(`== ${s.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await stack.stop();
    removeTempDirs();
  }
  const args = process.argv.slice(2);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
    options: { ...opts },
    machine: machineInfo(stack.temporalSource),
    scenarios: results,
  };
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  fs.writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(table(results.flatMap((r) => r.figures)));
  for (const r of results) for (const n of r.notes) console.log(`note (${r.name}): ${n}`);
  console.log(`\nJSON: ${path.relative(process.cwd(), path.resolve(opts.out))} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s); BENCHMARKS.md: npm run bench:report`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
