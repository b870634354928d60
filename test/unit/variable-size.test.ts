/**
 * MAGENTO_CLOUD_VARIABLES is one process variable, and Linux gives one at most 128 KiB: a change
 * of variables that would make it larger for any environment (its own, one below it through
 * inheritance, or all through a project variable) is refused when it is asked for, naming the
 * environment and the largest variables, and nothing is written. Without it the deployment
 * failed later with "spawn E2BIG" from its hook or PHP-FPM.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROCESS_VARIABLE_MAX_BYTES, magentoCloudVariablesProblem } from '../../src/domain/variables';
import { Layout } from '../../src/home';
import { checkVariableFits, listVariables, recordParents, sealedVariable, setVariable, type VariableWrite } from '../../src/variables/store';

const KiB = 1024;
const text = (bytes: number, c = 'x'): string => c.repeat(bytes);

describe('the size of MAGENTO_CLOUD_VARIABLES', function () {
  it('fits while the base64 of its JSON fits one process variable; env: variables are each their own', function () {
    assert.equal(magentoCloudVariablesProblem([{ name: 'a', value: text(64 * KiB) }]), undefined);
    const two = [
      { name: 'big', value: text(64 * KiB) },
      { name: 'bigger', value: text(64 * KiB + 1) },
      { name: 'small', value: 'x' },
    ];
    const problem = magentoCloudVariablesProblem(two);
    assert.match(problem ?? '', /^MAGENTO_CLOUD_VARIABLES would be 170\.\d KiB, more than the 128 KiB Linux allows one process variable \(the largest: bigger \(64\.0 KiB\), big \(64\.0 KiB\), small \(0\.0 KiB\)\)/);
    assert.equal(magentoCloudVariablesProblem(two.map((v) => ({ ...v, name: `env:${v.name.toUpperCase()}` }))), undefined);
    // The boundary: "MAGENTO_CLOUD_VARIABLES=" + base64 + NUL.
    const json = (n: number): number => JSON.stringify({ v: text(n) }).length;
    let n = 98_000;
    while ('MAGENTO_CLOUD_VARIABLES='.length + 4 * Math.ceil(json(n + 1) / 3) + 1 <= PROCESS_VARIABLE_MAX_BYTES) n++;
    assert.equal(magentoCloudVariablesProblem([{ name: 'v', value: text(n) }]), undefined);
    assert.notEqual(magentoCloudVariablesProblem([{ name: 'v', value: text(n + 3) }]), undefined);
  });

  describe('the store refuses a change that would not fit, and writes nothing', function () {
    let home: string;
    let layout: Layout;
    const w = (level: string, name: string, value: string, flags: Partial<VariableWrite> = {}): VariableWrite => ({
      project: 'shop',
      level,
      name,
      value,
      by: 'alice',
      sensitive: false,
      inherit: true,
      build: true,
      runtime: true,
      ...flags,
    });
    const storeFile = (): string => fs.readFileSync(path.join(home, 'variables', 'shop.json'), 'utf8');

    beforeEach(async function () {
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-varsize-'));
      layout = new Layout(home);
      await recordParents(layout, 'shop', { 'feature-1': 'integration' });
      await setVariable(layout, w('integration', 'catalog', text(60 * KiB), { sensitive: true }));
    });
    afterEach(function () {
      fs.rmSync(home, { recursive: true, force: true });
    });

    it('on the environment itself, a sensitive value counted opened', async function () {
      const before = storeFile();
      await assert.rejects(
        setVariable(layout, w('integration', 'pricing', text(60 * KiB))),
        /^InvalidInputError: pricing cannot be set: in integration's build MAGENTO_CLOUD_VARIABLES would be 160\.\d KiB, more than the 128 KiB .*\(the largest: catalog \(60\.0 KiB\), pricing \(60\.0 KiB\)\)/,
      );
      assert.equal(storeFile(), before);
      assert.throws(() => checkVariableFits(layout, 'shop', 'integration', sealedVariable(layout, w('integration', 'pricing', text(60 * KiB)))), /pricing cannot be set/);
      // Seen at runtime only, it still does not fit the runtime; as env:PRICING it does.
      await assert.rejects(setVariable(layout, w('integration', 'pricing', text(60 * KiB), { build: false })), /in integration's runtime MAGENTO_CLOUD_VARIABLES/);
      await setVariable(layout, w('integration', 'env:PRICING', text(60 * KiB)));
      assert.deepEqual(listVariables(layout, 'shop', 'integration').map((v) => v.name), ['catalog', 'env:PRICING']);
    });

    it('below it, through inheritance, and everywhere through a project variable', async function () {
      // feature-1 inherits integration's catalog: its own large value does not fit there.
      await assert.rejects(setVariable(layout, w('feature-1', 'pricing', text(60 * KiB))), /in feature-1's build MAGENTO_CLOUD_VARIABLES/);
      // Not inherited, integration's stays above: it fits.
      await setVariable(layout, w('integration', 'catalog', text(60 * KiB), { inherit: false }));
      await setVariable(layout, w('feature-1', 'pricing', text(60 * KiB)));
      // A project variable reaches integration (and feature-1): refused, naming the first that overflows.
      const before = storeFile();
      await assert.rejects(setVariable(layout, w('project', 'theme', text(60 * KiB))), /theme cannot be set: in feature-1's build MAGENTO_CLOUD_VARIABLES/);
      assert.equal(storeFile(), before);
    });
  });
});
