/**
 * Reads and validates the project files of a checked-out commit. Every problem names the
 * file, the key path and the reason; unknown keys are kept and ignored.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { appConfigSchema, zodIssues, type AppConfig, type ConfigIssue } from '../../domain/app-config';

export const APP_FILE = '.magento.app.yaml';

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: ConfigIssue[] };

export function parseYamlFile(dir: string, file: string): Parsed<unknown> | undefined {
  const full = path.join(dir, file);
  if (!fs.existsSync(full)) return undefined;
  const doc = parseDocument(fs.readFileSync(full, 'utf8'), { prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        file,
        path: '',
        reason: `invalid YAML at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  return { ok: true, value: doc.toJS() as unknown };
}

export function readAppConfig(dir: string): Parsed<AppConfig> {
  const raw = parseYamlFile(dir, APP_FILE);
  if (!raw) return { ok: false, issues: [{ file: APP_FILE, path: '', reason: 'file is missing' }] };
  if (!raw.ok) return raw;
  const parsed = appConfigSchema.safeParse(raw.value ?? {});
  if (!parsed.success) return { ok: false, issues: zodIssues(APP_FILE, parsed.error) };
  return { ok: true, value: parsed.data };
}
