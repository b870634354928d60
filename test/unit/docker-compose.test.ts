/**
 * docker-compose.yml cannot run here (no Docker engine), so it is checked as a document:
 * services present, images pinned, ports, environment, dependencies, the shared volume.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  healthcheck?: unknown;
}

const ROOT = path.resolve(__dirname, '../../..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const s = compose.services;

describe('docker-compose.yml', function () {
  it('has Temporal on PostgreSQL, the Temporal UI, and the Slipway worker, API and router', function () {
    assert.deepEqual(Object.keys(s).sort(), ['api', 'postgresql', 'router', 'temporal', 'temporal-ui', 'worker']);
    assert.equal(s.temporal?.environment?.DB, 'postgres12');
    assert.equal(s.temporal?.environment?.POSTGRES_SEEDS, 'postgresql');
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
      assert.deepEqual(s[name]?.volumes, ['slipway-data:/data'], name);
    }
    assert.ok('slipway-data' in compose.volumes);
    assert.deepEqual(s.worker?.command, ['worker', '--host', 'local']);
    assert.deepEqual(s.api?.command?.slice(0, 1), ['api']);
    assert.deepEqual(s.router?.command?.slice(0, 1), ['router']);
  });

  it('starts things in order: PostgreSQL healthy, then Temporal healthy, then Slipway', function () {
    assert.equal(s.temporal?.depends_on?.postgresql?.condition, 'service_healthy');
    assert.equal(s.worker?.depends_on?.temporal?.condition, 'service_healthy');
    assert.equal(s.api?.depends_on?.temporal?.condition, 'service_healthy');
    assert.equal(s['temporal-ui']?.depends_on?.temporal?.condition, 'service_healthy');
    assert.ok(s.postgresql?.healthcheck && s.temporal?.healthcheck);
  });

  it('names only commands that slipway has', async function () {
    const { execFileSync } = await import('node:child_process');
    const help = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'slipway.js'), '--help'], { encoding: 'utf8' });
    for (const name of ['worker', 'api', 'router']) assert.match(help, new RegExp(`^  ${name}\\b`, 'm'));
  });
});
