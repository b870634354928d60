/**
 * A host's liveness, as `slipway env status`, `slipway hosts` and the API show it: judged from
 * the heartbeats of the host's supervisor (the one long activity every host worker runs on its
 * own task queue, `host/<host>/supervisor`) and, besides, the pollers of that queue. Pure.
 */
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './activity-timeouts';

/**
 * A heartbeat older than this means the host is not answering: the worker heartbeats every
 * second and the SDK sends at most one heartbeat per 80 % of the heartbeat timeout (8 s), so a
 * live host's newest heartbeat is at most ~9 s old; the slack covers a busy machine.
 */
export const LIVE_WITHIN_MS = Number.parseInt(ACTIVITY_HEARTBEAT_TIMEOUT, 10) * 1000 + 5000;

export type HostState = 'live' | 'not-answering' | 'unknown';

export interface HostLiveness {
  host: string;
  state: HostState;
  /** The newest heartbeat of the host's supervisor (ISO 8601). */
  lastHeartbeatAt?: string;
  /** Workers polling the host's task queue as the server last saw them (a dead one stays listed a few minutes). */
  pollers: Array<{ identity: string; lastAccessAt?: string }>;
  /** One line for people: "web2: live (heartbeat 2 s ago)", "web2: not answering since …". */
  summary: string;
}

/** What the server told about the host's supervisor and queue. */
export interface HostObservation {
  /** Whether the host's supervisor workflow exists and is running. */
  supervisor: 'running' | 'absent' | 'closed';
  /** Its pending activity: started (a worker holds it) or scheduled (waiting for one). */
  activity?: { started: boolean; lastHeartbeatMs?: number; lastStartedMs?: number };
  pollers: Array<{ identity: string; lastAccessMs?: number }>;
}

const ago = (now: number, ms: number): string => `${Math.max(0, Math.round((now - ms) / 1000))} s ago`;
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function judgeLiveness(host: string, o: HostObservation, now: number): HostLiveness {
  const pollers = o.pollers.map((p) => ({ identity: p.identity, ...(p.lastAccessMs !== undefined ? { lastAccessAt: iso(p.lastAccessMs) } : {}) }));
  const beat = o.activity?.lastHeartbeatMs ?? o.activity?.lastStartedMs;
  const base = { host, pollers, ...(beat !== undefined ? { lastHeartbeatAt: iso(beat) } : {}) };
  if (o.supervisor !== 'running') {
    return {
      ...base,
      state: 'unknown',
      summary: `${host}: unknown (no supervisor ${o.supervisor === 'absent' ? 'was ever started: no `slipway worker --host ' + host + '` has run' : 'is running'}; ${pollers.length} poller(s) of its queue)`,
    };
  }
  if (o.activity?.started && beat !== undefined && now - beat <= LIVE_WITHIN_MS) {
    return { ...base, state: 'live', summary: `${host}: live (heartbeat ${ago(now, beat)})` };
  }
  return {
    ...base,
    state: 'not-answering',
    summary: beat !== undefined ? `${host}: not answering since ${iso(beat)} (last heartbeat ${ago(now, beat)})` : `${host}: not answering (no heartbeat yet)`,
  };
}
