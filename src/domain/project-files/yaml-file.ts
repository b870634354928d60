/**
 * Shared plumbing for the YAML project files: text → plain data, with every problem reported
 * as a ConfigIssue (file, dotted key path, reason). Pure TypeScript (no Node builtins): this
 * code is also bundled into Temporal workflow code.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { zodIssues, type ConfigIssue } from '../app-config';

/**
 * A parsed project file: the value, or the issues that stop it; either way its warnings, and its
 * notes (things worth knowing that need no change, such as a setting Slipway accepts and ignores).
 */
export type Parsed<T> =
  | { ok: true; value: T; warnings: ConfigIssue[]; notes: ConfigIssue[] }
  | { ok: false; issues: ConfigIssue[]; warnings: ConfigIssue[]; notes: ConfigIssue[] };

/** At most this many YAML errors are reported per file; a broken file can have thousands. */
const MAX_YAML_ISSUES = 10;
const TOO_DEEP = /Maximum call stack size exceeded/;
const TOO_DEEP_REASON = 'the document is nested too deeply to be a project file';

/** YAML text → plain data. Syntax errors become issues; an empty document is `{}`. */
export function parseYamlText(file: string, text: string): { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] } {
  // With prettyErrors off the messages stay one-liners; the line comes from the LineCounter.
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false });
  } catch (e) {
    const message = String((e as Error).message).split('\n')[0] ?? '';
    return { ok: false, issues: [{ file, path: '', reason: `invalid YAML: ${TOO_DEEP.test(message) ? TOO_DEEP_REASON : message}` }] };
  }
  if (doc.errors.length > 0) {
    // The parser reports a nesting too deep for its stack once per level: one issue says it.
    const deep = doc.errors.find((e) => TOO_DEEP.test(e.message));
    const errors = deep ? [deep] : doc.errors;
    const issues = errors.slice(0, MAX_YAML_ISSUES).map((e) => ({
      file,
      path: '',
      reason: `invalid YAML at line ${lineCounter.linePos(e.pos[0]).line}: ${deep ? TOO_DEEP_REASON : e.message.split('\n')[0]}`,
    }));
    if (errors.length > MAX_YAML_ISSUES) issues.push({ file, path: '', reason: `and ${errors.length - MAX_YAML_ISSUES} more YAML errors` });
    return { ok: false, issues };
  }
  try {
    return { ok: true, value: (doc.toJS() as unknown) ?? {} };
  } catch (e) {
    // toJS throws on alias bombs ("Excessive alias count …") and similar.
    const message = String((e as Error).message).split('\n')[0] ?? '';
    return { ok: false, issues: [{ file, path: '', reason: `invalid YAML: ${TOO_DEEP.test(message) ? TOO_DEEP_REASON : message}` }] };
  }
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "a list", "a string", … for reasons such as `must be a map, not a list`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'boolean') return 'true/false';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}

/** parseYamlText, plus: the top-level value must be a map (described by `what`). */
export function parseYamlMap(
  file: string,
  text: string,
  what: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; issues: ConfigIssue[] } {
  const raw = parseYamlText(file, text);
  if (!raw.ok) return raw;
  if (!isMap(raw.value)) {
    return { ok: false, issues: [{ file, path: '', reason: `must be ${what}, not ${describeValue(raw.value)}` }] };
  }
  return { ok: true, value: raw.value };
}

/** Joins key-path segments with dots, skipping empty ones. */
export function joinPath(...parts: (string | number)[]): string {
  return parts
    .map(String)
    .filter((p) => p !== '')
    .join('.');
}

/** zodIssues for a value found at `prefix` inside the file. */
export function zodIssuesAt(file: string, prefix: string, error: z.ZodError): ConfigIssue[] {
  return zodIssues(file, error).map((i) => ({ ...i, path: joinPath(prefix, i.path) }));
}
