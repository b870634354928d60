/**
 * Live progress of long CLI operations: redrawn in place on a real terminal (a pseudo-terminal
 * made by Python's pty module), one plain line per change when the output is a pipe; and
 * `promote --wait` showing its ticket, then the target's deployment.
 */
/* eslint-disable no-control-regex -- the test matches the terminal escapes it expects */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { minimalApp } from '../fixtures/app-yaml';
import { runSlipway, SLIPWAY_BIN, spawnSlipway } from '../harness/processes';
import { deployedProject } from '../harness/world';

const APP = minimalApp({
  build: 'mkdir -p pub\necho "<html><head><title>slow</title></head><body>slow</body></html>" > pub/index.html',
  deploy: 'sleep 2',
});

/** Runs `slipway <args>` with a pseudo-terminal as its stdin, stdout and stderr. */
async function runOnTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const ptyRun = 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))';
  const child = spawn('python3', ['-c', ptyRun, process.execPath, SLIPWAY_BIN, ...args], { env: { ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  child.stdin.end();
  return { code, output };
}

const FRAME = /\r\x1b\[2K(deployment #\d+ [a-z-]+(?:: [a-z-]+)?) \((\d+\.\d) s\)/g;

describe('CLI progress', function () {
  it('is redrawn in place on a terminal and printed as plain lines on a pipe', async function () {
    const p = await deployedProject('progress', { '.magento.app.yaml': APP });
    const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: p.layout.home };
    delete env.TEMPORAL_ADDRESS;

    const tty = await runOnTerminal(['env', 'redeploy', p.project, 'integration'], env);
    assert.equal(tty.code, 0, tty.output);
    const frames = [...tty.output.matchAll(FRAME)].map((m) => ({ line: m[1]!, elapsed: Number(m[2]) }));
    const hook = frames.filter((f) => f.line === 'deployment #2 deploy: deploy-hook');
    // The 2 s deploy hook is shown live: the same line redrawn with a growing elapsed time.
    assert.ok(hook.length >= 3, `redrawn while the deploy hook runs:\n${JSON.stringify(tty.output)}`);
    assert.ok(hook[hook.length - 1]!.elapsed - hook[0]!.elapsed >= 1, 'the elapsed time grows');
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.elapsed >= frames[i - 1]!.elapsed, 'elapsed time never goes back');
    assert.doesNotMatch(tty.output, /\(\d+\.\d s\)\r?\n/, 'no progress line is left behind on a terminal');
    assert.match(tty.output, /\r\x1b\[2Kdeployment #2 of [0-9a-f]{12} is live/, 'the line is cleared before the result');

    const pipe = await runSlipway(['env', 'redeploy', p.project, 'integration'], env);
    assert.equal(pipe.code, 0, pipe.stderr);
    assert.doesNotMatch(pipe.stderr, /\x1b/, 'no terminal escapes on a pipe');
    const lines = pipe.stderr.split('\n').filter((l) => /^deployment #3 /.test(l) && / s\)$/.test(l));
    assert.ok(lines.some((l) => /^deployment #3 deploy: deploy-hook \(\d+\.\d s\)$/.test(l)), pipe.stderr);
    const texts = lines.map((l) => l.replace(/ \(\d+\.\d s\)$/, ''));
    for (let i = 1; i < texts.length; i++) assert.notEqual(texts[i], texts[i - 1], 'one line per change, not per poll');
    assert.match(pipe.stderr, /deployment #3 of [0-9a-f]{12} is live/);
  });

  it('promote --wait shows the ticket while it waits, then the deployment', async function () {
    const p = await deployedProject('progress-promote', { '.magento.app.yaml': APP });
    const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: p.layout.home };
    delete env.TEMPORAL_ADDRESS;
    const promote = spawnSlipway(['promote', p.project, 'staging', '--as', 'alice', '--wait'], env);
    await promote.waitFor(/^SUP-1 waiting for a decision \(0 of 1 approvals\) \(\d+\.\d s\)$/m);
    await p.client.decide(p.project, 'SUP-1', { user: 'sam', decision: 'approve' });
    const { code } = await promote.exited;
    assert.equal(code, 0, promote.output());
    assert.match(promote.output(), /^deployment #1 deploy: deploy-hook \(\d+\.\d s\)$/m);
    assert.match(promote.output(), /staging runs slug \w+ \(deployment #1\)/);
  });
});
