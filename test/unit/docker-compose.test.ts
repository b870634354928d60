/**
 * docker-compose.yml cannot run here (no Docker engine), so it is checked as a document:
 * services present, images pinned, ports, environment, dependencies, the shared volume, and
 * the same topology as the production-like suite runs (src/domain/topology.ts).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { COMPOSE_PATHS, COMPOSE_PORTS, INFRASTRUCTURE, SLIPWAY_PROCESSES } from '../../src/domain/topology';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  healthcheck?: unknown;
  restart?: string;
}

const ROOT = path.resolve(__dirname, '../../..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const s = compose.services;

describe('docker-compose.yml', function () {
  it('has Temporal on PostgreSQL, the Temporal UI, setup, and the Slipway worker, API, router and web hosts', function () {
    assert.deepEqual(Object.keys(s).sort(), ['api', 'front', 'postgresql', 'router', 'setup', 'temporal', 'temporal-ui', 'web1', 'web2', 'worker']);
    assert.equal(s.temporal?.environment?.DB, 'postgres12');
    assert.equal(s.temporal?.environment?.POSTGRES_SEEDS, 'postgresql');
  });

  it('runs the topology of the production-like suite (src/domain/topology.ts)', function () {
    assert.deepEqual(Object.keys(s).sort(), [...INFRASTRUCTURE, ...SLIPWAY_PROCESSES.map((p) => p.name)].sort());
    for (const p of SLIPWAY_PROCESSES) {
      const svc = s[p.name];
      assert.ok(svc, p.name);
      assert.deepEqual(svc.command, p.args(COMPOSE_PORTS, COMPOSE_PATHS), `${p.name}'s command`);
      assert.equal(svc.image, 'slipway:0.1.0', p.name);
      assert.equal(svc.environment?.SLIPWAY_HOME, COMPOSE_PATHS.data, p.name);
      assert.equal(svc.environment?.TEMPORAL_ADDRESS, p.temporal ? 'temporal:7233' : undefined, p.name);
      // The engine's processes share its data volume (slugs and logs included); a web host has its
      // own, reads the slugs and writes its half of the deployments' logs into the engine's log store.
      // The web hosts and the front router share the registry the hosts advertise their routers in.
      const registry = `slipway-registry:${COMPOSE_PATHS.registry}`;
      const volumes =
        p.data.kind === 'engine'
          ? ['slipway-data:/data', 'slipway-slugs:/data/slugs', 'slipway-logs:/data/logs']
          : p.data.kind === 'own'
            ? [`${p.data.host}-data:/data`, `slipway-slugs:${COMPOSE_PATHS.slugs}`, `slipway-logs:${COMPOSE_PATHS.logs}`, registry, `slipway-data:${COMPOSE_PATHS.engineData}:ro`]
            : [registry];
      assert.deepEqual(svc.volumes, volumes, `${p.name}'s volumes`);
      for (const v of volumes) assert.ok(v.split(':')[0]! in compose.volumes, v);
      if (p.oneShot) assert.equal(svc.restart, 'no', `${p.name} runs once`);
    }
    // The long-running processes that talk to Temporal wait for the one-shot setup to have succeeded.
    const setup = SLIPWAY_PROCESSES.filter((p) => p.oneShot).map((p) => p.name);
    for (const p of SLIPWAY_PROCESSES.filter((q) => !q.oneShot && q.temporal)) {
      for (const name of setup) assert.equal(s[p.name]?.depends_on?.[name]?.condition, 'service_completed_successfully', `${p.name} after ${name}`);
    }
    // Every web host's router is published.
    for (const p of SLIPWAY_PROCESSES.filter((q) => q.data.kind === 'own')) assert.equal(s[p.name]?.ports?.length, 1, p.name);
  });

  it('pins every image to a version (no latest, no bare names)', function () {
    for (const [name, svc] of Object.entries(s)) {
      assert.ok(svc.image, `${name} names its image`);
      assert.match(svc.image, /^[a-z0-9./-]+:(?!latest$)[0-9][\w.-]*$/, `${name}: ${svc.image}`);
    }
    assert.equal(s.worker?.build, '.', 'the Slipway image is built from this repository');
    assert.ok(fs.existsSync(path.join(ROOT, 'Dockerfile')));
    assert.match(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'), /^FROM node:20\.\d+\.\d+-/m);
  });

  it('publishes the Temporal gRPC port, the UI, the API and the router', function () {
    assert.deepEqual(s.temporal?.ports, ['7233:7233']);
    assert.deepEqual(s['temporal-ui']?.ports, ['8233:8080']);
    assert.deepEqual(s.api?.ports, ['8081:8081']);
    assert.deepEqual(s.router?.ports, ['8080:8080']);
  });

  it('points Slipway at the Temporal server and shares one data volume', function () {
    for (const name of ['worker', 'api']) assert.equal(s[name]?.environment?.TEMPORAL_ADDRESS, 'temporal:7233', name);
    assert.equal(s['temporal-ui']?.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    for (const name of ['worker', 'api', 'router']) {
      assert.equal(s[name]?.environment?.SLIPWAY_HOME, '/data', name);
      assert.ok(s[name]?.volumes?.includes('slipway-data:/data'), name);
    }
    assert.ok('slipway-data' in compose.volumes);
    assert.deepEqual(s.worker?.command, ['worker', '--host', 'local']);
    assert.deepEqual(s.api?.command?.slice(0, 1), ['api']);
    assert.deepEqual(s.router?.command?.slice(0, 1), ['router']);
  });

  it('starts things in order: PostgreSQL healthy, then Temporal healthy, then Slipway', function () {
    assert.equal(s.temporal?.depends_on?.postgresql?.condition, 'service_healthy');
    assert.equal(s.setup?.depends_on?.temporal?.condition, 'service_healthy');
    assert.equal(s.worker?.depends_on?.setup?.condition, 'service_completed_successfully');
    assert.equal(s.api?.depends_on?.setup?.condition, 'service_completed_successfully');
    assert.equal(s['temporal-ui']?.depends_on?.temporal?.condition, 'service_healthy');
    assert.ok(s.postgresql?.healthcheck && s.temporal?.healthcheck);
  });

  it('names only commands that slipway has', async function () {
    const { execFileSync } = await import('node:child_process');
    const help = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'slipway.js'), '--help'], { encoding: 'utf8' });
    const commands = new Set(SLIPWAY_PROCESSES.map((p) => p.args(COMPOSE_PORTS, COMPOSE_PATHS)[0]!));
    assert.deepEqual([...commands].sort(), ['api', 'router', 'setup', 'worker']);
    for (const name of commands) assert.match(help, new RegExp(`^  ${name}\\b`, 'm'));
    // Every option the topology gives a process is one its command takes.
    for (const proc of SLIPWAY_PROCESSES) {
      const args = proc.args(COMPOSE_PORTS, COMPOSE_PATHS);
      const own = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'slipway.js'), args[0]!, '--help'], { encoding: 'utf8' });
      for (const option of args.filter((a) => a.startsWith('--'))) assert.match(own, new RegExp(`${option}\\b`), `${proc.name}: ${args[0]} takes ${option}`);
    }
  });
});
