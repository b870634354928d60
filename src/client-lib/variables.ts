/**
 * Project and environment variables (`slipway env var …`, `slipway project var …`, the API).
 * Values go to the variable store of this data directory (src/variables/store.ts), never into a
 * workflow's input: a change of an integration environment's variable redeploys it (with the
 * same slug, or built again when the build sees the variable); one of staging or production
 * opens a ticket of kind `variable` and is applied once approved; one of the project's
 * variables (the API lets admins only) redeploys the active integration environments, and
 * reaches staging and production with their next deployment.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { rolesOn } from '../domain/access';
import type { EnvironmentEntry } from '../domain/project';
import { variableNameProblem, variableValueProblem, type VariableFlags, type VariableView } from '../domain/variables';
import { InvalidInputError, NotFoundError, SlipwayError } from '../errors';
import { projectRoster } from '../identities';
import { checkVariableFits, listVariables, recordParents, setVariable, sealedVariable, stagePending, storedVariable, unsetVariable, valueChanges } from '../variables/store';
import { rebuildUpdate, redeployUpdate } from '../workflows/environment';
import { requestVariableChangeUpdate } from '../workflows/project';
import { workflowIds } from '../domain/names';
import type { ClientContext } from './context';
import { projectInfo, projectUpdate } from './projects';

export interface SetVariableRequest {
  name: string;
  value: string;
  sensitive?: boolean;
  /** Environment level: whether children inherit it (default true). */
  inherit?: boolean;
  /** Visible to the build (default true). */
  build?: boolean;
  /** Visible at runtime (default true). */
  runtime?: boolean;
  /** Who changes it (recorded; the requester of a ticket). */
  by: string;
}

/** What a change did: applied (and the deployment it started, if any), or a ticket opened. */
export type VariableChangeResult = { applied: true; deployment?: number; rebuilt?: boolean } | { applied: false; ticket: string };

const TICKETED = new Set(['staging', 'production']);

function checkRequest(r: SetVariableRequest): VariableFlags {
  const problem = variableNameProblem(r.name) ?? variableValueProblem(r.value);
  if (problem) throw new InvalidInputError(problem);
  const flags = { sensitive: r.sensitive ?? false, inherit: r.inherit ?? true, build: r.build ?? true, runtime: r.runtime ?? true };
  if (!flags.build && !flags.runtime) throw new InvalidInputError(`${r.name}: a variable visible neither at build nor at runtime reaches nothing`);
  return flags;
}

async function environmentOf(ctx: ClientContext, project: string, environment: string): Promise<EnvironmentEntry> {
  const info = await projectInfo(ctx, project);
  const entry = info.environments.find((e) => e.name === environment);
  if (!entry) throw new NotFoundError(`no environment ${environment} in project ${project}`);
  // The store keeps the parents as the registry has them now (inheritance).
  await recordParents(ctx.layout, project, Object.fromEntries(info.environments.map((e) => [e.name, e.parent])));
  return entry;
}

