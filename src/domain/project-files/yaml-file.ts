/**
 * Shared plumbing for the YAML project files: text → plain data, with every problem reported
 * as a ConfigIssue (file, dotted key path, reason). Pure TypeScript (no Node builtins): this
 * code is also bundled into Temporal workflow code.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { zodIssues, type ConfigIssue } from '../app-config';

/** A parsed project file: the value, or the issues that stop it; warnings either way. */
export type Parsed<T> = { ok: true; value: T; warnings: ConfigIssue[] } | { ok: false; issues: ConfigIssue[]; warnings: ConfigIssue[] };

/** YAML text → plain data. Syntax errors become issues; an empty document is `{}`. */
export function parseYamlText(file: string, text: string): { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] } {
  // With prettyErrors off the messages stay one-liners; the line comes from the LineCounter.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        file,
        path: '',
        reason: `invalid YAML at line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  try {
    return { ok: true, value: (doc.toJS() as unknown) ?? {} };
  } catch (e) {
    // toJS throws on alias bombs ("Excessive alias count …") and similar.
    return { ok: false, issues: [{ file, path: '', reason: `invalid YAML: ${String((e as Error).message).split('\n')[0]}` }] };
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
