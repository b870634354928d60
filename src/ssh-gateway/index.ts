/**
 * The SSH gateway (docs/architecture.md, "The SSH gateway"): `startSshGateway` runs sshd for a
 * data directory; `closeSshSessions` ends a revoked key's open sessions on one environment.
 */
export { startSshGateway, type RunningSshGateway, type SshGatewayOptions } from './gateway';
export { closeSshSessions, openSessions, type SessionRecord } from './session';
export { allowedKeys, authorizedKeysFor, type KeyRegistry } from './authorized-keys';
