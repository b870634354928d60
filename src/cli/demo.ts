/**
 * `slipway demo`: the sample store end to end in a temporary data directory — create the
 * project, push a change with the git command line, wait for its deployment, fetch the page.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import { SlipwayClient } from '../client';
import { SlipwayError } from '../errors';
import { Layout, SAMPLE_STORE } from '../home';
import { freePort } from '../temporal/dev-server';
import { startStack } from '../stack';
import { loadIdentities, projectRoster } from '../identities';
import { fetchFromRouter, pageTitle } from '../router/fetch';
import { progressPrinter, untilStopped } from './output';
import { stopAllRuntimes } from '../runtime/environment-runtime';

/** The products a /products page lists: "Name (price)". */
function productsOf(html: string): string[] {
  return [...html.matchAll(/<li class="product"[^>]*>([\s\S]*?)<\/li>/g)].map((m) => {
    const text = (cls: string): string => new RegExp(`class="${cls}"[^>]*>([^<]*)<`).exec(m[1]!)?.[1]?.trim() ?? '';
    return `${text('name')} (${text('price')})`;
  });
}

export async function runDemo(options: { keep: boolean; out?: (line: string) => void }): Promise<void> {
  const out = options.out ?? ((l: string) => console.log(l));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-demo-'));
  const layout = new Layout(home);
  const t0 = Date.now();
  out(`Data directory: ${home}`);
  const stack = await startStack({ layout, routerPort: await freePort(), apiPort: await freePort(), log: (l) => out(l) });
  let client: SlipwayClient | undefined;
  try {
    client = await SlipwayClient.connect({ layout, address: stack.temporalAddress });
    const project = 'sample';
    out(`Creating project ${project} from ${SAMPLE_STORE}…`);
    // The two-person rule on: production needs two distinct support approvals.
    const info = await client.createProject({ project, from: SAMPLE_STORE, productionApprovals: 2 });
    out(`Remote: ${info.remote}`);
    const first = await client.waitForDeployment(project, 'integration', { timeoutMs: 180_000 });
    if (first.status !== 'succeeded') throw new SlipwayError(`the initial deployment failed: ${first.error ?? ''}`);
    out(`Initial deployment #${first.deployment} of ${first.commit.slice(0, 12)} is live.`);

    const work = path.join(home, 'checkout');
    await simpleGit().clone(info.remote, work, ['--branch', 'integration', '--quiet']);
    const g = simpleGit(work).addConfig('user.name', 'Demo Developer').addConfig('user.email', 'dev@example.invalid');
    const contentFile = path.join(work, 'content', 'headline.txt');
    fs.writeFileSync(contentFile, `Autumn sale: pushed at ${new Date().toISOString()}\n`);
    await g.add(['content/headline.txt']);
    await g.commit('Change the headline');
    const commit = (await g.revparse(['HEAD'])).trim();
    out(`git push origin integration (commit ${commit.slice(0, 12)})…`);
    await g.push('origin', 'integration');
    const progress = progressPrinter();
    const done = await client.waitForDeployment(project, 'integration', {
      commit,
      after: first.deployment,
      timeoutMs: 180_000,
      onProgress: (p) => progress.deployment(p),
    });
    progress.done();
    if (done.status !== 'succeeded') throw new SlipwayError(`the deployment failed: ${done.error ?? ''}`);
    const page = await fetchFromRouter(stack.router.port, `integration.${project}.localhost`);
    out(`Deployment #${done.deployment} is live (${((Date.now() - t0) / 1000).toFixed(1)} s since start).`);
    out(`URL:         ${stack.router.url(project, 'integration')}`);
    out(`Page title:  ${pageTitle(page.body) ?? '(none)'} (HTTP ${page.status})`);
    const products = await fetchFromRouter(stack.router.port, `integration.${project}.localhost`, '/products');
    out(`Products:    ${productsOf(products.body).join(', ') || '(none)'} (PHP, from the environment's MariaDB; HTTP ${products.status}, cache ${String(products.headers['x-store-cache'] ?? '-')})`);

    // The merge chain: integration → staging → production → master, each behind a ticket.
    const roster = projectRoster(loadIdentities(layout), project);
    const support = roster.filter((i) => i.roles.includes('support')).map((i) => i.user);
    const developer = roster.find((i) => i.roles.includes('developer'))?.user ?? 'alice';
    for (const target of ['staging', 'production'] as const) {
      const { ticket, workflowId } = await client.promote(project, target, developer);
      out(`Promote to ${target}: ${developer} opened ${ticket}.`);
      const approvers = support.slice(0, target === 'production' ? info.productionApprovals : 1);
      for (const user of approvers) {
        const t = await client.decide(project, ticket, { user, decision: 'approve', comment: 'demo' });
        out(`  ${user} approves ${ticket}: ${t.status}${t.status === 'open' ? ` (${t.approvals.length} of ${t.requiredApprovals})` : ''}`);
      }
      const r = await client.waitForPromotion(workflowId);
      if (r.status !== 'deployed') throw new SlipwayError(`the promotion to ${target} ${r.status}: ${r.error ?? ''}`);
      const served = await fetchFromRouter(stack.router.port, `${target}.${project}.localhost`);
      out(`  ${target} deployment #${r.deployment ?? '?'} runs slug ${r.slug} (no build), HTTP ${served.status}: ${stack.router.url(project, target)}`);
      const listed = await fetchFromRouter(stack.router.port, `${target}.${project}.localhost`, '/products');
      out(`  ${target} products: ${productsOf(listed.body).join(', ') || '(none)'} (its own MariaDB; HTTP ${listed.status})`);
      if (r.masterUpdated) out(`  master (Global Master) updated to ${r.commit.slice(0, 12)}`);
    }
    if (stack.uiUrl) out(`Temporal UI: ${stack.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`SlipwayProject="${project}"`)}`);
    // Served by the API, which runs with or without a Temporal UI.
    out(`Web interface: ${stack.api.url}/ui/projects/${project} (sign in with slipway-dev-alice)`);
    out(`Support console: ${stack.api.url}/ui/support (sign in with slipway-dev-sam)`);
    if (options.keep) {
      out('Kept running (--keep). Press Ctrl-C to stop.');
      await untilStopped();
    }
  } finally {
    await client?.close();
    await stack.stop();
    // The environments' processes outlive the engine by design; the demo's data goes with them.
    await stopAllRuntimes(layout);
    if (!options.keep) fs.rmSync(home, { recursive: true, force: true });
  }
}
