/**
 * The hostile-input catalogue (test/hostile/catalogue.ts), every case against the real stack:
 * the `slipway` binary, the HTTP API, Updates and signals through the Temporal client, git
 * pushes through the remote's hooks, and project files through a real deployment. Each case
 * must be refused with its message; afterwards the project, its environments, its remote and
 * its tickets are as they were.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAMPLE_STORE } from '../../src/home';
import { workflowIds } from '../../src/domain/names';
import type { TicketRecord } from '../../src/domain/tickets';
import type { SlipwayClient } from '../../src/client';
import {
  API_CASES,
  CLI_CASES,
  GIT_PUSH_CASES,
  HOSTILE_CASES,
  PROJECT_FILE_CASES,
  SIGNAL_CASES,
  UPDATE_CASES,
  type ApiCase,
  type CliCase,
  type GitPushCase,
  type ProjectFileCase,
  type SignalCase,
  type Surface,
  type TicketFixture,
  type UpdateCase,
} from '../hostile/catalogue';
import { runSlipway } from '../harness/processes';
import { clone, commitOnly, deployedProject, getPage, tempDir } from '../harness/world';

const run = promisify(execFile);
const HOUR = 3_600_000;

/** Runs every case, at most `limit` at a time; fails with the message of each case that failed. */
async function runAll<T extends { id: string }>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        await fn(item).catch((e: unknown) => failures.push(`${item.id}: ${e instanceof Error ? e.message : String(e)}`));
      }
    }),
  );
  assert.deepEqual(failures.sort(), []);
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Fixture {
  client: SlipwayClient;
  project: string;
  home: string;
  remote: string;
  tickets: Record<TicketFixture, string>;
  repo: { dir: string };
}

/** What the cases must not change: the registry, integration's releases, the remote's branches, the tickets' decisions. */
async function snapshot(f: Fixture): Promise<unknown> {
  const info = await f.client.project(f.project);
  const integration = await f.client.environmentStatus(f.project, 'integration');
  // Every ref, not only branches: a refused tag or note must not be there either.
  const refs = (await run('git', ['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: f.remote })).stdout;
  const tickets: Record<string, unknown> = {};
  for (const [name, id] of Object.entries(f.tickets)) {
    const t = await f.client.ticket(f.project, id);
    tickets[name] = { status: t.status, approvals: t.approvals.map((a) => a.user), rejection: t.rejection?.user };
  }
  return {
    environments: info.environments.map((e) => ({ ...e })).sort((a, b) => a.name.localeCompare(b.name)),
    activeIntegration: info.activeIntegration,
    sshKeys: info.sshKeys,
    integration: { current: integration.current, deployments: integration.deployments.length, active: integration.active },
    refs,
    tickets,
  };
}

const fill = (s: string, f: Fixture, ticket?: TicketFixture): string =>
  s.replace(/\{project\}/g, f.project).replace(/\{ticket\}/g, ticket ? f.tickets[ticket] : '{ticket}');

function fillDeep(v: unknown, f: Fixture, ticket?: TicketFixture): unknown {
  if (typeof v === 'string') return fill(v, f, ticket);
  if (Array.isArray(v)) return v.map((x) => fillDeep(x, f, ticket));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillDeep(x, f, ticket)]));
  return v;
}

async function runCli(c: CliCase, f: Fixture): Promise<void> {
  const dir = tempDir('hostile-cli');
  for (const [name, content] of Object.entries(c.files ?? {})) fs.writeFileSync(path.join(dir, name), content);
  const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: f.home };
  delete env.TEMPORAL_ADDRESS;
  // Through the API, as a sample user: what a developer's laptop does.
  if (c.api) Object.assign(env, { SLIPWAY_API_URL: process.env.SLIPWAY_TEST_API_URL, SLIPWAY_TOKEN: `slipway-dev-${c.api}` });
  const r = await runSlipway(c.args.map((a) => fill(a, f, c.ticket).replace('{dir}', dir)), env);
  assert.equal(r.code, c.expected.exitCode, `${c.id}: exit code ${r.code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, c.expected.message, c.id);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${c.id}: a stack trace is no error message`);
}

async function runApi(c: ApiCase, f: Fixture): Promise<void> {
  const headers: Record<string, string> = {};
  if (typeof c.auth === 'string') headers.authorization = `Bearer slipway-dev-${c.auth}`;
  else if (c.auth) headers.authorization = c.auth.header;
  let body: string | undefined;
  if (c.raw) {
    headers['content-type'] = c.raw.contentType;
    body = c.raw.text;
  } else if (c.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(fillDeep(c.body, f, c.ticket));
  }
  const res = await fetch(`${process.env.SLIPWAY_TEST_API_URL}${fill(c.path, f, c.ticket)}`, { method: c.method, headers, body });
  const text = await res.text();
  assert.equal(res.status, c.expected.status, `${c.id}: ${res.status} ${text.slice(0, 500)}`);
  // The message a client shows: the error and each field's, or the text itself.
  let message = text;
  try {
    const json = JSON.parse(text) as { error?: string; issues?: Array<{ path: string; message: string }> };
    message = [json.error, ...(json.issues ?? []).map((i) => `${i.path}: ${i.message}`)].join('\n');
  } catch {
    /* not JSON */
  }
  assert.match(message, c.expected.message, `${c.id}: ${message.slice(0, 500)}`);
}

