/** The environment tree shared by `slipway env list` and the web interface's project page. */
import { strict as assert } from 'node:assert';
import { environmentTree, treeRows } from '../../src/domain/environment-tree';

describe('environmentTree', function () {
  // In registry order: a grandchild created after its parent's sibling.
  const registry = [
    { name: 'integration', type: 'integration', status: 'active', parent: 'master' },
    { name: 'production', type: 'production', status: 'active' },
    { name: 'master', type: 'global-master', status: 'active' },
    { name: 'staging', type: 'staging', status: 'active' },
    { name: 'a', type: 'integration-child', status: 'active', parent: 'integration' },
    { name: 'b', type: 'integration-child', status: 'active', parent: 'integration' },
    { name: 'a-1', type: 'integration-child', status: 'inactive', parent: 'a' },
  ];

  it('puts each environment right under its parent, roots master, integration, staging, production', function () {
    const rows = treeRows(environmentTree(registry)).map((r) => `${r.depth}:${r.node.name}`);
    // integration names master as its parent here: it is shown under it.
    assert.deepEqual(rows, ['0:master', '1:integration', '2:a', '3:a-1', '2:b', '0:staging', '0:production']);
  });

  it('keeps every field of the entry (env list --json prints the tree) and shows a row once', function () {
    const [root] = environmentTree([{ name: 'integration', type: 'integration', status: 'active', host: 'local' }]);
    assert.deepEqual(root, { name: 'integration', type: 'integration', status: 'active', host: 'local', children: [] });
    const looped = [
      { name: 'x', type: 'integration-child', status: 'active', parent: 'y' },
      { name: 'y', type: 'integration-child', status: 'active', parent: 'x' },
      { name: 'z', type: 'integration-child', status: 'active', parent: 'z' },
    ];
    assert.deepEqual(treeRows(environmentTree(looped)).map((r) => r.node.name), ['z']);
  });
});
