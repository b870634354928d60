/**
 * The client's project operations: creating a project, its record, the refusable operations on
 * its environments (Updates of the project workflow) and the pushes the git hook reports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { PushEvent } from '../domain/environment';
import { environmentNameProblem } from '../domain/environment-names';
import { ZERO_COMMIT } from '../domain/git-refs';
import { ENGINE_TASK_QUEUE, workflowIds } from '../domain/names';
import { rolesOn } from '../domain/access';
import { HOST_ROLES, type BranchPush, type EnvironmentEntry, type HostRole, type ProjectHosts, type ProjectInfo, type ProjectState, type ProjectSummary } from '../domain/project';
import { createProjectInputSchema } from '../domain/schemas';
import { SlipwayKind, SlipwayProject } from '../domain/search-attributes';
import { InvalidInputError, NotFoundError, SlipwayError } from '../errors';
import { environmentPushSignal } from '../workflows/environment';
import {
  activateUpdate,
  branchPushedSignal,
  branchUpdate,
  deactivateUpdate,
  deleteUpdate,
  mergeUpdate,
  projectInfoQuery,
  projectReadyUpdate,
  projectWorkflow,
  syncUpdate,
  type MergeResult,
} from '../workflows/project';
import { checkProjectId, updateRefusal, zodMessage } from './checks';
import { readRuntimeInfo } from '../home';
import { gitHttpRemote } from '../domain/git-http';
import { until, type ClientContext, type WorkflowHandle } from './context';
import { environmentStatus } from './deployments';

export interface CreateProjectRequest {
  project: string;
  plan?: string;
  from: string;
  host?: string;
  /** The plan's hosts per kind of environment; a kind left out runs on `host`. */
  hosts?: Partial<Record<HostRole, string[]>>;
  productionApprovals?: number;
  /** Seconds a step bound to the host may wait for the host to take it (default 60). */
  hostStartTimeout?: number;
}

/**
 * `--hosts production=web2,web3` (repeatable) as the plan's hosts per kind. Malformed values
 * are refused here; whether the hosts exist is not knowable in advance (a host is whatever
 * `slipway worker --host` serves).
 */
export function parseHostAssignments(values: readonly string[]): Partial<Record<HostRole, string[]>> {
  const hosts: Partial<Record<HostRole, string[]>> = {};
  for (const value of values) {
    const m = /^([a-z]+)=(.*)$/.exec(value);
    if (!m) throw new InvalidInputError(`--hosts ${JSON.stringify(value)}: expected <kind>=<host>[,<host>…] (kind: ${HOST_ROLES.join(', ')}), e.g. production=web2,web3`);
    const kind = m[1]! as HostRole;
    if (!HOST_ROLES.includes(kind)) throw new InvalidInputError(`--hosts ${JSON.stringify(value)}: unknown kind ${JSON.stringify(m[1])}; expected ${HOST_ROLES.join(', ')}`);
    if (hosts[kind]) throw new InvalidInputError(`--hosts: ${kind} given twice; name all its hosts at once, e.g. ${kind}=web2,web3`);
    hosts[kind] = m[2]!.split(',').map((h) => h.trim());
  }
  return hosts;
}

/**
 * The plan's hosts, every kind filled (a kind left out runs on `host`), or undefined when none
 * is named. Staging and production, when named, run on dedicated hosts: none of theirs may
 * serve integration.
 */
export function planHosts(host: string, named: Partial<Record<HostRole, string[]>> | undefined): ProjectHosts | undefined {
  if (!named || Object.keys(named).length === 0) return undefined;
  const hosts: ProjectHosts = { integration: named.integration ?? [host], staging: named.staging ?? [host], production: named.production ?? [host] };
  // A kind named is on dedicated hosts; one left out stays on --host with integration, as before.
  for (const kind of ['staging', 'production'] as const) {
    if (!named[kind]) continue;
    const shared = hosts[kind].filter((h) => hosts.integration.includes(h));
    if (shared.length > 0) {
      throw new InvalidInputError(
        `hosts: ${kind} runs on dedicated hosts, but ${shared.join(', ')} also serve${shared.length === 1 ? 's' : ''} integration` +
          `${named.integration ? '' : ` (integration names no hosts, so it runs on --host ${host})`}; give ${kind} hosts of its own`,
      );
    }
  }
  return hosts;
}

