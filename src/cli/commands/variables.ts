/**
 * `slipway env var set|get|list|unset` and `slipway project var …`, as `magento-cloud
 * variable:*`. A value is given as an argument, or as "-" to read it from standard input (for
 * a sensitive value: it stays out of the shell's history and the process list). A sensitive
 * value is never printed again. On the engine host they act through Temporal as --as (else
 * cli:<login>); with SLIPWAY_API_URL, through the API as the token's user (--as refused).
 */
import { Command } from 'commander';
import type { VariableChangeResult } from '../../client';
import type { VariableView } from '../../domain/variables';
import { SlipwayError } from '../../errors';
import type { Cli } from '../context';

async function valueOf(arg: string | undefined): Promise<string> {
  if (arg === undefined) throw new SlipwayError('give the value, or "-" to read it from standard input', 2);
  if (arg !== '-') return arg;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function visibility(opts: { build?: boolean; runtime?: boolean }): { build: boolean; runtime: boolean } {
  if (opts.build && opts.runtime) throw new SlipwayError('--build and --runtime: give one of them, or neither for both', 2);
  if (opts.build) return { build: true, runtime: false };
  if (opts.runtime) return { build: false, runtime: true };
  return { build: true, runtime: true };
}

function show(views: VariableView[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify(views, null, 2));
    return;
  }
  if (views.length === 0) console.log('no variables');
  for (const v of views) {
    const flags = [v.sensitive ? 'sensitive' : '', v.build && v.runtime ? '' : v.build ? 'build only' : 'runtime only', v.inherit ? '' : 'not inherited', v.inheritedFrom ? `from ${v.inheritedFrom}` : ''].filter(Boolean);
    console.log(`${v.name}=${v.value}${flags.length ? `  (${flags.join(', ')})` : ''}`);
  }
}

function told(result: VariableChangeResult, what: string, environment: string): void {
  if (!result.applied) {
    console.log(result.ticket);
    console.error(`${result.ticket} opened: ${what} on ${environment} once a support engineer approves`);
    return;
  }
  if (result.deployment !== undefined) console.error(`${what}; deployment #${result.deployment} of ${environment} started (${result.rebuilt ? 'built again: the build sees it' : 'the same slug'})`);
  else console.error(`${what}; ${environment} serves no release now: its next deployment gets it`);
}

const AS_ENVIRONMENT = "who changes it, on the engine host (required on staging and production: the ticket's requester; through the API, the token's user)";
const AS_PROJECT = "who changes it (an admin of the project), on the engine host; through the API, the token's user";

function setOptions(cmd: Command, environmentLevel: boolean): Command {
  cmd
    .option('--sensitive', 'never shown again, stored encrypted, kept out of logs and histories', false)
    .option('--build', 'visible to the build only (default: build and runtime)')
    .option('--runtime', 'visible at runtime only (default: build and runtime)')
    .option('--as <user>', environmentLevel ? AS_ENVIRONMENT : AS_PROJECT);
  if (environmentLevel) cmd.option('--no-inherit', 'child environments do not inherit it');
  return cmd;
}

export function registerVariableCommands({ program, withEngine }: Cli): void {
  const envCmd = program.commands.find((c) => c.name() === 'env')!;
  const projectCmd = program.commands.find((c) => c.name() === 'project')!;

  const envVar = envCmd.command('var').description("an environment's variables: env:NAME becomes a process variable, others go into MAGENTO_CLOUD_VARIABLES");
  setOptions(envVar.command('set <project> <environment> <name> [value]'), true)
    .description('set a variable (integration: applied and redeployed; staging, production: through a ticket)')
    .addHelpText(
      'after',
      '\nExamples:\n  slipway env var set shop integration env:APP_MODE developer\n  printf %s "$KEY" | slipway env var set shop integration env:PAYMENT_KEY - --sensitive\n  slipway env var set shop production env:APP_MODE production --as alice',
    )
    .action(async (project: string, environment: string, name: string, raw: string | undefined, opts: { sensitive: boolean; build?: boolean; runtime?: boolean; inherit: boolean; as?: string }) => {
      const value = await valueOf(raw);
      await withEngine(async (engine) => {
        const r = await engine.setEnvironmentVariable(project, environment, { name, value, sensitive: opts.sensitive, inherit: opts.inherit, ...visibility(opts) });
        told(r, `${name} set`, environment);
      }, { ...(opts.as !== undefined ? { as: opts.as } : {}) });
    });
  envVar
    .command('unset <project> <environment> <name>')
    .description("remove an environment's own variable (staging, production: through a ticket)")
    .option('--as <user>', "who removes it, on the engine host (required on staging and production: the ticket's requester; through the API, the token's user)")
    .addHelpText('after', '\nExample:\n  slipway env var unset shop integration env:APP_MODE')
    .action(async (project: string, environment: string, name: string, opts: { as?: string }) => {
      await withEngine(async (engine) => told(await engine.unsetEnvironmentVariable(project, environment, name), `${name} removed`, environment), { ...(opts.as !== undefined ? { as: opts.as } : {}) });
    });
  envVar
    .command('list <project> <environment>')
    .description('the variables that apply to the environment: its own, inherited ones, the project\'s')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway env var list shop integration')
    .action(async (project: string, environment: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => show(await engine.environmentVariables(project, environment), opts.json));
    });
  envVar
    .command('get <project> <environment> <name>')
    .description('one variable as it applies to the environment (a sensitive value: "(sensitive)")')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway env var get shop integration env:APP_MODE')
    .action(async (project: string, environment: string, name: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => show([await engine.environmentVariable(project, environment, name)], opts.json));
    });

  const projectVar = projectCmd.command('var').description("the project's variables: the layer under every environment's");
  setOptions(projectVar.command('set <project> <name> [value]'), false)
    .description('set a project variable: the active integration environments are redeployed; staging and production get it with their next deployment')
    .addHelpText('after', '\nExample:\n  slipway project var set shop env:COMPOSER_AUTH - --sensitive --build < auth.json')
    .action(async (project: string, name: string, raw: string | undefined, opts: { sensitive: boolean; build?: boolean; runtime?: boolean; as?: string }) => {
      const value = await valueOf(raw);
      await withEngine(async (engine) => {
        const r = await engine.setProjectVariable(project, { name, value, sensitive: opts.sensitive, ...visibility(opts) });
        console.error(`${name} set on ${project}${r.deployments.length ? `; deployments started: ${r.deployments.map((d) => `#${d}`).join(', ')}` : ''}`);
      }, { ...(opts.as !== undefined ? { as: opts.as } : {}) });
    });
  projectVar
    .command('unset <project> <name>')
    .description('remove a project variable')
    .addHelpText('after', '\nExample:\n  slipway project var unset shop env:COMPOSER_AUTH')
    .action(async (project: string, name: string) => {
      await withEngine(async (engine) => {
        const r = await engine.unsetProjectVariable(project, name);
        console.error(`${name} removed from ${project}${r.deployments.length ? `; deployments started: ${r.deployments.map((d) => `#${d}`).join(', ')}` : ''}`);
      });
    });
  projectVar
    .command('list <project>')
    .description("the project's variables")
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway project var list shop')
    .action(async (project: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => show(await engine.projectVariables(project), opts.json));
    });
  projectVar
    .command('get <project> <name>')
    .description('one project variable (a sensitive value: "(sensitive)")')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway project var get shop env:COMPOSER_AUTH')
    .action(async (project: string, name: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => show([await engine.projectVariable(project, name)], opts.json));
    });
}
