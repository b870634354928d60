/**
 * The engine's HTTP API as a typed client (Node's fetch): what the `slipway` command line uses
 * when it talks to a remote engine (SLIPWAY_API_URL, SLIPWAY_TOKEN). Whoever holds the token is
 * the user: the API checks their roles on every project a call names. The API's refusals come
 * back as the CLI's own errors, with the API's message: 400 InvalidInputError (exit 2), 404
 * NotFoundError, 401, 403 and 409 SlipwayError (exit 1).
 */
import type { CronStatus } from '../domain/crons';
import type { DeploymentRecord, EnvironmentStatus } from '../domain/environment';
import type { HostLiveness } from '../domain/hosts';
import type { EnvironmentEntry, ProjectInfo, ProjectSummary } from '../domain/project';
import type { PromotionResult } from '../domain/promotion';
import type { TicketRecord } from '../domain/tickets';
import type { VariableView } from '../domain/variables';
import { InvalidInputError, NotFoundError, SlipwayError } from '../errors';
import type { DeploymentProgress } from '../workflows/deployment';
import type { MergeResult } from '../workflows/project';
import { sleep } from './context';
import { waitForDeploymentOf, type WaitOptions } from './deployments';
import type { PromotionProgress } from './promotions';
import type { SetVariableRequest, VariableChangeResult } from './variables';

/** A variable change as the API takes it: who changes it is the token's user. */
export type VariableRequest = Omit<SetVariableRequest, 'by'>;

/** A promotion as its request answered: enough to follow it. */
export interface StartedPromotion {
  project: string;
  ticket: string;
  workflowId: string;
}

const ENDED: ReadonlyArray<PromotionResult['status']> = ['deployed', 'rejected', 'expired', 'cancelled', 'failed'];

export class ApiClient {
  readonly url: string;