export interface BranchRequest {
  name: string;
  parent?: string;
  inactive?: boolean;
}

export async function createProject(ctx: ClientContext, raw: CreateProjectRequest): Promise<ProjectInfo> {
  const state = initialState(raw);
  try {
    const handle = await ctx.temporal.workflow.start(projectWorkflow, {
      taskQueue: ENGINE_TASK_QUEUE,
      workflowId: workflowIds.project(state.project),
      args: [state],
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: `Project ${state.project} (plan ${state.plan})`,
      typedSearchAttributes: [
        { key: SlipwayProject, value: state.project },
        { key: SlipwayKind, value: 'project' },
      ],
    });
    return withHttpRemote(ctx, await handle.executeUpdate(projectReadyUpdate));
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new SlipwayError(`project ${state.project} already exists`);
    }
    // A ServiceError's own message is "Failed to start Workflow"; the server's reason is its cause's.
    const message = [err, err instanceof Error ? err.cause : undefined].map((e) => (e instanceof Error ? e.message : '')).find((m) => /no mapping defined for search attribute/i.test(m));
    if (message) {
      throw new SlipwayError(
        `the Temporal server has not been prepared for Slipway (${message}): run \`slipway setup\` once, or start \`slipway worker\` or \`slipway api\`, which do it`,
      );
    }
    throw err;
  }
}

/** The project's remote over Git smart HTTP, when an API of this data directory runs (its advertised address). */
function withHttpRemote(ctx: ClientContext, info: ProjectInfo): ProjectInfo {
  const apiUrl = readRuntimeInfo(ctx.layout)?.apiUrl;
  return apiUrl ? { ...info, httpRemote: gitHttpRemote(apiUrl, info.project) } : info;
}

