/**
 * The variable store of a data directory: `variables/<project>.json` (the engine's, 0600 in a
 * 0700 directory), written whole and renamed. Sensitive values are sealed with AES-256-GCM
 * under `secrets/variables.key` (32 random bytes, the engine's, 0600), bound to where they are
 * set (project, level, name) so a sealed value moved elsewhere does not open. Values never go
 * into a workflow's input, result or log: activities read them here, on the host, and hand
 * them to the sandbox.
 *
 * Also here: the environments' parents as the client last saw them (for inheritance; a branch
 * not seen yet is a child of integration, as a pushed branch is), and the changes to staging
 * and production waiting for their ticket.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  effectiveVariables,
  magentoCloudVariablesProblem,
  splitByKind,
  type PhaseVariables,
  type StoredVariable,
  type VariableFlags,
  type VariableView,
  viewOf,
} from '../domain/variables';
import { MAIN_BRANCHES } from '../domain/names';
import { InvalidInputError, SlipwayError } from '../errors';
import type { Layout } from '../home';

const storedSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  sealed: z.string().optional(),
  sensitive: z.boolean(),
  inherit: z.boolean(),
  build: z.boolean(),
  runtime: z.boolean(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

const changeSchema = z.object({
  environment: z.string(),
  name: z.string(),
  action: z.enum(['set', 'unset']),
  variable: storedSchema.optional(),
  /** Whether the variable it replaces or removes was visible at build. */
  wasBuild: z.boolean().default(false),
});
export type PendingVariableChange = z.infer<typeof changeSchema>;

const fileSchema = z.object({
  project: z.record(z.string(), storedSchema).default({}),
  environments: z.record(z.string(), z.record(z.string(), storedSchema)).default({}),
  /** Environment → parent, as the client last saw the project. */
  parents: z.record(z.string(), z.string()).default({}),
  /** Change id (staged by the client before its ticket opens) → the change it would make. */
  pending: z.record(z.string(), changeSchema).default({}),
});
type StoreFile = z.infer<typeof fileSchema>;

/** The engine's data directory: its own, or as a host worker has it mounted (`worker --variables-from`). */
const storeHome = (layout: Layout): string => layout.variablesHome ?? layout.home;
const dir = (layout: Layout): string => path.join(storeHome(layout), 'variables');
const fileOf = (layout: Layout, project: string): string => path.join(dir(layout), `${project}.json`);
const keyFile = (layout: Layout): string => path.join(storeHome(layout), 'secrets', 'variables.key');

