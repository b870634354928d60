/**
 * The project's refusal rules (domain/project-rules): what each request is turned down for, and
 * whether as not-found (an environment the project does not have: 404) or refused (409). The
 * kind comes from the rule, never from the message's wording.
 */
import { strict as assert } from 'node:assert';
import { NOT_FOUND, REFUSED, refusalType } from '../../src/domain/failure-types';
import { environmentTypeOf, MAIN_BRANCHES } from '../../src/domain/names';
import type { EnvironmentEntry, ProjectState } from '../../src/domain/project';
import {
  activateRefusal,
  branchRefusal,
  deactivateRefusal,
  deleteRefusal,
  notReadyRefusal,
  ownEntry,
  promoteRefusal,
  sshKeyRefusal,
  syncRefusal,
  type PromoteRequest,
  type Registry,
  type SshKeyTicketRequest,
} from '../../src/domain/project-rules';
import type { Identity } from '../../src/domain/tickets';

function project(extra: Array<Partial<EnvironmentEntry> & { name: string }> = [], plan: ProjectState['plan'] = 'pro'): ProjectState {
  const environments: Record<string, EnvironmentEntry> = {};
  for (const name of MAIN_BRANCHES) {
    environments[name] = { name, type: environmentTypeOf(name), status: name === 'integration' ? 'active' : 'inactive', host: 'local' };
  }
  for (const e of extra) environments[e.name] = { type: 'integration-child', parent: 'integration', status: 'active', host: 'local', ...e };
  return { project: 'shop', plan, from: 'sample', host: 'local', remote: '/remotes/shop.git', environments };
}

const kindOf = (r: { kind: string } | undefined): string | undefined => r?.kind;
const roster: Identity[] = [
  { user: 'dev', roles: ['developer'] },
  { user: 'sam', roles: ['support'] },
];

