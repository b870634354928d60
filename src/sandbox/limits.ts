/**
 * A project's sandbox limits, read at every run so that the operator's changes apply at once:
 * the plan (recorded in the project's remote when it was created) and the operator's
 * `SLIPWAY_HOME/sandbox.yaml`. Tenant files never set them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { simpleGit } from 'simple-git';
import { PLANS, type Plan } from '../domain/project';
import { resolveSandboxLimits, sandboxConfigSchema, type SandboxConfig, type SandboxLimits } from '../domain/sandbox-limits';
import { SlipwayError } from '../errors';
import type { Layout } from '../home';

export const sandboxConfigFile = (layout: Layout): string => path.join(layout.home, 'sandbox.yaml');

export function readSandboxConfig(layout: Layout): SandboxConfig {
  const file = sandboxConfigFile(layout);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return sandboxConfigSchema.parse({});
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new SlipwayError(`invalid ${file}: ${doc.errors[0]!.message.split('\n')[0]}`);
  const parsed = sandboxConfigSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new SlipwayError(`invalid ${file}: ${why}`);
  }
  return parsed.data;
}

/** Plans read from remotes: a project's plan is recorded once, when its remote is made. */
const plans = new Map<string, Plan>();

/** The plan the project was created with (`slipway.plan` in its remote), where the remote is on this machine. */
async function recordedPlan(layout: Layout, project: string): Promise<Plan | undefined> {
  const config = path.join(layout.remote(project), 'config');
  const known = plans.get(config);
  if (known) return known;
  if (!fs.existsSync(config)) return undefined;
  try {
    const value = (await simpleGit().raw(['config', '--file', config, '--get', 'slipway.plan'])).trim();
    if (!(value in PLANS)) return undefined;
    plans.set(config, value as Plan);
    return value as Plan;
  } catch {
    return undefined;
  }
}

export async function sandboxLimitsFor(layout: Layout, project: string): Promise<{ plan: Plan; limits: SandboxLimits }> {
  return resolveSandboxLimits(readSandboxConfig(layout), project, await recordedPlan(layout, project));
}