  constructor(
    url: string,
    private readonly token: string,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidInputError(`SLIPWAY_API_URL must be a URL such as http://engine.example:8081, not ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidInputError(`SLIPWAY_API_URL must be an http(s) URL, not ${JSON.stringify(url)}`);
    }
    if (!token) throw new InvalidInputError('SLIPWAY_API_URL is set but SLIPWAY_TOKEN is not: the API needs your token');
    this.url = url.replace(/\/+$/, '');
  }

  /** One call: the parsed JSON (or text) of a 2xx answer, else the API's error as the CLI's. */
  private async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, as: 'json' | 'text' = 'json'): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
      throw new SlipwayError(`cannot reach the Slipway API at ${this.url}: ${cause}`);
    }
    const text = await res.text();
    if (res.ok) return (as === 'text' ? text : (JSON.parse(text) as T)) as T;
    throw errorOf(res.status, text, this.url);
  }

  private static seg(s: string): string {
    return encodeURIComponent(s);
  }

  private env(project: string, environment: string): string {
    return `/v1/projects/${ApiClient.seg(project)}/environments/${ApiClient.seg(environment)}`;
  }

  listProjects(): Promise<ProjectSummary[]> {
    return this.call('GET', '/v1/projects');
  }
  project(project: string): Promise<ProjectInfo> {
    return this.call('GET', `/v1/projects/${ApiClient.seg(project)}`);
  }
  branch(project: string, request: { name: string; parent?: string; inactive?: boolean }): Promise<EnvironmentEntry> {
    return this.call('POST', `/v1/projects/${ApiClient.seg(project)}/environments`, request);
  }
  activate(project: string, name: string): Promise<EnvironmentEntry> {
    return this.call('POST', `${this.env(project, name)}/activate`);
  }
  deactivate(project: string, name: string): Promise<EnvironmentEntry> {
    return this.call('POST', `${this.env(project, name)}/deactivate`);
  }
  deleteEnvironment(project: string, name: string): Promise<{ deleted: string }> {
    return this.call('DELETE', this.env(project, name));
  }
  sync(project: string, name: string): Promise<MergeResult> {
    return this.call('POST', `${this.env(project, name)}/sync`);
  }
  merge(project: string, name: string): Promise<MergeResult> {
    return this.call('POST', `${this.env(project, name)}/merge`);
  }
  environmentStatus(project: string, environment: string): Promise<EnvironmentStatus> {
    return this.call('GET', this.env(project, environment));
  }
  listHosts(): Promise<HostLiveness[]> {
    return this.call('GET', '/v1/hosts');
  }
  crons(project: string, environment: string): Promise<CronStatus[]> {
    return this.call('GET', `${this.env(project, environment)}/crons`);
  }
  redeploy(project: string, environment: string): Promise<{ deployment: number }> {
    return this.call('POST', `${this.env(project, environment)}/redeploy`);
  }
  rollback(project: string, environment: string, to?: number, withData = false): Promise<{ deployment: number }> {
    const body = { ...(to === undefined ? {} : { to }), ...(withData ? { withData } : {}) };
    return this.call('POST', `${this.env(project, environment)}/rollback`, Object.keys(body).length ? body : undefined);
  }
  syncData(project: string, environment: string): Promise<{ deployment: number }> {
    return this.call('POST', `${this.env(project, environment)}/sync-data`);
  }
  /** A data-refresh ticket (staging's data from production), asked for by the token's user. */
  requestDataRefresh(project: string, environment: string, from: string): Promise<{ ticket: string }> {
    return this.call('POST', `${this.env(project, environment)}/data-refresh`, { from });
  }
  cancelDeployment(project: string, environment: string): Promise<DeploymentRecord> {
    return this.call('POST', `${this.env(project, environment)}/cancel`);
  }
  deploymentProgress(project: string, environment: string, n: number): Promise<DeploymentProgress> {
    return this.call('GET', `${this.env(project, environment)}/deployments/${n}`);
  }
  deploymentLog(project: string, environment: string, n: number): Promise<string> {
    return this.call('GET', `${this.env(project, environment)}/deployments/${n}/log`, undefined, 'text');
  }
  waitForDeployment(project: string, environment: string, options: WaitOptions = {}): Promise<DeploymentRecord> {
    return waitForDeploymentOf(this, project, environment, options);
  }

  /** Sets an environment's variable as the token's user: applied and redeployed, or a ticket opened (staging, production). */
  setEnvironmentVariable(project: string, environment: string, request: VariableRequest): Promise<VariableChangeResult> {
    const { name, ...body } = request;
    return this.call('PUT', `${this.env(project, environment)}/variables/${ApiClient.seg(name)}`, body);
  }
  unsetEnvironmentVariable(project: string, environment: string, name: string): Promise<VariableChangeResult> {
    return this.call('DELETE', `${this.env(project, environment)}/variables/${ApiClient.seg(name)}`);
  }
  environmentVariables(project: string, environment: string): Promise<VariableView[]> {
    return this.call('GET', `${this.env(project, environment)}/variables`);
  }
  environmentVariable(project: string, environment: string, name: string): Promise<VariableView> {
    return this.call('GET', `${this.env(project, environment)}/variables/${ApiClient.seg(name)}`);
  }
  setProjectVariable(project: string, request: VariableRequest): Promise<{ applied: true; deployments: number[] }> {
    const { name, ...body } = request;
    return this.call('PUT', `/v1/projects/${ApiClient.seg(project)}/variables/${ApiClient.seg(name)}`, body);
  }
  unsetProjectVariable(project: string, name: string): Promise<{ applied: true; deployments: number[] }> {
    return this.call('DELETE', `/v1/projects/${ApiClient.seg(project)}/variables/${ApiClient.seg(name)}`);
  }
  projectVariables(project: string): Promise<VariableView[]> {
    return this.call('GET', `/v1/projects/${ApiClient.seg(project)}/variables`);
  }
  projectVariable(project: string, name: string): Promise<VariableView> {
    return this.call('GET', `/v1/projects/${ApiClient.seg(project)}/variables/${ApiClient.seg(name)}`);
  }

  /** Asks for a promotion as the token's user. */
  async promote(project: string, target: string, options: { withData?: boolean } = {}): Promise<StartedPromotion> {
    const r = await this.call<{ ticket: string; workflowId: string }>('POST', `/v1/projects/${ApiClient.seg(project)}/promotions`, { target, ...(options.withData ? { withData: true } : {}) });
    return { project, ...r };
  }
  promotionOfTicket(project: string, ticket: string): Promise<PromotionResult & { workflowId: string }> {
    return this.call('GET', `/v1/projects/${ApiClient.seg(project)}/promotions/${ApiClient.seg(ticket)}`);
  }
  /** Polls the promotion until it ends, reporting its ticket while it waits and the target's deployment while it deploys. */
  async waitForPromotion(started: StartedPromotion, onProgress?: (p: PromotionProgress) => void): Promise<PromotionResult> {
    for (;;) {
      const promotion = await this.promotionOfTicket(started.project, started.ticket);
      if (ENDED.includes(promotion.status)) return promotion;
      if (onProgress) {
        const progress: PromotionProgress = { promotion };
        try {
          if (promotion.status === 'waiting') progress.ticket = await this.ticket(started.project, started.ticket);
          const running = promotion.status === 'deploying' ? (await this.environmentStatus(started.project, promotion.target)).running : undefined;
          if (running) progress.deployment = { ...(await this.deploymentProgress(started.project, promotion.target, running.deployment)), deployment: running.deployment };
        } catch {
          /* between states: poll again */
        }
        onProgress(progress);
      }
      await sleep(500);
    }
  }

  listTickets(project: string, options: { open?: boolean } = {}): Promise<TicketRecord[]> {
    return this.call('GET', `/v1/projects/${ApiClient.seg(project)}/tickets${options.open ? '?open=true' : ''}`);
  }
  ticket(project: string, ticket: string): Promise<TicketRecord> {
    return this.call('GET', `/v1/projects/${ApiClient.seg(project)}/tickets/${ApiClient.seg(ticket)}`);
  }
  /** Approves or rejects as the token's user. */
  decide(project: string, ticket: string, request: { decision: 'approve' | 'reject'; comment?: string }): Promise<TicketRecord> {
    return this.call('POST', `/v1/projects/${ApiClient.seg(project)}/tickets/${ApiClient.seg(ticket)}/decision`, request);
  }
}

/** An API error answer as the CLI's error, with the API's own message. */
export function errorOf(status: number, text: string, url: string): SlipwayError {
  let body: { error?: string; issues?: Array<{ path: string; message: string }> } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    /* not JSON: the text is the message */
  }
  const message = body.error ?? (text.trim() || `HTTP ${status}`);
  const issues = (body.issues ?? []).map((i) => `${i.path || '(body)'}: ${i.message}`);
  switch (status) {
    case 400:
      return new InvalidInputError(issues.length > 0 ? `${message} (${issues.join('; ')})` : message);
    case 404:
      return new NotFoundError(message);
    case 401:
      return new SlipwayError(`${message}: SLIPWAY_TOKEN is not a token the API at ${url} knows`);
    case 403:
    case 409:
      return new SlipwayError(message);
    default:
      return new SlipwayError(`the Slipway API at ${url} answered ${status}: ${message}`);
  }
}
