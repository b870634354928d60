/**
 * Each malformed project file of the catalogue, pushed with git to a deployed environment, is
 * refused at validation with its message, and nothing is deployed.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAMPLE_STORE } from '../../src/cli/demo';
import { MALFORMED_PROJECT_FILES } from '../fixtures/malformed-project-files';
import { commitOnly, deployedProject, getPage, push } from '../harness/world';

describe('malformed project files, pushed', function () {
  it(`refuses all ${MALFORMED_PROJECT_FILES.length} with a clear message, deploying nothing`, async function () {
    this.timeout(300_000);
    const p = await deployedProject('malformed');
    const before = await getPage(p.project, 'integration');
    let after = p.first.deployment;
    let previous: string | undefined;
    for (const c of MALFORMED_PROJECT_FILES) {
      // Each commit: the sample store with this one file broken (the last case's file restored).
      const files: Record<string, string | null> = { [c.file]: c.content };
      if (previous && previous !== c.file) files[previous] = fs.readFileSync(path.join(SAMPLE_STORE, previous), 'utf8');
      previous = c.file;
      const commit = await commitOnly(p.repo, files, c.name);
      await push(p.repo, 'integration');
      const d = await p.client.waitForDeployment(p.project, 'integration', { commit, after });
      after = d.deployment;
      assert.equal(d.status, 'failed', `${c.name} was deployed`);
      assert.equal(d.failedStep, 'validate', `${c.name}: ${d.error}`);
      assert.match(d.error ?? '', c.error, c.name);
      // Nothing was built or deployed: the log stops at validation.
      assert.doesNotMatch(p.client.deploymentLog(p.project, 'integration', d.deployment), /\[(build-hook|stage-release|maintenance-on)\]/);
    }
    const now = await getPage(p.project, 'integration');
    assert.equal(now.headers['x-slipway-release'], before.headers['x-slipway-release']);
    assert.equal(now.body, before.body);
    const status = await p.client.environmentStatus(p.project, 'integration');
    assert.equal(status.current?.deployment, p.first.deployment);
  });
});
