/**
 * Activities that touch Git: the project's bare remote and build workspaces checked out of it.
 * Every command goes through simple-git with arguments, never a shell string.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_INPUT, MERGE_CONFLICT, REFUSED } from '../domain/failure-types';
import { MAIN_BRANCHES } from '../domain/names';
import { DEFAULT_MAX_PUSH_SIZE, sizeInBytes } from '../domain/push-limit';
import type { DeploymentKey } from '../domain/deployment';
import { PACKAGE_ROOT, hookToken, type Layout } from '../home';
import { StepLog, stepFailure, errorMessage } from './lib/step-log';

const ENGINE_IDENTITY = ['user.name=Slipway', 'user.email=engine@slipway.invalid'];

/**
 * simple-git waits 50 ms after a command that printed nothing before it resolves (to be sure
 * of having read all output). The commands of a deployment's path are therefore run so that
 * they print something (no `--quiet`, or `--verbose`): that saves 50 ms each.
 */
export const git = (baseDir?: string): SimpleGit =>
  simpleGit({ baseDir, config: ENGINE_IDENTITY, timeout: { block: 120_000 } });

/** A commit's Git tree id, read in the project's remote. */
export async function treeOfCommit(layout: Layout, project: string, commit: string): Promise<string> {
  return (await git(layout.remote(project)).revparse([`${commit}^{tree}`])).trim();
}

/**
 * The checkout step: the commit in a clean build workspace (recreated on every attempt, so a
 * retry starts from scratch), and its Git tree id, the first part of the slug key (read here
 * unless the caller read it already).
 */
export async function checkOutCommit(
  layout: Layout,
  input: DeploymentKey & { commit: string },
  log: StepLog,
  knownTreeId?: string,
): Promise<{ workspace: string; treeId: string }> {
  const remote = layout.remote(input.project);
  const workspace = layout.buildWorkspace(input);
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(workspace), { recursive: true });
  let treeId: string;
  try {
    treeId = knownTreeId ?? (await treeOfCommit(layout, input.project, input.commit));
    await git().clone(remote, workspace, ['--shared', '--no-checkout']);
    await git(workspace).checkout(['--detach', input.commit]);
  } catch (err) {
    throw stepFailure({ step: 'checkout', logTail: '', message: `cannot check out ${input.commit}: ${errorMessage(err)}` });
  }
  log.line('checkout', `tree ${treeId}`);
  return { workspace, treeId };
}

export interface CreateRemoteInput {
  project: string;
  /** Absolute path of the directory whose files become the initial commit. */
  from: string;
  /** The project's plan, recorded in the remote (`slipway.plan`) for the sandbox's limits. */
  plan?: string;
}

export interface CreateRemoteResult {
  remote: string;
  commit: string;
}

/** Quotes a value for a POSIX shell script: the only shell text we write, from our own paths. */
function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The post-receive hook: POSIX sh. With curl it posts the ref updates to the engine's API
 * without starting Node (a push returns in tens of milliseconds); otherwise, or when the API
 * does not answer, it hands them to the Node hook, which can also reach Temporal directly.
 * Before curl it uses shell builtins only (the project id is written into the script): every
 * process it starts would delay the deployment by a few milliseconds.
 */
function postReceiveScript(layout: Layout, project: string): string {
  const entry = path.join(PACKAGE_ROOT, 'dist', 'src', 'git-hooks', 'post-receive.js');
  return [
    '#!/bin/sh',
    '# Installed by Slipway: hands the pushed refs to the engine.',
    `SLIPWAY_HOME=${shQuote(layout.home)}`,
    'export SLIPWAY_HOME',
    `project=${shQuote(project)}`,
    'input=',
    'while read -r line || [ -n "$line" ]; do input="$input$line',
    '"; done',
    'api=',
    '[ -r "$SLIPWAY_HOME/api-url" ] && read -r api < "$SLIPWAY_HOME/api-url"',
    'if [ -n "$api" ] && [ -r "$SLIPWAY_HOME/hook-auth" ] && command -v curl >/dev/null 2>&1; then',
    `  if printf '%s' "$input" | curl -sSf --max-time 15 -H "@$SLIPWAY_HOME/hook-auth" \\`,
    '      -H "content-type: text/plain" --data-binary @- "$api/v1/hooks/post-receive/$project" >&2; then',
    '    exit 0',
    '  fi',
    'fi',
    `printf '%s' "$input" | exec ${shQuote(process.execPath)} ${shQuote(entry)}`,
    '',
  ].join('\n');
}

/**
 * The pre-receive hook: only branches (`refs/heads/*`: no tags, notes or other refs, from
 * anyone), staging, production and master take code only from the engine (promotion),
 * integration cannot be deleted, and a new branch must be able to name an environment. It
 * refuses the whole push, saying why and how code gets there. Shell builtins only (no grep, no
 * git config): it runs before every push is accepted.
 */
