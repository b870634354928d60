/** The plan's hosts: `--hosts kind=h1,h2` parsed, validated with clear errors, staging and production on dedicated hosts. */
import { strict as assert } from 'node:assert';
import { parseHostAssignments, planHosts } from '../../src/client-lib/projects';
import { hostFieldsFor, hostRoleOf, hostsOf, projectHosts } from '../../src/domain/project';
import { createProjectInputSchema } from '../../src/domain/schemas';
import { zodMessage } from '../../src/client-lib/checks';

describe("a project's hosts", function () {
  it('parses --hosts per kind and fills the kinds left out with --host', function () {
    const named = parseHostAssignments(['integration=web1', 'staging=web2', 'production=web2,web3']);
    assert.deepEqual(named, { integration: ['web1'], staging: ['web2'], production: ['web2', 'web3'] });
    assert.deepEqual(planHosts('local', { production: ['web2', 'web3'] }), { integration: ['local'], staging: ['local'], production: ['web2', 'web3'] });
    assert.equal(planHosts('local', undefined), undefined);
    assert.equal(planHosts('local', {}), undefined);
  });

  it('refuses malformed values, naming what was wrong', function () {
    assert.throws(() => parseHostAssignments(['production']), /--hosts "production": expected <kind>=<host>\[,<host>…\]/);
    assert.throws(() => parseHostAssignments(['qa=web1']), /unknown kind "qa"; expected integration, staging, production/);
    assert.throws(() => parseHostAssignments(['staging=web2', 'staging=web3']), /staging given twice/);
    const problem = (hosts: unknown): string => {
      const r = createProjectInputSchema.safeParse({ project: 'shop', from: '/x', hosts });
      assert.ok(!r.success, JSON.stringify(hosts));
      return zodMessage(r.error);
    };
    assert.match(problem({ production: ['Web2'] }), /hosts\.production\.0: a host must be a lowercase name/);
    assert.match(problem({ production: [] }), /production needs at least one host/);
    assert.match(problem({ production: ['web2', 'web2'] }), /production names a host twice/);
    assert.match(problem({ qa: ['web2'] }), /hosts may name only integration, staging and production, not qa/);
    assert.match(problem({ production: 'web2' }), /production's hosts must be a list/);
  });

  it('keeps staging and production off the shared hosts of integration', function () {
    assert.throws(() => planHosts('local', { integration: ['web1'], production: ['web1', 'web2'] }), /production runs on dedicated hosts, but web1 also serves integration/);
    assert.throws(() => planHosts('web1', { production: ['web1'] }), /production runs on dedicated hosts, but web1 also serves integration \(integration names no hosts, so it runs on --host web1\)/);
    // A kind left out stays on --host with integration, as a project of one host always did.
    assert.deepEqual(planHosts('web1', { production: ['web2'] }), { integration: ['web1'], staging: ['web1'], production: ['web2'] });
    // Staging and production share their dedicated hosts (seed 004).
    assert.ok(planHosts('local', { integration: ['web1'], staging: ['web2'], production: ['web2', 'web3'] }));
  });

  it('gives new environments their kind of hosts; state without hosts keeps one host', function () {
    const state = { host: 'web1', hosts: { integration: ['web1'], staging: ['web2'], production: ['web2', 'web3'] } };
    assert.deepEqual(hostFieldsFor(state, hostRoleOf('production')), { host: 'web2', hosts: ['web2', 'web3'] });
    assert.deepEqual(hostFieldsFor(state, hostRoleOf('integration-child')), { host: 'web1', hosts: ['web1'] });
    assert.deepEqual(hostFieldsFor({ host: 'local' }, 'production'), { host: 'local' });
    assert.deepEqual(projectHosts({ host: 'local' }), { integration: ['local'], staging: ['local'], production: ['local'] });
    assert.deepEqual(hostsOf({ host: 'local' }), ['local']);
  });
});
