/** The operator's sandbox.yaml: plan defaults, per-project overrides, sizes and durations, and refusals that name the key. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PLAN_SANDBOX_LIMITS, resolveSandboxLimits, sandboxConfigSchema } from '../../src/domain/sandbox-limits';
import { Layout } from '../../src/home';
import { readSandboxConfig } from '../../src/sandbox/limits';
import { tempDir } from '../harness/world';

describe('sandbox limits', function () {
  it('defaults per plan: build 30 min, deploy 15 min, post-deploy 10 min', function () {
    const { plan, limits } = resolveSandboxLimits(sandboxConfigSchema.parse({}), 'shop');
    assert.equal(plan, 'pro');
    assert.deepEqual(limits.timeoutSeconds, { build: 1800, deploy: 900, post_deploy: 600, cron: 1800 });
    assert.ok(PLAN_SANDBOX_LIMITS.enterprise.memoryBytes > PLAN_SANDBOX_LIMITS.pro.memoryBytes);
    assert.equal(resolveSandboxLimits(sandboxConfigSchema.parse({}), 'shop', 'enterprise').limits.memoryBytes, PLAN_SANDBOX_LIMITS.enterprise.memoryBytes);
  });

  it('applies the plan override, then the project override; sizes and durations in units', function () {
    const config = sandboxConfigSchema.parse({
      plans: { pro: { memory: '1GiB', processes: 100 } },
      projects: { shop: { memory: '512MiB', timeouts: { deploy: '90s' }, silence: '2m', cpu_time: '1h', file_size: 1048576 } },
    });
    const { limits } = resolveSandboxLimits(config, 'shop');
    assert.equal(limits.memoryBytes, 512 * 1024 * 1024);
    assert.equal(limits.processes, 100, 'from the plan override');
    assert.deepEqual(limits.timeoutSeconds, { build: 1800, deploy: 90, post_deploy: 600, cron: 1800 });
    assert.equal(limits.silenceSeconds, 120);
    assert.equal(limits.cpuSeconds, 3600);
    assert.equal(limits.fileSizeBytes, 1048576);
    assert.equal(resolveSandboxLimits(config, 'other').limits.memoryBytes, 1024 * 1024 * 1024, 'other projects keep the plan');
    assert.equal(resolveSandboxLimits(sandboxConfigSchema.parse({ projects: { shop: { plan: 'enterprise' } } }), 'shop', 'pro').plan, 'enterprise');
  });

  it('refuses bad values, naming the file and the key', function () {
    const layout = new Layout(tempDir('limits'));
    fs.mkdirSync(layout.home, { recursive: true });
    const file = path.join(layout.home, 'sandbox.yaml');
    const cases: Array<[string, RegExp]> = [
      ['projects:\n  shop: { memory: lots }\n', /projects\.shop\.memory: "lots" is not a size/],
      ['projects:\n  shop: { timeouts: { deploy: 2h } }\n', /projects\.shop\.timeouts\.deploy: at most 55 minutes/],
      ['projects:\n  shop: { timeouts: { deplyo: 5m } }\n', /projects\.shop\.timeouts: Unrecognized key: "deplyo"/],
      ['projects:\n  shop: { memory: 1MiB }\n', /projects\.shop\.memory: at least 16MiB/],
      ['plans:\n  gold: {}\n', /plans: Unrecognized key: "gold"/],
      ['projects: [\n', /^invalid .*sandbox\.yaml: /],
    ];
    for (const [text, why] of cases) {
      fs.writeFileSync(file, text);
      assert.throws(() => readSandboxConfig(layout), (e: Error) => e.message.includes(file) && why.test(e.message), `${text} → ${why}`);
    }
  });
});