function preReceiveScript(layout: Layout, project: string): string {
  return `#!/bin/sh
# Installed by Slipway: branches only, read-only branches and environment names.
LC_ALL=C
SLIPWAY_HOME=${shQuote(layout.home)}
project=${shQuote(project)}
token=
[ -r "$SLIPWAY_HOME/hook-token" ] && read -r token < "$SLIPWAY_HOME/hook-token"
zero=0000000000000000000000000000000000000000
engine=no
if [ -n "$token" ] && [ "\${SLIPWAY_ENGINE_PUSH:-}" = "$token" ]; then engine=yes; fi
status=0
while read -r old new ref; do
  case "$ref" in
    refs/heads/*) ;;
    *)
      echo "Slipway: $ref refused: the remote accepts only branches (refs/heads/*); tags and other refs are not kept." >&2
      status=1
      continue ;;
  esac
  branch=\${ref#refs/heads/}
  case "$branch" in
    staging|production|master)
      [ "$engine" = yes ] && continue
      case "$branch" in
        staging) echo "Slipway: staging is read-only: code arrives only by promotion from integration (slipway promote $project staging)." >&2 ;;
        production) echo "Slipway: production is read-only: code arrives only by promotion from staging (slipway promote $project production)." >&2 ;;
        master) echo "Slipway: master (Global Master) is read-only: it receives production's code after every successful production deployment; nobody branches from it." >&2 ;;
      esac
      status=1 ;;
    integration)
      if [ "$new" = "$zero" ]; then
        echo "Slipway: integration cannot be deleted: it is the base of every integration environment." >&2
        status=1
      fi ;;
    *)
      # An environment name: 1 to 40 of a-z, 0-9 and '-', neither first nor last a '-'.
      bad=no
      case "$branch" in ''|-*|*-|*[!a-z0-9-]*) bad=yes ;; esac
      if [ \${#branch} -gt 40 ]; then bad=yes; fi
      if [ "$new" != "$zero" ] && [ "$bad" = yes ]; then
        echo "Slipway: branch '$branch' cannot be an environment: use 1 to 40 lowercase letters, digits and '-' (it becomes part of a host name)." >&2
        status=1
      fi ;;
  esac
done
exit $status
`;
}

export function installRemoteHooks(layout: Layout, remote: string, project: string): void {
  for (const [hook, script] of [
    ['pre-receive', preReceiveScript(layout, project)],
    ['post-receive', postReceiveScript(layout, project)],
  ] as const) {
    const file = path.join(remote, 'hooks', hook);
    fs.writeFileSync(`${file}.tmp`, script, { mode: 0o755 });
    fs.renameSync(`${file}.tmp`, file);
  }
}

/** The Git setting that limits one push (see src/domain/push-limit.ts). */
const MAX_INPUT_SIZE = 'receive.maxInputSize';

async function configValue(remote: string, key: string): Promise<string> {
  // `git config --get` exits 1 for a missing key; simple-git resolves then with no output.
  return git(remote).raw(['config', '--get', key]).then((o) => o.trim(), () => '');
}

/**
 * The remote's settings that Slipway manages: a push size limit (the default unless one is
 * set), and every pack received through index-pack (`receive.unpackLimit` 1), whose refusal of
 * a pack over the limit names the limit.
 */
async function configureRemote(remote: string): Promise<void> {
  const r = git(remote);
  if ((await configValue(remote, MAX_INPUT_SIZE)) === '') await r.addConfig(MAX_INPUT_SIZE, String(DEFAULT_MAX_PUSH_SIZE));
  if ((await configValue(remote, 'receive.unpackLimit')) !== '1') await r.addConfig('receive.unpackLimit', '1');
}

/** The push size limit of a project's remote, in bytes. */
export async function pushLimitOf(layout: Layout, project: string): Promise<number> {
  const remote = layout.remote(project);
  if (!fs.existsSync(path.join(remote, 'slipway-ready'))) throw new Error(`project ${project} has no remote in ${layout.home}`);
  return sizeInBytes(await configValue(remote, MAX_INPUT_SIZE)) ?? DEFAULT_MAX_PUSH_SIZE;
}

/** Sets the push size limit of a project's remote (it applies to the next push). */
export async function setPushLimit(layout: Layout, project: string, bytes: number): Promise<void> {
  const remote = layout.remote(project);
  if (!fs.existsSync(path.join(remote, 'slipway-ready'))) throw new Error(`project ${project} has no remote in ${layout.home}`);
  await configureRemote(remote);
  await git(remote).addConfig(MAX_INPUT_SIZE, String(bytes));
}

