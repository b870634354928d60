/** Where the SSH gateway keeps its files in the data directory. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Layout } from '../home';
import { loginUsers, type GatewayUser } from './config';

/** Generated at each start: sshd_config, passwd, the wrapper, sshd's pid file and log. */
export const gatewayRunDir = (layout: Layout): string => path.join(layout.home, 'run', 'ssh-gateway');
/** Kept: the host key (made once, 0600), so clients see the same host across restarts. */
export const gatewayKeyDir = (layout: Layout): string => path.join(layout.home, 'ssh-gateway');
/** One file per open session (the session program's pid, its sandbox, the key): what `closeSshSessions` reads. */
export const sessionsDir = (layout: Layout): string => path.join(layout.home, 'run', 'ssh-sessions');
export const gatewayWrapper = (layout: Layout): string => path.join(gatewayRunDir(layout), 'slipway-ssh');
/** The cgroup sshd and every process it forks start in (a session's sandbox moves to its own). */
export const gatewayCgroupName = (layout: Layout): string => `${layout.homeTag()}-ssh-gateway`;

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** The environments of the data directory (`envs/<project>/<environment>/`) by login user. */
export function environmentUsers(layout: Layout): Map<string, GatewayUser> {
  const envs = path.join(layout.home, 'envs');
  return loginUsers(list(envs).flatMap((project) => list(path.join(envs, project)).map((environment) => ({ project, environment }))));
}
