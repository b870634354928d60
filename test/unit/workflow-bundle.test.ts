/**
 * The workflow bundle holds the workflows, the pure domain code they use and the SDK, nothing
 * else. Every new workflow evaluates the bundle's modules afresh in its sandbox: zod alone
 * (with its 130 locales) cost ~6 ms per deployment's start and memory per cached workflow.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { workflowBundle } from '../../src/temporal/workflow-bundle';

/** Packages the workflow code may pull in: the SDK and its own dependencies. */
const ALLOWED = new Set(['@temporalio/workflow', '@temporalio/common', 'long', 'ms', 'nexus-rpc']);

describe('the workflow bundle', function () {
  it('holds no package beyond the SDK and its dependencies (no zod, no yaml)', async function () {
    const bundle = await workflowBundle();
    const code = 'codePath' in bundle ? fs.readFileSync(bundle.codePath, 'utf8') : bundle.code;
    const packages = new Set<string>();
    for (const m of code.matchAll(/"\.\/node_modules\/((?:@[^/"]+\/)?[^/"]+)\//g)) packages.add(m[1]!);
    assert.ok(packages.has('@temporalio/workflow'), `the SDK is in the bundle: ${[...packages].join(', ')}`);
    const extra = [...packages].filter((p) => !ALLOWED.has(p));
    assert.deepEqual(extra, [], `packages in the workflow bundle besides the SDK: ${extra.join(', ')}`);
  });
});