/**
 * Brings every project's remote up to this version: its hooks written again (a remote made by
 * an earlier version gets the current rules, such as branches only) and its settings (a push
 * size limit). Run when the engine starts. Returns the projects, and those that failed and why.
 */
export async function upgradeRemotes(layout: Layout): Promise<{ upgraded: string[]; failed: string[] }> {
  const dir = path.join(layout.home, 'git');
  const upgraded: string[] = [];
  const failed: string[] = [];
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    const remote = path.join(dir, name);
    if (!name.endsWith('.git') || !fs.existsSync(path.join(remote, 'slipway-ready'))) continue;
    const project = name.slice(0, -'.git'.length);
    try {
      installRemoteHooks(layout, remote, project);
      await configureRemote(remote);
      upgraded.push(project);
    } catch (err) {
      failed.push(`${project}: ${errorMessage(err)}`);
    }
  }
  return { upgraded, failed };
}

export function createGitActivities(layout: Layout) {
  return {
    /**
     * Creates the project's bare remote with master, integration, staging and production all
     * at one initial commit made from `from`. Idempotent: a complete remote is left as it is.
     */
    async createProjectRemote(input: CreateRemoteInput): Promise<CreateRemoteResult> {
      const remote = layout.remote(input.project);
      if (fs.existsSync(path.join(remote, 'slipway-ready'))) {
        const commit = (await git(remote).revparse(['refs/heads/integration'])).trim();
        return { remote, commit };
      }
      if (!fs.statSync(input.from, { throwIfNoEntry: false })?.isDirectory()) {
        throw ApplicationFailure.nonRetryable(
          `cannot create project ${input.project}: ${input.from} is not a directory`,
          INVALID_INPUT,
        );
      }
      // A half-made remote from an earlier attempt is discarded: nobody can have pushed to it.
      fs.rmSync(remote, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(remote), { recursive: true });
      await git().init(['--bare', '--initial-branch=master', remote]);

      const work = fs.mkdtempSync(path.join(os.tmpdir(), `slipway-init-${input.project}-`));
      try {
        fs.cpSync(input.from, work, {
          recursive: true,
          filter: (src) => path.basename(src) !== '.git' && path.basename(src) !== 'node_modules',
        });
        const w = git(work);
        await w.init(['--initial-branch=master']);
        await w.add(['--all']);
        await w.commit('Initial commit', undefined, { '--allow-empty': null });
        const commit = (await w.revparse(['HEAD'])).trim();
        await w.raw(['push', remote, ...MAIN_BRANCHES.map((b) => `HEAD:refs/heads/${b}`)]);
        const r = git(remote);
        await r.addConfig('slipway.project', input.project);
        if (input.plan) await r.addConfig('slipway.plan', input.plan);
        await configureRemote(remote);
        installRemoteHooks(layout, remote, input.project);
        fs.writeFileSync(path.join(remote, 'slipway-ready'), `${commit}\n`);
        return { remote, commit };
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    },

    /** Creates a branch at another branch's head, in the remote (no hook runs). Idempotent. */
    async createBranch(input: { project: string; name: string; from: string }): Promise<{ commit: string }> {
      const r = git(layout.remote(input.project));
      const commit = (await r.revparse([`refs/heads/${input.from}`])).trim();
      const existing = await r.raw(['for-each-ref', '--format=%(objectname)', `refs/heads/${input.name}`]);
      if (existing.trim() && existing.trim() !== commit) {
        throw ApplicationFailure.nonRetryable(`branch ${input.name} exists already`, REFUSED);
      }
      await r.raw(['update-ref', `refs/heads/${input.name}`, commit, existing.trim() || '']);
      return { commit };
    },

    /** Deletes a branch in the remote (no hook runs). Idempotent. */
    async deleteBranch(input: { project: string; name: string }): Promise<void> {
      const r = git(layout.remote(input.project));
      const existing = (await r.raw(['for-each-ref', '--format=%(objectname)', `refs/heads/${input.name}`])).trim();
      if (existing) await r.raw(['update-ref', '-d', `refs/heads/${input.name}`, existing]);
    },

    /**
     * Merges one branch into another in a scratch clone and pushes the result as the engine
     * (the remote's hooks then deploy the target like any push). A conflict changes nothing:
     * the merge is aborted and the conflicting paths are reported.
     */
    async mergeBranch(input: { project: string; source: string; target: string; message: string }): Promise<{ commit: string; changed: boolean }> {
      const remote = layout.remote(input.project);
      const work = fs.mkdtempSync(path.join(os.tmpdir(), `slipway-merge-${input.project}-`));
      try {
        await git().clone(remote, work, ['--shared', '--branch', input.target]);
        const w = git(work);
        const before = (await w.revparse(['HEAD'])).trim();
        // simple-git's raw() does not reject every failed merge (a conflict exits 1 with
        // nothing on stderr), so the outcome is read from the repository itself.
        const merged = await w.raw(['merge', '--no-ff', '--no-edit', '-m', input.message, `origin/${input.source}`]).then(
          () => undefined,
          (err: unknown) => err,
        );
        const conflicted = (await w.raw(['diff', '--name-only', '--diff-filter=U'])).trim().split('\n').filter(Boolean);
        const mergeHead = await w.raw(['rev-parse', '-q', '--verify', 'MERGE_HEAD']).then((o) => o.trim(), () => '');
        if (conflicted.length > 0 || mergeHead) {
          await w.raw(['merge', '--abort']).catch(() => undefined);
          throw ApplicationFailure.create({
            message: `merging ${input.source} into ${input.target} conflicts in: ${conflicted.join(', ') || '(unknown paths)'}; nothing was changed. Resolve it in a clone (git merge ${input.source}) and push.`,
            type: MERGE_CONFLICT,
            nonRetryable: true,
            details: [{ paths: conflicted }],
          });
        }
        if (merged) throw merged instanceof Error ? merged : new Error(`git merge failed: ${JSON.stringify(merged)}`);
        const after = (await w.revparse(['HEAD'])).trim();
        if (after === before) return { commit: after, changed: false };
        await w
          // A minimal environment: PATH for the remote's hooks, and the engine's mark.
          .env({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', SLIPWAY_ENGINE_PUSH: hookToken(layout) })
          .raw(['push', 'origin', `HEAD:refs/heads/${input.target}`]);
        return { commit: after, changed: true };
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    },

    /** Deployment-settings files that differ between two commits, and the diff. */
    async settingsChange(input: { project: string; from: string; to: string }): Promise<{ files: string[]; diff: string } | undefined> {
      const r = git(layout.remote(input.project));
      const paths = ['.magento.app.yaml', '.magento', '.magento.env.yaml'];
      const files = (await r.raw(['diff', '--name-only', input.from, input.to, '--', ...paths])).trim().split('\n').filter(Boolean);
      if (files.length === 0) return undefined;
      const diff = await r.raw(['diff', input.from, input.to, '--', ...paths]);
      return { files, diff: diff.length > 20_000 ? `${diff.slice(0, 20_000)}\n… (diff cut at 20000 characters)` : diff };
    },

    /**
     * Moves a branch forward to a commit, as the engine (no hook runs): only a fast-forward,
     * so nothing on the target is lost. Idempotent.
     */
    async fastForward(input: { project: string; branch: string; commit: string }): Promise<{ from: string }> {
      const r = git(layout.remote(input.project));
      const from = (await r.revparse([`refs/heads/${input.branch}`])).trim();
      if (from === input.commit) return { from };
      // `merge-base --is-ancestor` answers by exit code alone, which simple-git's raw() does not
      // report (it resolves on exit 1 when nothing was printed): compare the merge base instead.
      const base = await r.raw(['merge-base', from, input.commit]).then((out) => out.trim(), () => '');
      const ff = base === from;
      if (!ff) {
        throw ApplicationFailure.nonRetryable(
          `the histories of ${input.branch} and ${input.commit.slice(0, 12)} have diverged: ${input.branch} is at ${from.slice(0, 12)}, ` +
            `which is not in the history of ${input.commit.slice(0, 12)} (a force-push, or unrelated history). A promotion only fast-forwards, ` +
            `so nothing on ${input.branch} is lost; ${input.branch} is unchanged. To reconcile, merge ${input.branch} into the branch you promote ` +
            `(git fetch origin ${input.branch} && git merge origin/${input.branch}), push it, and promote again`,
          REFUSED,
        );
      }
      await r.raw(['update-ref', `refs/heads/${input.branch}`, input.commit, from]);
      return { from };
    },

    /**
     * Moves a branch back to where it was before a promotion moved it (the promoted deployment
     * was rolled back), as the engine: only if it still points where the promotion put it.
     */
    async moveBranchBack(input: { project: string; branch: string; to: string; from: string }): Promise<void> {
      const r = git(layout.remote(input.project));
      const head = (await r.revparse([`refs/heads/${input.branch}`])).trim();
      if (head === input.to) return;
      if (head !== input.from) {
        throw ApplicationFailure.nonRetryable(
          `${input.branch} moved to ${head.slice(0, 12)} meanwhile; left there`,
          REFUSED,
        );
      }
      await r.raw(['update-ref', `refs/heads/${input.branch}`, input.to, input.from]);
    },

    /** The commit a branch points at now. */
    async resolveBranchHead(input: { project: string; branch: string }): Promise<string> {
      const out = await git(layout.remote(input.project)).revparse([`refs/heads/${input.branch}`]);
      return out.trim();
    },
  };
}