function read(layout: Layout, project: string): StoreFile {
  let text: string;
  try {
    text = fs.readFileSync(fileOf(layout, project), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fileSchema.parse({});
    throw err;
  }
  const parsed = fileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new SlipwayError(`${fileOf(layout, project)} is not a variable store: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

function write(layout: Layout, project: string, data: StoreFile): void {
  fs.mkdirSync(dir(layout), { recursive: true, mode: 0o700 });
  fs.chmodSync(dir(layout), 0o700);
  const file = fileOf(layout, project);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(data, null, 1)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** One change at a time per project in this process (the CLI and the API each write whole files). */
const queues = new Map<string, Promise<unknown>>();
async function change<T>(layout: Layout, project: string, f: (data: StoreFile) => T): Promise<T> {
  const key = fileOf(layout, project);
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(() => {
    const data = read(layout, project);
    const out = f(data);
    write(layout, project, data);
    return out;
  });
  queues.set(key, next.catch(() => undefined));
  return next;
}

function key(layout: Layout): Buffer {
  const file = keyFile(layout);
  try {
    const k = fs.readFileSync(file);
    if (k.length === 32) return k;
    throw new SlipwayError(`${file} is not a variable key (32 bytes): sensitive values cannot be opened`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, crypto.randomBytes(32), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return fs.readFileSync(file);
}

const where = (project: string, level: string, name: string): Buffer => Buffer.from(`${project}\0${level}\0${name}`);

function seal(layout: Layout, project: string, level: string, name: string, value: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key(layout), iv);
  cipher.setAAD(where(project, level, name));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

function open(layout: Layout, project: string, level: string, v: StoredVariable): string {
  if (!v.sensitive) return v.value ?? '';
  const raw = Buffer.from((v.sealed ?? '').replace(/^v1:/, ''), 'base64');
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key(layout), raw.subarray(0, 12));
    decipher.setAAD(where(project, level, v.name));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SlipwayError(`the sensitive variable ${v.name} (${level}) of ${project} cannot be opened with this data directory's key (secrets/variables.key)`);
  }
}

/** Level "project" or an environment's name. */
export interface VariableWrite extends VariableFlags {
  project: string;
  level: string;
  name: string;
  value: string;
  by: string;
}

/** A variable as it would be stored (sealed if sensitive): for a change that waits for its ticket, or at once. */
export function sealedVariable(layout: Layout, w: VariableWrite): StoredVariable {
  return {
    name: w.name,
    ...(w.sensitive ? { sealed: seal(layout, w.project, w.level, w.name, w.value) } : { value: w.value }),
    sensitive: w.sensitive,
    inherit: w.level === 'project' ? true : w.inherit,
    build: w.build,
    runtime: w.runtime,
    updatedAt: new Date().toISOString(),
    updatedBy: w.by,
  };
}

const levelOf = (data: StoreFile, level: string): Record<string, StoredVariable> =>
  level === 'project' ? data.project : (data.environments[level] ??= {});

/** The variable at that level now, if any. */
export function storedVariable(layout: Layout, project: string, level: string, name: string): StoredVariable | undefined {
  const data = read(layout, project);
  return (level === 'project' ? data.project : data.environments[level])?.[name];
}

/** Whether a new value differs from the stored one (a sensitive one compared once opened, never shown). */
export function valueChanges(layout: Layout, project: string, level: string, name: string, value: string): boolean {
  const v = storedVariable(layout, project, level, name);
  return v === undefined || open(layout, project, level, v) !== value;
}

export async function setVariable(layout: Layout, w: VariableWrite): Promise<StoredVariable> {
  const v = sealedVariable(layout, w);
  await change(layout, w.project, (data) => {
    // Checked again under the project's lock: nothing is written if it does not fit.
    const problem = sizeProblem(layout, data, w.project, w.level, v);
    if (problem) throw new InvalidInputError(problem);
    levelOf(data, w.level)[w.name] = v;
  });
  return v;
}

/**
 * Why setting `v` at `level` would leave some environment with variables no process can be
 * given (MAGENTO_CLOUD_VARIABLES over Linux's limit on one process variable), or undefined.
 * Every environment the store knows is checked, in both phases: a project's or an ancestor's
 * variable reaches the environments below it.
 */
function sizeProblem(layout: Layout, data: StoreFile, project: string, level: string, v: StoredVariable): string | undefined {
  const tentative = structuredClone(data);
  levelOf(tentative, level)[v.name] = v;
  // Each value opened once (a sensitive one is decrypted), however many environments it reaches.
  const opened = new Map<string, string>();
  const valueOf = (at: string, variable: StoredVariable): string => {
    const k = `${at}\0${variable.name}`;
    if (!opened.has(k)) opened.set(k, open(layout, project, at, variable));
    return opened.get(k)!;
  };
  const environments = new Set<string>([...MAIN_BRANCHES, ...Object.keys(tentative.environments), ...Object.keys(tentative.parents)]);
  // The environment being changed first, so that the refusal names it when it overflows itself.
  const order = [...environments].sort((a, b) => Number(b === level) - Number(a === level) || a.localeCompare(b));
  for (const environment of order) {
    const reaching = effective(tentative, environment);
    for (const phase of ['build', 'runtime'] as const) {
      const values = reaching.filter(({ variable }) => variable[phase]).map(({ variable, level: at }) => ({ name: variable.name, value: valueOf(at, variable) }));
      const problem = magentoCloudVariablesProblem(values);
      if (problem) return `${v.name} cannot be set: in ${environment}'s ${phase} ${problem}`;
    }
  }
  return undefined;
}

/** Throws, naming the environment and the largest variables, when `v` set at `level` would not fit (see sizeProblem); changes nothing. */
export function checkVariableFits(layout: Layout, project: string, level: string, v: StoredVariable): void {
  const problem = sizeProblem(layout, read(layout, project), project, level, v);
  if (problem) throw new InvalidInputError(problem);
}

/** Whether there was one. */
export async function unsetVariable(layout: Layout, project: string, level: string, name: string): Promise<boolean> {
  return change(layout, project, (data) => {
    const vars = levelOf(data, level);
    const had = name in vars;
    delete vars[name];
    return had;
  });
}

/** Records the environments' parents (from the project's registry). */
export async function recordParents(layout: Layout, project: string, parents: Record<string, string | undefined>): Promise<void> {
  await change(layout, project, (data) => {
    for (const [env, parent] of Object.entries(parents)) {
      if (parent) data.parents[env] = parent;
      else delete data.parents[env];
    }
  });
}

/** The environment's ancestors, root first: a known parent chain, else integration for a branch the store has not seen. */
function ancestorsOf(data: StoreFile, environment: string): string[] {
  const chain: string[] = [];
  let at = environment;
  for (let i = 0; i < 50; i++) {
    const parent = data.parents[at] ?? ((MAIN_BRANCHES as readonly string[]).includes(at) ? undefined : 'integration');
    if (!parent || chain.includes(parent) || parent === environment) break;
    chain.unshift(parent);
    at = parent;
  }
  return chain;
}

function effective(data: StoreFile, environment: string | undefined) {
  const envs = environment === undefined ? [] : [...ancestorsOf(data, environment), environment];
  return effectiveVariables({ project: data.project, environments: envs.map((e) => ({ environment: e, variables: data.environments[e] ?? {} })) });
}

/** What `var list` shows: the project's, or what applies to an environment (inherited ones marked). */
export function listVariables(layout: Layout, project: string, environment?: string): VariableView[] {
  const data = read(layout, project);
  if (environment === undefined) return Object.values(data.project).map((v) => viewOf(v, 'project')).sort((a, b) => a.name.localeCompare(b.name));
  return effective(data, environment).map(({ variable, level }) => viewOf(variable, level, environment));
}

/**
 * What a phase of an environment sees, in plain text, for the sandbox only: build-visible or
 * runtime-visible variables of every layer. Never log or return these values.
 */
export function phaseVariables(layout: Layout, project: string, environment: string, phase: 'build' | 'runtime'): PhaseVariables {
  const data = read(layout, project);
  return splitByKind(effective(data, environment).filter(({ variable }) => variable[phase]).map(({ variable, level }) => ({ name: variable.name, value: open(layout, project, level, variable) })));
}

/**
 * A digest of what the build sees (HMAC under the store's key: nothing about a value can be
 * learnt from it), part of the slug key; "" when the build sees no variable.
 */
export function buildVariablesDigest(layout: Layout, project: string, environment: string): string {
  const { env, variables } = phaseVariables(layout, project, environment, 'build');
  if (Object.keys(env).length === 0 && Object.keys(variables).length === 0) return '';
  const canonical = JSON.stringify([Object.entries(env).sort(), Object.entries(variables).sort()]);
  return crypto.createHmac('sha256', key(layout)).update(canonical).digest('hex').slice(0, 24);
}

/** Stages a change that waits for its ticket; its id. */
export async function stagePending(layout: Layout, project: string, c: Omit<PendingVariableChange, 'wasBuild'>): Promise<string> {
  const id = `vc-${crypto.randomBytes(6).toString('hex')}`;
  await change(layout, project, (data) => {
    const was = levelOf(data, c.environment)[c.name];
    data.pending[id] = { ...c, wasBuild: was?.build ?? false };
  });
  return id;
}

export function pendingChange(layout: Layout, project: string, id: string): PendingVariableChange | undefined {
  return read(layout, project).pending[id];
}

/** Applies an approved ticket's change (or drops a refused one's). What it was, if any. */
export async function settlePending(layout: Layout, project: string, id: string, approved: boolean): Promise<PendingVariableChange | undefined> {
  return change(layout, project, (data) => {
    const c = data.pending[id];
    delete data.pending[id];
    if (!c || !approved) return c;
    const vars = levelOf(data, c.environment);
    if (c.action === 'unset') delete vars[c.name];
    else if (c.variable) vars[c.name] = c.variable;
    return c;
  });
}

/** Removes an environment's own variables (it was deleted). */
export async function forgetEnvironment(layout: Layout, project: string, environment: string): Promise<void> {
  await change(layout, project, (data) => {
    delete data.environments[environment];
    delete data.parents[environment];
  });
}
