/**
 * 3. Static content deploy: the native SCD (src/magento/static-content.ts, as the
 * build and deploy activities call it) against `cp -r` of the same files
 * (bench/baseline/scd-cp.sh), on a generated store: a parent theme and a child theme with a
 * few thousand files, three locales, translations for one of them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { deployStaticContent } from '../../src/magento/static-content';
import { run } from '../lib/exec';
import { tempDir } from '../lib/projects';
import { figure } from '../lib/results';
import { scdJobFile, scdJobs } from '../lib/scd-jobs';
import { BASELINE_DIR } from '../lib/shell-baseline';
import type { Scenario } from './scenario';

const LOCALES = ['en_US', 'fr_FR', 'de_DE'];
const THREADS = 2;

/** A store with themes frontend/Bench/base (files) and frontend/Bench/child (overrides some). */
function generateStore(dir: string, files: number): { files: number } {
  const write = (rel: string, content: string): void => {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  };
  const body = (i: number): string => `/* asset ${i} */\n${'.rule-%d { color: #123456; margin: 0 auto; }\n'.replace('%d', String(i)).repeat(40)}`;
  const kinds = ['css', 'js', 'images', 'fonts', 'templates'];
  write('app/design/frontend/Bench/base/theme.xml', '<theme><title>Base</title></theme>\n');
  write('app/design/frontend/Bench/child/theme.xml', '<theme><title>Child</title><parent>Bench/base</parent></theme>\n');
  let n = 0;
  for (let i = 0; i < files; i++, n++) write(`app/design/frontend/Bench/base/web/${kinds[i % kinds.length]}/m${i % 40}/asset-${i}.css`, body(i));
  for (let i = 0; i < files / 5; i++, n++) write(`app/design/frontend/Bench/child/web/${kinds[i % kinds.length]}/m${i % 40}/asset-${i * 5}.css`, body(-i));
  for (let i = 0; i < files / 20; i++, n++) write(`app/design/frontend/Bench/base/web/i18n/fr_FR/js/m${i % 10}/t-${i}.js`, body(i));
  return { files: n };
}

export const staticContent: Scenario = {
  name: 'static-content',
  title: 'Static content deploy: native SCD vs cp -r of the same files',
  async run({ runs, warmup, log }) {
    const app = tempDir('scd');
    const sourceFiles = Number(process.env.SLIPWAY_BENCH_SCD_FILES ?? 3000);
    const generated = generateStore(app, sourceFiles);
    const themes = [
      { area: 'frontend', vendor: 'Bench', name: 'base' },
      { area: 'frontend', vendor: 'Bench', name: 'child' },
    ];
    const jobFile = path.join(tempDir('scd-jobs'), 'jobs.tsv');
    scdJobFile(scdJobs(app, themes, LOCALES), jobFile);
    const pubStatic = path.join(app, 'pub', 'static');
    let published = 0;
    const native = async (i: number): Promise<number> => {
      fs.rmSync(pubStatic, { recursive: true, force: true });
      const t0 = performance.now();
      const r = await deployStaticContent({ appDir: app, themes, locales: LOCALES, threads: THREADS, version: `bench-${i}` });
      const ms = performance.now() - t0;
      published = r.files;
      return ms;
    };
    const copy = async (): Promise<number> => {
      fs.rmSync(pubStatic, { recursive: true, force: true });
      return (await run('bash', [path.join(BASELINE_DIR, 'scd-cp.sh'), app, jobFile])).ms;
    };
    const nativeMs: number[] = [];
    const cpMs: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      let n: number;
      let c: number;
      if (i % 2 === 0) {
        n = await native(i);
        c = await copy();
      } else {
        c = await copy();
        n = await native(i);
      }
      log(`  static-content ${i < warmup ? 'warm-up' : `run ${i - warmup + 1}/${runs}`}: native ${n.toFixed(0)} ms, cp -r ${c.toFixed(0)} ms (${published} files published)`);
      if (i < warmup) continue;
      nativeMs.push(n);
      cpMs.push(c);
    }
    fs.rmSync(app, { recursive: true, force: true });
    return {
      figures: [
        figure('static-content', {
          id: 'scd',
          label: `native static content deploy (${published} files, ${LOCALES.length} locales, ${THREADS} threads)`,
          unit: 'ms',
          samples: nativeMs,
          baseline: { label: 'cp -r of the same files (bench/baseline/scd-cp.sh)', samples: cpMs },
          goal: { max: 1.5, on: 'ratio' },
        }),
      ],
      notes: [
        `Generated store: ${generated.files} source files in a parent and a child theme (${sourceFiles} base assets; SLIPWAY_BENCH_SCD_FILES to change), ${LOCALES.join(', ')}; both sides start from an empty pub/static. The native SCD is timed in-process; cp -r includes starting bash.`,
      ],
    };
  },
};
