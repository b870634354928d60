/**
 * `crons:` of `.magento.app.yaml`, as Magento Cloud writes it:
 *
 *   crons:
 *     cronrun:
 *       spec: "*\/5 * * * *"
 *       cmd: "php bin/magento cron:run"
 *
 * (Platform.sh's `commands: { start: … }` is read as `cmd` too.) Each becomes a Temporal
 * Schedule per environment. The spec is a five-field cron expression (minute, hour, day of
 * month, month, day of week) in UTC; Platform.sh's `H` (hashed) form is refused, since the
 * scheduler cannot honour it.
 */
import type { ConfigIssue } from '../app-config';

export interface CronJob {
  spec: string;
  cmd: string;
  /** Seconds a run may take (`timeout`), when the project says. */
  timeoutSeconds?: number;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/i;
const FIELD_RANGES: Array<[string, number, number, Record<string, number>?]> = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12, { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 }],
  ['day of week', 0, 7, { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }],
];

/** Why a cron expression's field is wrong, or undefined. */
function fieldProblem(field: string, [name, min, max, names]: (typeof FIELD_RANGES)[number]): string | undefined {
  for (const part of field.split(',')) {
    const m = /^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/i.exec(part);
    if (!m) return `${name} "${field}" is not a cron field (numbers, names, *, ranges a-b, steps /n and lists a,b)`;
    if (m[2] !== undefined && Number(m[2]) < 1) return `${name} "${field}": a step must be at least 1`;
    if (m[1] === '*') continue;
    for (const v of m[1]!.split('-')) {
      const n = /^\d+$/.test(v) ? Number(v) : names?.[v.toLowerCase()];
      if (n === undefined) return `${name} "${field}": "${v}" is not a number${names ? ' or a name' : ''}`;
      if (n < min || n > max) return `${name} "${field}": ${n} is outside ${min}-${max}`;
    }
  }
  return undefined;
}

export function cronSpecProblem(spec: string): string | undefined {
  const fields = spec.trim().split(/\s+/);
  if (/\bH\b/.test(spec)) return `"${spec}": the hashed form H is not supported; write the minute (e.g. "17 * * * *")`;
  if (fields.length !== 5) return `"${spec}" has ${fields.length} fields; a cron spec has five: minute hour day-of-month month day-of-week`;
  for (let i = 0; i < 5; i++) {
    const problem = fieldProblem(fields[i]!, FIELD_RANGES[i]!);
    if (problem) return problem;
  }
  return undefined;
}

export function parseCrons(raw: Record<string, unknown> | undefined, file: string, issues: ConfigIssue[]): Record<string, CronJob> {
  const crons: Record<string, CronJob> = {};
  for (const [name, entry] of Object.entries(raw ?? {})) {
    const at = `crons.${name}`;
    if (!NAME.test(name)) {
      issues.push({ file, path: at, reason: 'a cron name is 1 to 40 letters, digits, "-" and "_"' });
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      issues.push({ file, path: at, reason: 'must be a map with spec and cmd' });
      continue;
    }
    const e = entry as Record<string, unknown>;
    const commands = e.commands as Record<string, unknown> | undefined;
    const cmd = e.cmd ?? (typeof commands === 'object' && commands !== null ? commands.start : undefined);
    if (typeof e.spec !== 'string') {
      issues.push({ file, path: `${at}.spec`, reason: 'must be a cron expression such as "*/5 * * * *" (a string)' });
      continue;
    }
    const problem = cronSpecProblem(e.spec);
    if (problem) {
      issues.push({ file, path: `${at}.spec`, reason: problem });
      continue;
    }
    if (typeof cmd !== 'string' || !cmd.trim()) {
      issues.push({ file, path: `${at}.cmd`, reason: 'must be the shell command to run (a string)' });
      continue;
    }
    const timeout = e.timeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1)) {
      issues.push({ file, path: `${at}.timeout`, reason: 'must be a number of seconds' });
      continue;
    }
    crons[name] = { spec: e.spec.trim().split(/\s+/).join(' '), cmd, ...(typeof timeout === 'number' ? { timeoutSeconds: timeout } : {}) };
  }
  return crons;
}
