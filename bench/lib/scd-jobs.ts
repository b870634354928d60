/**
 * The (theme, locale) jobs of a static content deploy, as the shell baselines need them: the
 * output directory and the theme's `web/` directories from the root ancestor to the theme
 * itself. Parents come from config.php's themes or else from theme.xml, as in the native SCD.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planFromProjectFiles, PROJECT_FILES, type ProjectFileTexts } from '../../src/domain/project-files';

export interface ScdJob {
  locale: string;
  /** Relative to the application root: pub/static/<area>/<Vendor>/<name>/<locale>. */
  out: string;
  /** Relative to the application root, root ancestor first. */
  webDirs: string[];
}

export function staticContentPlan(appDir: string) {
  const texts: ProjectFileTexts = {};
  for (const file of PROJECT_FILES) {
    const full = path.join(appDir, file);
    if (fs.existsSync(full)) texts[file] = fs.readFileSync(full, 'utf8');
  }
  const plan = planFromProjectFiles(texts);
  if (!plan.ok) throw new Error(`invalid project files in ${appDir}`);
  return plan.manifest;
}

export function scdJobs(appDir: string, themes: Array<{ area: string; vendor: string; name: string; parent?: string }>, locales: string[]): ScdJob[] {
  const design = path.join('app', 'design');
  const parentOf = (area: string, vendorName: string): string | undefined => {
    const given = themes.find((t) => t.area === area && `${t.vendor}/${t.name}` === vendorName);
    if (given?.parent) return given.parent;
    const xml = fs.readFileSync(path.join(appDir, design, area, vendorName, 'theme.xml'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    return /<parent>\s*([^<]*?)\s*<\/parent>/.exec(xml)?.[1] || undefined;
  };
  const jobs: ScdJob[] = [];
  for (const t of themes) {
    const chain: string[] = [];
    for (let vn: string | undefined = `${t.vendor}/${t.name}`; vn; vn = parentOf(t.area, vn)) chain.unshift(path.join(design, t.area, vn, 'web'));
    for (const locale of locales) jobs.push({ locale, out: path.join('pub', 'static', t.area, t.vendor, t.name, locale), webDirs: chain });
  }
  return jobs;
}

/** One line per job for the shell scripts: locale, output directory, web directories (tab-separated). */
export function scdJobFile(jobs: ScdJob[], file: string): void {
  fs.writeFileSync(file, jobs.map((j) => [j.locale, j.out, ...j.webDirs].join('\t')).join('\n') + '\n');
}