/** The environment deployed again after a change: built again if the build sees the variable (now or before). */
async function deployAgain(ctx: ClientContext, project: string, entry: EnvironmentEntry, build: boolean): Promise<{ deployment?: number; rebuilt?: boolean }> {
  if (entry.status !== 'active' || !entry.started) return {};
  const handle = ctx.temporal.workflow.getHandle(workflowIds.environment(project, entry.name));
  try {
    const { deployment } = await handle.executeUpdate(build ? rebuildUpdate : redeployUpdate);
    return { deployment, rebuilt: build };
  } catch (err) {
    // Not deployed yet: its first deployment will see the variable.
    if (err instanceof WorkflowUpdateFailedError && /has no (release|current)/i.test(String(err.cause?.message ?? err.message))) return {};
    if (err instanceof WorkflowUpdateFailedError) throw new SlipwayError(`the variable is set; ${entry.name} could not be deployed again: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

async function requestTicket(
  ctx: ClientContext,
  project: string,
  environment: string,
  change: { name: string; action: 'set' | 'unset'; sensitive: boolean; valueChanged: boolean; variable?: ReturnType<typeof sealedVariable> },
  by: string,
): Promise<VariableChangeResult> {
  const identities = ctx.identities();
  const grants = identities.users.get(by);
  if (!grants) throw new SlipwayError(`refused: unknown user ${JSON.stringify(by)} (a ticket needs its requester: --as <user>)`);
  if (rolesOn(grants, project).length === 0) throw new SlipwayError(`refused: ${by} holds no role on project ${project}`);
  const id = await stagePending(ctx.layout, project, { environment, name: change.name, action: change.action, ...(change.variable ? { variable: change.variable } : {}) });
  const { ticket } = await projectUpdate(ctx, project, (h) =>
    h.executeUpdate(requestVariableChangeUpdate, {
      args: [
        {
          environment,
          name: change.name,
          action: change.action,
          change: id,
          sensitive: change.sensitive,
          valueChanged: change.valueChanged,
          requester: by,
          roster: projectRoster(identities, project),
          expiresInMs: identities.ticketExpiryMs,
          remindBeforeMs: identities.ticketReminderMs,
        },
      ],
    }),
  );
  return { applied: false, ticket };
}

export async function setEnvironmentVariable(ctx: ClientContext, project: string, environment: string, r: SetVariableRequest): Promise<VariableChangeResult> {
  const flags = checkRequest(r);
  const entry = await environmentOf(ctx, project, environment);
  const valueChanged = valueChanges(ctx.layout, project, environment, r.name, r.value);
  const before = storedVariable(ctx.layout, project, environment, r.name);
  const write = { project, level: environment, name: r.name, value: r.value, by: r.by, ...flags };
  if (TICKETED.has(environment)) {
    const variable = sealedVariable(ctx.layout, write);
    // A change that could never be applied opens no ticket.
    checkVariableFits(ctx.layout, project, environment, variable);
    return requestTicket(ctx, project, environment, { name: r.name, action: 'set', sensitive: flags.sensitive, valueChanged, variable }, r.by);
  }
  await setVariable(ctx.layout, write);
  const same = !valueChanged && before && before.sensitive === flags.sensitive && before.inherit === flags.inherit && before.build === flags.build && before.runtime === flags.runtime;
  if (same) return { applied: true };
  return { applied: true, ...(await deployAgain(ctx, project, entry, flags.build || (before?.build ?? false))) };
}

export async function unsetEnvironmentVariable(ctx: ClientContext, project: string, environment: string, name: string, by: string): Promise<VariableChangeResult> {
  const problem = variableNameProblem(name);
  if (problem) throw new InvalidInputError(problem);
  const entry = await environmentOf(ctx, project, environment);
  const before = storedVariable(ctx.layout, project, environment, name);
  if (!before) throw new NotFoundError(`${environment} of ${project} has no variable ${name} of its own`);
  if (TICKETED.has(environment)) return requestTicket(ctx, project, environment, { name, action: 'unset', sensitive: before.sensitive, valueChanged: true }, by);
  await unsetVariable(ctx.layout, project, environment, name);
  return { applied: true, ...(await deployAgain(ctx, project, entry, before.build)) };
}

export async function environmentVariables(ctx: ClientContext, project: string, environment: string): Promise<VariableView[]> {
  await environmentOf(ctx, project, environment);
  return listVariables(ctx.layout, project, environment);
}

export async function environmentVariable(ctx: ClientContext, project: string, environment: string, name: string): Promise<VariableView> {
  const v = (await environmentVariables(ctx, project, environment)).find((x) => x.name === name);
  if (!v) throw new NotFoundError(`no variable ${name} applies to ${environment} of ${project}`);
  return v;
}

/** The active integration environments deployed again after a project-level change. */
async function deployIntegrationAgain(ctx: ClientContext, project: string, build: boolean): Promise<number[]> {
  const info = await projectInfo(ctx, project);
  await recordParents(ctx.layout, project, Object.fromEntries(info.environments.map((e) => [e.name, e.parent])));
  const started: number[] = [];
  for (const e of info.environments.filter((x) => (x.type === 'integration' || x.type === 'integration-child') && x.status === 'active')) {
    const d = await deployAgain(ctx, project, e, build);
    if (d.deployment !== undefined) started.push(d.deployment);
  }
  return started;
}

export async function setProjectVariable(ctx: ClientContext, project: string, r: SetVariableRequest): Promise<{ applied: true; deployments: number[] }> {
  const flags = checkRequest(r);
  await projectInfo(ctx, project);
  const before = storedVariable(ctx.layout, project, 'project', r.name);
  await setVariable(ctx.layout, { project, level: 'project', name: r.name, value: r.value, by: r.by, ...flags });
  return { applied: true, deployments: await deployIntegrationAgain(ctx, project, flags.build || (before?.build ?? false)) };
}

export async function unsetProjectVariable(ctx: ClientContext, project: string, name: string): Promise<{ applied: true; deployments: number[] }> {
  await projectInfo(ctx, project);
  const before = storedVariable(ctx.layout, project, 'project', name);
  if (!before) throw new NotFoundError(`project ${project} has no variable ${name}`);
  await unsetVariable(ctx.layout, project, 'project', name);
  return { applied: true, deployments: await deployIntegrationAgain(ctx, project, before.build) };
}

export async function projectVariables(ctx: ClientContext, project: string): Promise<VariableView[]> {
  await projectInfo(ctx, project);
  return listVariables(ctx.layout, project);
}

export async function projectVariable(ctx: ClientContext, project: string, name: string): Promise<VariableView> {
  const v = (await projectVariables(ctx, project)).find((x) => x.name === name);
  if (!v) throw new NotFoundError(`project ${project} has no variable ${name}`);
  return v;
}
