/** The state an environment's entity workflow keeps, and what it reports. */
import type { AnsweredUpdate } from './answered-updates';
import type { DataSource, DeploymentOutcome, ReleaseRef } from './deployment';

export interface PushEvent {
  commit: string;
  /** Milliseconds since the epoch, as the hook saw it. */
  pushedAt: number;
  /** The branch's commit before this push, as the hook saw it (absent: not known). */
  before?: string;
}

export interface DeploymentRecord {
  deployment: number;
  commit: string;
  /** `cancelled`: stopped by `slipway env cancel` (what it had changed was undone). */
  status: 'running' | DeploymentOutcome['status'] | 'cancelled';
  startedAt: number;
  endedAt?: number;
  /** Operator's words for a failure: step, exit code, message. */
  error?: string;
  failedStep?: string;
  slug?: string;
  slugReused?: boolean;
  treeId?: string;
  release?: string;
  /** Why it ran: a push, a redeploy or a rollback (to deployment n). */
  reason?: 'push' | 'redeploy' | 'rollback' | 'promotion' | 'rebuild';
  rollbackOf?: number;
  maintenanceMs?: number;
}

export type LifecycleAction = 'activate' | 'deactivate' | 'retire';

/** A redeploy or rollback asked for explicitly (pushes are coalesced separately). */
export interface DeploymentRequest {
  id: string;
  /** rebuild: the current commit built again (variables visible at build changed) and deployed. */
  kind: 'redeploy' | 'rollback' | 'promotion' | 'rebuild' | 'snapshot';
  /** Rollback: the deployment whose slug is deployed again. */
  to?: number;
  /** Promotion: the source's release, and the promotion workflow to answer. */
  promotion?: PromotionRequest;
  /** Data brought in by the deployment (sync --data, rollback --with-data). */
  data?: DataSource;
}

export interface PromotionRequest {
  slug: string;
  treeId: string;
  commit: string;
  /** Source environment and deployment, for the record. */
  source: string;
  sourceDeployment: number;
  /** Workflow id of the promotion, which is signalled with the outcome. */
  replyTo: string;
  /** Paths checked after the switch besides the routes (production: /admin). */
  smokePaths: string[];
  /** promote --data: the source's database and mounts are copied in (after a snapshot of the target). */
  withData?: boolean;
}

import type { HostLiveness } from './hosts';

export interface EnvironmentState {
  project: string;
  environment: string;
  branch: string;
  /** The environment's (first) host. */
  host: string;
  /** Every host that serves it, `host` first (absent: `host` alone). */
  hosts?: string[];
  /** Seconds a deployment's host step may wait for the host to take it (the project's setting; absent: the default). */
  hostStartTimeout?: number;
  /** A branch's parent: its first deployment copies the parent's database and mounts (Platform.sh's branching). */
  dataFrom?: string;
  nextDeployment: number;
  current?: ReleaseRef;
  previous?: ReleaseRef;
  pending?: PushEvent;
  /**
   * The branch head the environment last resolved or was pushed: a push whose `before` is
   * this commit follows it directly, so its `after` is the new head.
   */
  head?: string;
  requests: DeploymentRequest[];
  /** Inactive: not served, pushes not deployed (absent means active). */
  active?: boolean;
  /** The crons of the live release, which have Schedules (absent or empty: no Schedule step is taken). */
  crons?: string[];
  /** The deploy hook has run in install mode once: later deployments update. */
  installed?: boolean;
  /** Activations, deactivations and retirement, in the order the project asked for them. */
  lifecycle?: LifecycleAction[];
  /** The newest deployments, newest last (bounded). */
  deployments: DeploymentRecord[];
  /** Processes of the environment's runtime that its host's supervisor restarted, newest last (bounded). */
  restarts?: RuntimeRestart[];
  /** The newest SSH sessions' starts and ends (the SSH gateway signals them). */
  sshSessions?: SshSessionEvent[];
  /** The last Updates answered, by Update ID: a repeat after continue-as-new gets the same answer. */
  answeredUpdates?: AnsweredUpdate[];
}

/** A process of the environment's runtime (a service, the web server, PHP) found down and started again. */
export interface RuntimeRestart {
  at: number;
  host: string;
  process: string;
  reason: string;
}

export const RUNTIME_RESTARTS_KEPT = 10;

/** An SSH session into the environment opened or closed through the gateway: who, with which key. */
export interface SshSessionEvent {
  at: number;
  event: 'start' | 'end';
  /** The gateway's id of the session (one start and one end share it). */
  session: string;
  /** The person the key belongs to (a developer, or the requester of the approved ticket). */
  user: string;
  fingerprint: string;
  /** What ran: "shell", or the command (cut to 200 characters). */
  command: string;
  /** With the end: the exit status. */
  exitCode?: number;
}

export const SSH_SESSION_EVENTS_KEPT = 20;

/** What runs of the environment on this engine's host (absent when another host serves it). */
export interface EnvironmentRuntimeStatus {
  wanted?: 'running' | 'stopped';
  release?: string;
  services: Array<{ name: string; type: string; state: 'running' | 'stopped' | 'unavailable'; port?: number; reason?: string }>;
  application: { release?: string; processes: Array<{ name: string; running: boolean; pids: number }> };
}

/** With `hostLiveness` when asked for (`env status`, the API): whether the environment's host answers. */
export type EnvironmentStatus = EnvironmentState & { running?: DeploymentRecord; runtime?: EnvironmentRuntimeStatus; hostLiveness?: HostLiveness };

export const DEPLOYMENT_RECORDS_KEPT = 20;