/** The new project's workflow state: refused unless the request is valid and `from` holds a Magento Cloud project. */
function initialState(raw: CreateProjectRequest): ProjectState {
  const parsed = createProjectInputSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidInputError(zodMessage(parsed.error));
  const input = { ...parsed.data, from: path.resolve(parsed.data.from) };
  if (!fs.statSync(input.from, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InvalidInputError(`--from ${raw.from}: not a directory`);
  }
  if (!fs.existsSync(path.join(input.from, '.magento.app.yaml'))) {
    throw new InvalidInputError(`--from ${raw.from}: no .magento.app.yaml there; it is not a Magento Cloud project`);
  }
  const hosts = planHosts(input.host, input.hosts);
  return {
    project: input.project,
    plan: input.plan,
    from: input.from,
    // With hosts, `host` is integration's first (what the project's single-host steps use).
    host: hosts ? hosts.integration[0]! : input.host,
    ...(hosts ? { hosts } : {}),
    productionApprovals: input.productionApprovals,
    ...(input.hostStartTimeout !== undefined ? { hostStartTimeout: input.hostStartTimeout } : {}),
    environments: {},
  };
}

/**
 * Every project, by id; with `visibleTo`, only those that user holds a
 * role on (an admin holds one on every project), each with the user's roles there.
 */
export async function listProjects(ctx: ClientContext, options: { visibleTo?: string }): Promise<ProjectSummary[]> {
  const identities = ctx.identities();
  const grants = options.visibleTo === undefined ? undefined : identities.users.get(options.visibleTo);
  if (options.visibleTo !== undefined && !grants) throw new InvalidInputError(`unknown user ${JSON.stringify(options.visibleTo)} (identities: ${identities.file})`);
  const found = new Set<string>();
  for await (const wf of ctx.temporal.workflow.list({ query: 'SlipwayKind = "project" AND ExecutionStatus = "Running"' })) {
    found.add(wf.workflowId.replace(/^project\//, ''));
  }
  return [...found]
    .sort()
    .map((project) => ({ project, roles: grants ? rolesOn(grants, project) : [] }))
    .filter((p) => grants === undefined || p.roles.length > 0);
}

export async function projectInfo(ctx: ClientContext, project: string): Promise<ProjectInfo> {
  checkProjectId(project);
  try {
    const info = await ctx.temporal.workflow.getHandle(workflowIds.project(project)).query(projectInfoQuery);
    if (!info) throw new SlipwayError(`project ${project} is still being created`);
    return withHttpRemote(ctx, info);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no project ${project}`);
    throw err;
  }
}

/** Runs one of the project's refusable operations (an Update with a validator). */
export async function projectUpdate<Ret>(ctx: ClientContext, project: string, run: (handle: WorkflowHandle) => Promise<Ret>): Promise<Ret> {
  checkProjectId(project);
  const handle = ctx.temporal.workflow.getHandle(workflowIds.project(project));
  try {
    return await run(handle);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no project ${project}`);
    if (err instanceof WorkflowUpdateFailedError) throw updateRefusal(err);
    throw err;
  }
}

export function branch(ctx: ClientContext, project: string, request: BranchRequest): Promise<EnvironmentEntry> {
  return projectUpdate(ctx, project, (h) => h.executeUpdate(branchUpdate, { args: [request] }));
}

export function activate(ctx: ClientContext, project: string, name: string): Promise<EnvironmentEntry> {
  return projectUpdate(ctx, project, (h) => h.executeUpdate(activateUpdate, { args: [{ name }] }));
}

export async function deactivate(ctx: ClientContext, project: string, name: string): Promise<EnvironmentEntry> {
  const entry = await projectUpdate(ctx, project, (h) => h.executeUpdate(deactivateUpdate, { args: [{ name }] }));
  if (entry.started) {
    await until(async () => {
      const s = await environmentStatus(ctx, project, name);
      return s.active === false && !s.running && (s.lifecycle ?? []).length === 0;
    }, `${name} to stop serving`);
  }
  return entry;
}

export async function deleteEnvironment(ctx: ClientContext, project: string, name: string): Promise<{ deleted: string }> {
  const result = await projectUpdate(ctx, project, (h) => h.executeUpdate(deleteUpdate, { args: [{ name }] }));
  await until(async () => {
    const d = await ctx.temporal.workflow.getHandle(workflowIds.environment(project, name)).describe().catch(() => undefined);
    return d === undefined || d.status.name !== 'RUNNING';
  }, `${name} to be removed`);
  return result;
}

export function sync(ctx: ClientContext, project: string, name: string): Promise<MergeResult> {
  return projectUpdate(ctx, project, (h) => h.executeUpdate(syncUpdate, { args: [{ name }] }));
}

export function merge(ctx: ClientContext, project: string, name: string): Promise<MergeResult> {
  return projectUpdate(ctx, project, (h) => h.executeUpdate(mergeUpdate, { args: [{ name }] }));
}

/**
 * A new commit on an existing environment goes straight to the environment's workflow, which
 * ignores it while inactive; the project still gets every push, to keep its records and to
 * handle new and deleted branches (and forwards only what was not delivered). One workflow
 * task less between the push and the deployment (bench/analysis.md).
 */
export async function branchPushed(ctx: ClientContext, project: string, push: BranchPush): Promise<void> {
  const delivered = await deliverToEnvironment(ctx, project, push);
  try {
    await ctx.temporal.workflow.getHandle(workflowIds.project(project)).signal(branchPushedSignal, { ...push, delivered });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no project ${project} is running`);
    throw err;
  }
}

/** Whether the push went to its environment's workflow: not when it deletes the branch or no such environment runs. */
async function deliverToEnvironment(ctx: ClientContext, project: string, push: BranchPush): Promise<boolean> {
  if (push.after === ZERO_COMMIT || environmentNameProblem(push.branch) !== undefined) return false;
  try {
    const event: PushEvent = { commit: push.after, pushedAt: push.pushedAt, before: push.before };
    await ctx.temporal.workflow.getHandle(workflowIds.environment(project, push.branch)).signal(environmentPushSignal, event);
    return true;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err; // no such environment yet: the project decides
    return false;
  }
}
