/** A host's liveness from its supervisor's heartbeats (src/domain/hosts.ts). */
import { strict as assert } from 'node:assert';
import { judgeLiveness, LIVE_WITHIN_MS } from '../../src/domain/hosts';

describe('host liveness', function () {
  const now = Date.parse('2026-01-01T10:00:00.000Z');
  it('is live while a worker holds the supervisor and heartbeats', function () {
    const h = judgeLiveness('web2', { supervisor: 'running', activity: { started: true, lastHeartbeatMs: now - 2000 }, pollers: [] }, now);
    assert.equal(h.state, 'live');
    assert.equal(h.summary, 'web2: live (heartbeat 2 s ago)');
  });
  it('is not answering once the heartbeat is old or the activity went back to the queue', function () {
    const old = judgeLiveness('web2', { supervisor: 'running', activity: { started: true, lastHeartbeatMs: now - LIVE_WITHIN_MS - 1 }, pollers: [] }, now);
    assert.equal(old.state, 'not-answering');
    const back = judgeLiveness('web2', { supervisor: 'running', activity: { started: false, lastHeartbeatMs: now - 11_000 }, pollers: [{ identity: '1@vm', lastAccessMs: now - 20_000 }] }, now);
    assert.equal(back.state, 'not-answering');
    assert.equal(back.summary, 'web2: not answering since 2026-01-01T09:59:49.000Z (last heartbeat 11 s ago)');
    assert.deepEqual(back.pollers, [{ identity: '1@vm', lastAccessAt: '2026-01-01T09:59:40.000Z' }]);
  });
  it('is unknown when no supervisor runs', function () {
    const h = judgeLiveness('web9', { supervisor: 'absent', pollers: [] }, now);
    assert.equal(h.state, 'unknown');
    assert.match(h.summary, /^web9: unknown \(no supervisor was ever started/);
  });
});