async function runUpdate(c: UpdateCase, f: Fixture): Promise<void> {
  const handle = f.client.temporal.workflow.getHandle(fill(c.workflowId, f, c.ticket));
  const args = c.args.map((a) => fillDeep(a, f, c.ticket)) as [unknown];
  const err = await handle.executeUpdate(c.update, { args }).then(
    (r) => assert.fail(`${c.id}: accepted, returned ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  // The refusal itself, not "Update failed" or a TypeError of the workflow code.
  let inner: unknown = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const message = inner instanceof Error ? inner.message : String(inner);
  assert.match(message, c.expected.message, `${c.id}: ${message}`);
  assert.doesNotMatch(message, /Cannot read properties|is not a function|undefined \(reading/, `${c.id}: ${message}`);
}

/** A workflow is healthy when its tasks complete: no workflow task retried after a failure. */
async function assertHealthy(f: Fixture, workflowId: string, id: string): Promise<void> {
  const handle = f.client.temporal.workflow.getHandle(workflowId);
  await eventually(async () => {
    const d = await handle.describe();
    const pending = d.raw.pendingWorkflowTask;
    assert.ok(!pending || (pending.attempt ?? 1) <= 1, `${id}: ${workflowId} fails its workflow tasks (attempt ${pending?.attempt})`);
    return pending ? undefined : true;
  }, `${workflowId} to finish its workflow task`);
  assert.equal((await handle.describe()).status.name, 'RUNNING', `${id}: ${workflowId} is still running`);
}

async function runSignal(c: SignalCase, f: Fixture): Promise<void> {
  const workflowId = fill(c.workflowId, f, c.ticket);
  await f.client.temporal.workflow.getHandle(workflowId).signal(c.signal, ...c.args);
  await assertHealthy(f, workflowId, c.id);
  if (c.expected.recorded) {
    const marker = (c.args[0] as { comment?: unknown } | null | undefined)?.comment;
    const recorded = c.expected.recorded;
    const attempt = await eventually(async () => {
      const t = await f.client.ticket(f.project, f.tickets[c.ticket!]);
      return t.attempts.find(
        (a) => a.via === 'signal' && (typeof marker !== 'string' || marker.startsWith(a.comment ?? '\0')) && recorded.test(a.refusal ?? ''),
      );
    }, `${c.id}: its attempt in the ticket's record`);
    assert.equal(attempt.accepted, false, c.id);
  }
}

async function runGitPushes(cases: GitPushCase[], f: Fixture): Promise<void> {
  // One clone, with a commit the remote does not have; the pushes one after another.
  const repo = await clone(f.remote, 'integration');
  fs.writeFileSync(path.join(repo.dir, 'hostile.txt'), 'not for staging\n');
  await repo.git.add(['--all']).commit('hostile push');
  await runAll(cases, 1, async (c) => {
    const err = await run('git', ['push', '--porcelain', 'origin', ...c.refspec.split(' ')], { cwd: repo.dir, encoding: 'utf8' }).then(
      (r) => assert.fail(`${c.id}: the push was accepted: ${r.stderr}`),
      (e: unknown) => e as { code: number; stdout: string; stderr: string },
    );
    const output = `${err.stdout}\n${err.stderr}`;
    assert.notEqual(err.code, 0, c.id);
    assert.match(output, /pre-receive hook declined/, output);
    assert.match(output, c.expected.message, output);
  });
  // A refused push leaves none of its objects in the remote.
  const commit = (await repo.git.revparse(['HEAD'])).trim();
  const kept = await run('git', ['cat-file', '-e', commit], { cwd: f.remote }).then(() => true, () => false);
  assert.equal(kept, false, `the refused commit ${commit} is in the remote`);
}

/** Writes one case's file into a working tree (the previous case's file restored first). */
function writeCase(dir: string, c: ProjectFileCase): void {
  const full = path.join(dir, c.file);
  fs.rmSync(full, { force: true });
  if (c.content === null) return;
  fs.mkdirSync(path.dirname(full), { recursive: true });
  if (typeof c.content === 'string') fs.writeFileSync(full, c.content);
  else if ('bytes' in c.content) fs.writeFileSync(full, Buffer.from(c.content.bytes));
  else fs.symlinkSync(c.content.symlink, full);
}

describe('hostile input', function () {
  this.timeout(300_000);
  let f: Fixture;
  let baseline: unknown;

  it(`the catalogue has at least 60 cases over the six surfaces (${HOSTILE_CASES.length})`, function () {
    const per: Record<Surface, number> = { cli: 0, api: 0, update: 0, signal: 0, 'git-push': 0, 'project-files': 0 };
    for (const c of HOSTILE_CASES) per[c.surface]++;
    console.log(`      ${Object.entries(per).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    assert.ok(HOSTILE_CASES.length >= 60);
    for (const n of Object.values(per)) assert.ok(n >= 8, JSON.stringify(per));
    assert.equal(new Set(HOSTILE_CASES.map((c) => c.id)).size, HOSTILE_CASES.length, 'ids are unique');
  });

  describe('CLI, API, Updates, signals and git pushes', function () {
    before(async function () {
      const p = await deployedProject('hostile', {}, { productionApprovals: 2 });
      const { client } = p;
      const open = (requester: string, target: 'staging' | 'production' = 'production') =>
        client.openTicket({ project: p.project, kind: 'promotion', target, requester, title: 'hostile-input fixture', expiresInMs: 72 * HOUR, remindBeforeMs: HOUR });
      const promotion = await client.promote(p.project, 'staging', 'alice');
      const [openT, samT, closedT, signalsT] = await Promise.all([open('alice'), open('sam'), open('alice'), open('alice')]);
      await client.decide(p.project, openT.id, { user: 'sue', decision: 'approve' });
      await client.decide(p.project, signalsT.id, { user: 'sue', decision: 'approve' });
      await client.decide(p.project, closedT.id, { user: 'sue', decision: 'reject', comment: 'no' });
      f = {
        client,
        project: p.project,
        home: p.layout.home,
        remote: p.remote,
        repo: p.repo,
        tickets: { open: openT.id, 'requested-by-sam': samT.id, closed: closedT.id, promotion: promotion.ticket, signals: signalsT.id },
      };
      baseline = await snapshot(f);
    });

    it(`refuses ${UPDATE_CASES.length} Updates at once, with their reason`, async function () {
      await runAll(UPDATE_CASES, 8, (c) => runUpdate(c, f));
    });

    it(`keeps ${SIGNAL_CASES.length} bad signals out: ignored or recorded as refused, the workflows healthy`, async function () {
      await runAll(SIGNAL_CASES, 8, (c) => runSignal(c, f));
    });

    it(`answers ${API_CASES.length} bad requests with 4xx and a message`, async function () {
      await runAll(API_CASES, 8, (c) => runApi(c, f));
    });

    it(`refuses ${GIT_PUSH_CASES.length} pushes in the pre-receive hook`, async function () {
      await runGitPushes(GIT_PUSH_CASES, f);
    });

    it(`exits 1 or 2 with a message for ${CLI_CASES.length} bad commands`, async function () {
      await runAll(CLI_CASES, 4, (c) => runCli(c, f));
    });

    it('changed nothing: registry, releases, branches and decisions', async function () {
      assert.ok(baseline, 'the fixture was made');
      for (const id of [workflowIds.project(f.project), workflowIds.environment(f.project, 'integration')]) await assertHealthy(f, id, 'after all cases');
      assert.deepEqual(await snapshot(f), baseline);
      const t: TicketRecord = await f.client.ticket(f.project, f.tickets.signals);
      assert.ok(t.attempts.every((a) => !a.accepted || a.user === 'sue'), 'no hostile attempt was accepted');
    });
  });

  it(`refuses ${PROJECT_FILE_CASES.length} broken project files at validation, naming file, key and reason; nothing is deployed`, async function () {
    const p = await deployedProject('hostile-files');
    const lanes = ['integration', 'lane-b', 'lane-c'];
    for (const lane of lanes.slice(1)) await p.client.branch(p.project, { name: lane });
    const pageBefore = await getPage(p.project, 'integration');
    const failures: string[] = [];
    await Promise.all(
      lanes.map(async (lane, i) => {
        let after = (await p.client.waitForDeployment(p.project, lane)).deployment;
        const current = (await p.client.environmentStatus(p.project, lane)).current?.deployment;
        const repo = await clone(p.remote, lane);
        let previous: string | undefined;
        for (const c of PROJECT_FILE_CASES.filter((_, j) => j % lanes.length === i)) {
          if (previous && previous !== c.file) {
            fs.rmSync(path.join(repo.dir, previous), { force: true });
            fs.copyFileSync(path.join(SAMPLE_STORE, previous), path.join(repo.dir, previous));
          }
          previous = c.file;
          writeCase(repo.dir, c);
          const commit = await commitOnly(repo, {}, c.id);
          await repo.git.push('origin', `HEAD:refs/heads/${lane}`);
          const d = await p.client.waitForDeployment(p.project, lane, { commit, after });
          after = d.deployment;
          if (d.status !== 'failed' || d.failedStep !== 'validate' || !c.expected.message.test(d.error ?? '')) {
            failures.push(`${c.id}: ${d.status} at ${d.failedStep ?? '-'}: ${d.error ?? ''}`);
            continue;
          }
          if (/\[(build-hook|stage-release|maintenance-on)\]/.test(p.client.deploymentLog(p.project, lane, d.deployment))) {
            failures.push(`${c.id}: the log goes past validation`);
          }
        }
        assert.equal((await p.client.environmentStatus(p.project, lane)).current?.deployment, current, `${lane}'s release is unchanged`);
      }),
    );
    assert.deepEqual(failures, []);
    const pageAfter = await getPage(p.project, 'integration');
    assert.equal(pageAfter.headers['x-slipway-release'], pageBefore.headers['x-slipway-release']);
  });
});
