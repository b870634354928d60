/** Every malformed project file of the catalogue is refused by the validator with its message. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatIssue } from '../../src/domain/app-config';
import { planFromProjectFiles, PROJECT_FILES, type ProjectFileTexts } from '../../src/domain/project-files';
import { MALFORMED_PROJECT_FILES } from '../fixtures/malformed-project-files';

const SAMPLE = path.resolve(__dirname, '../../../examples/sample-store');

export function sampleTexts(): ProjectFileTexts {
  const texts: ProjectFileTexts = {};
  for (const f of PROJECT_FILES) texts[f] = fs.readFileSync(path.join(SAMPLE, f), 'utf8');
  return texts;
}

describe('project file validation', function () {
  it('accepts the sample store', function () {
    const plan = planFromProjectFiles(sampleTexts());
    assert.ok(plan.ok, plan.ok ? '' : plan.issues.map(formatIssue).join('\n'));
    assert.equal(plan.manifest.staticContent.where, 'build');
    assert.deepEqual(plan.manifest.mounts, { var: 'var', 'pub/media': 'media' });
    assert.deepEqual(plan.manifest.warmUpPages, ['/', '/about.html']);
  });

  it(`has at least 25 malformed cases (${MALFORMED_PROJECT_FILES.length})`, function () {
    assert.ok(MALFORMED_PROJECT_FILES.length >= 25);
  });

  for (const c of MALFORMED_PROJECT_FILES) {
    it(`refuses ${c.name}`, function () {
      const texts = sampleTexts() as Record<string, string | undefined>;
      if (c.content === null) delete texts[c.file];
      else texts[c.file] = c.content;
      const plan = planFromProjectFiles(texts);
      assert.equal(plan.ok, false, `${c.name} was accepted`);
      const messages = plan.ok ? '' : plan.issues.map(formatIssue).join('\n');
      assert.match(messages, c.error);
    });
  }
});