describe('project rules', function () {
  it('a project still being created takes no request', function () {
    const p = project();
    assert.equal(notReadyRefusal(p), undefined);
    assert.deepEqual(notReadyRefusal({ ...p, remote: undefined }), { kind: 'refused', message: 'project shop is still being created' });
  });

  it('the failure type follows the kind', function () {
    assert.equal(refusalType({ kind: 'not-found', message: 'x' }), NOT_FOUND);
    assert.equal(refusalType({ kind: 'refused', message: 'no environment "x" in project shop' }), REFUSED);
  });

  describe('an environment the project does not have is not-found, for every operation', function () {
    const p = project();
    const missing = { kind: 'not-found', message: 'no environment "ghost" in project shop' };
    for (const [op, rule] of [
      ['activate', (r: { name: string }) => activateRefusal(p, r)],
      ['deactivate', (r: { name: string }) => deactivateRefusal(p, r)],
      ['delete', (r: { name: string }) => deleteRefusal(p, r)],
      ['sync', (r: { name: string }) => syncRefusal(p, r, 'synced')],
      ['merge', (r: { name: string }) => syncRefusal(p, r, 'merged')],
      ['branch from', (r: { name: string }) => branchRefusal(p, { name: 'new', parent: r.name })],
    ] as const) {
      it(op, function () {
        assert.deepEqual(rule({ name: 'ghost' }), missing);
      });
    }
  });

  it('inherited keys ("constructor") name no environment, unless the lookup says otherwise', function () {
    const p = project();
    assert.equal(ownEntry(p.environments, 'constructor'), undefined);
    assert.equal(kindOf(activateRefusal(p, { name: 'constructor' })), 'not-found');
    assert.equal(branchRefusal(p, { name: 'constructor' }), undefined);
    const legacy: Registry = { ...p, entryOf: (name) => (p.environments as Record<string, EnvironmentEntry | undefined>)[name] };
    assert.equal(branchRefusal(legacy, { name: 'constructor' })?.message, 'environment constructor exists already in project shop');
  });

  it('a request that is not an object is refused', function () {
    const p = project();
    const notObject = null as unknown as { name: string };
    for (const r of [
      branchRefusal(p, notObject),
      activateRefusal(p, notObject),
      deactivateRefusal(p, notObject),
      deleteRefusal(p, notObject),
      syncRefusal(p, notObject, 'synced'),
    ]) {
      assert.deepEqual(r, { kind: 'refused', message: 'a request must be an object such as {"name": "sprint-3"}' });
    }
  });

  describe('branch', function () {
    it('from integration or one of its children, with a free slot', function () {
      const p = project([{ name: 'sprint' }]);
      assert.equal(branchRefusal(p, { name: 'a' }), undefined);
      assert.equal(branchRefusal(p, { name: 'b', parent: 'sprint' }), undefined);
    });
    it('refuses bad names, taken names, master, staging, production and deleted branches as parents', function () {
      const p = project([{ name: 'sprint' }, { name: 'gone', branchDeleted: true }]);
      const refusal = (r: { name: string; parent?: string; inactive?: boolean }): unknown => branchRefusal(p, r);
      assert.deepEqual(refusal({ name: 'Bad' }), { kind: 'refused', message: 'environment name "Bad" has capital letters; use lowercase (it is part of a host name)' });
      assert.deepEqual(refusal({ name: 'sprint' }), { kind: 'refused', message: 'environment sprint exists already in project shop' });
      assert.deepEqual(refusal({ name: 'a', parent: '-x' }), { kind: 'refused', message: '--parent: environment name "-x" starts with "-": it would be read as an option' });
      assert.deepEqual(refusal({ name: 'a', parent: 'master' }), {
        kind: 'refused',
        message: 'nobody may branch from master (Global Master): branch from integration or one of its children',
      });
      assert.deepEqual(refusal({ name: 'a', parent: 'staging' }), { kind: 'refused', message: 'branch from integration or one of its children, not from staging' });
      assert.deepEqual(refusal({ name: 'a', parent: 'gone' }), { kind: 'refused', message: 'the branch of gone was deleted' });
    });
    it('an active one needs a slot in the plan; an inactive one does not', function () {
      const full = project([1, 2, 3, 4].map((i) => ({ name: `e${i}` })));
      assert.deepEqual(branchRefusal(full, { name: 'a' }), {
        kind: 'refused',
        message:
          'plan pro allows 5 active integration environments (integration included) and shop has 5; deactivate one first, or create this one with --inactive',
      });
      assert.equal(branchRefusal(full, { name: 'a', inactive: true }), undefined);
      assert.equal(branchRefusal({ ...full, plan: 'enterprise' }, { name: 'a' }), undefined);
    });
  });

  describe('activate and deactivate', function () {
    it('integration is always active; main branches arrive by promotion', function () {
      const p = project();
      assert.deepEqual(activateRefusal(p, { name: 'integration' }), { kind: 'refused', message: 'integration is always active' });
      assert.deepEqual(deactivateRefusal(p, { name: 'integration' }), { kind: 'refused', message: 'integration is always active: it cannot be deactivated' });
      assert.deepEqual(activateRefusal(p, { name: 'master' }), {
        kind: 'refused',
        message: "master (Global Master) cannot be activated or deactivated: it only receives production's code",
      });
      assert.deepEqual(deactivateRefusal(p, { name: 'staging' }), {
        kind: 'refused',
        message: 'staging cannot be activated or deactivated: its code arrives only by promotion (slipway promote shop staging)',
      });
    });
    it('a child: not twice, not once its branch is deleted, not beyond the plan', function () {
      const p = project([{ name: 'on' }, { name: 'off', status: 'inactive' }, { name: 'gone', status: 'inactive', branchDeleted: true }]);
      assert.deepEqual(activateRefusal(p, { name: 'on' }), { kind: 'refused', message: 'on is active already' });
      assert.equal(activateRefusal(p, { name: 'off' }), undefined);
      assert.deepEqual(activateRefusal(p, { name: 'gone' }), { kind: 'refused', message: 'the branch of gone was deleted; push it again first' });
      assert.equal(deactivateRefusal(p, { name: 'on' }), undefined);
      assert.deepEqual(deactivateRefusal(p, { name: 'off' }), { kind: 'refused', message: 'off is inactive already' });
      const full = project([...[1, 2, 3, 4].map((i) => ({ name: `e${i}` })), { name: 'off', status: 'inactive' }]);
      assert.equal(kindOf(activateRefusal(full, { name: 'off' })), 'refused');
    });
  });

  describe('delete', function () {
    it('keeps the four main branches and environments with children', function () {
      const p = project([{ name: 'parent' }, { name: 'kid', parent: 'parent' }]);
      for (const name of MAIN_BRANCHES) {
        assert.deepEqual(deleteRefusal(p, { name }), {
          kind: 'refused',
          message: `${name} cannot be deleted: every project keeps master, integration, staging and production`,
        });
      }
      assert.deepEqual(deleteRefusal(p, { name: 'parent' }), { kind: 'refused', message: 'parent has child environments (kid); delete them first' });
      assert.equal(deleteRefusal(p, { name: 'kid' }), undefined);
    });
  });

  describe('sync and merge', function () {
    it('a child with its branch, never integration or the main branches', function () {
      const p = project([{ name: 'sprint' }, { name: 'gone', branchDeleted: true }]);
      assert.equal(syncRefusal(p, { name: 'sprint' }, 'synced'), undefined);
      assert.deepEqual(syncRefusal(p, { name: 'integration' }, 'merged'), { kind: 'refused', message: 'integration has no parent to be merged with' });
      assert.deepEqual(syncRefusal(p, { name: 'production' }, 'synced'), {
        kind: 'refused',
        message: 'production cannot be synced: its code arrives only by promotion (slipway promote shop production)',
      });
      assert.deepEqual(syncRefusal(p, { name: 'gone' }, 'merged'), { kind: 'refused', message: 'the branch of gone was deleted' });
    });
  });

  describe('SSH keys', function () {
    const request = (extra: Partial<SshKeyTicketRequest> = {}): SshKeyTicketRequest => ({
      environment: 'staging',
      type: 'ssh-ed25519',
      key: 'AAAA',
      comment: 'dev@laptop',
      fingerprint: 'SHA256:abc',
      requester: 'dev',
      roster,
      expiresInMs: 60_000,
      remindBeforeMs: 10_000,
      ...extra,
    });
    it('staging or production, a known requester, a key neither recorded nor pending', function () {
      assert.equal(sshKeyRefusal({}, request()), undefined);
      assert.match(sshKeyRefusal({}, null as unknown as SshKeyTicketRequest)?.message ?? '', /^an SSH-key request needs/);
      assert.deepEqual(sshKeyRefusal({}, request({ environment: 'integration' })), {
        kind: 'refused',
        message: 'SSH keys go through a ticket for staging and production only, not "integration"',
      });
      assert.deepEqual(sshKeyRefusal({}, request({ requester: 'eve' })), { kind: 'refused', message: 'unknown user "eve"' });
      const recorded = { staging: [{ ...request(), ticket: 'SUP-1', approvedBy: ['sam'], addedAt: 0 }] };
      assert.deepEqual(sshKeyRefusal({ sshKeys: recorded }, request()), { kind: 'refused', message: 'staging has the key SHA256:abc already' });
      assert.equal(sshKeyRefusal({ sshKeys: recorded }, request({ environment: 'production' })), undefined);
      assert.deepEqual(sshKeyRefusal({ pendingSshKeys: { 4: request() } }, request()), {
        kind: 'refused',
        message: 'the key SHA256:abc waits for SUP-4 already',
      });
    });
  });

  describe('promotions', function () {
    const request = (extra: Partial<PromoteRequest> = {}): PromoteRequest => ({
      target: 'staging',
      requester: 'dev',
      release: { deployment: 3, commit: 'c'.repeat(40), slug: 's', treeId: 't' },
      roster,
      expiresInMs: 60_000,
      remindBeforeMs: 10_000,
      ...extra,
    });
    it('one open promotion per target, asked for by a developer or an admin', function () {
      assert.equal(promoteRefusal({}, request()), undefined);
      assert.match(promoteRefusal({}, { ...request(), roster: undefined } as unknown as PromoteRequest)?.message ?? '', /^a promotion request needs/);
      assert.deepEqual(promoteRefusal({}, request({ target: 'master' as never })), { kind: 'refused', message: 'a promotion goes to staging or production' });
      assert.deepEqual(promoteRefusal({ openPromotions: { staging: 7 } }, request()), {
        kind: 'refused',
        message: 'staging has an open promotion already (SUP-7); decide or cancel it first',
      });
      assert.equal(promoteRefusal({ openPromotions: { staging: 7 } }, request({ target: 'production' })), undefined);
      assert.deepEqual(promoteRefusal({}, request({ requester: 'eve' })), { kind: 'refused', message: 'unknown user "eve"' });
      assert.deepEqual(promoteRefusal({}, request({ requester: 'sam' })), {
        kind: 'refused',
        message: 'sam may not ask for promotions (developer or admin role needed)',
      });
    });
    it('a requester whose name reads like a missing environment is still refused, not not-found', function () {
      const odd: Identity[] = [{ user: 'no environment here', roles: ['support'] }];
      assert.equal(kindOf(promoteRefusal({}, request({ requester: 'no environment here', roster: odd }))), 'refused');
    });
  });
});
