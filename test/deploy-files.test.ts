/**
 * The deployment files (Dockerfile, deploy/docker-compose.yml, deploy/prometheus.yml, deploy/helm/modelgate) as far
 * as they can be checked without a Docker engine or the helm binary (neither exists on these machines): they parse,
 * they name only settings the gateway reads, and they keep the promises docs/deployment.md makes (non-root, bundle,
 * health checks on /health, replicas sharing PostgreSQL and Redis). The bundle itself is started by main-process.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { providerTypeNames } from '../src/providers/all-provider-types.ts';

const root = process.cwd();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Every environment variable name the gateway's sources read (`env.NAME` or `process.env.NAME`). */
function settingsRead(): Set<string> {
  const names = new Set<string>();
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(match[1] as string);
    }
  };
  walk(join(root, 'src'));
  // Provider keys are read by name pattern: <TYPE>_API_KEY and <TYPE>_BASE_URL (src/config/load-config.ts).
  for (const type of providerTypeNames()) for (const suffix of ['API_KEY', 'BASE_URL']) names.add(`${type.toUpperCase()}_${suffix}`);
  return names;
}

/**
 * Helm templates with their Go-template actions blanked out: lines holding only an action go, inline actions
 * become a placeholder. What is left must be YAML of the right shape (no helm binary here to render them).
 */
function blankTemplate(text: string): unknown[] {
  const lines = text
    .split('\n')
    .filter((line) => !/^\s*\{\{-?.*-?\}\}\s*$/.test(line) || /^\s*[\w.-]+:/.test(line))
    .map((line) => line.replace(/\{\{-?[^}]*-?\}\}/g, 'placeholder'));
  return parseAllDocuments(lines.join('\n')).map((document) => {
    expect(document.errors).toEqual([]);
    return document.toJS();
  });
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('is multi-stage, runs the bundle as a non-root user, with a health check on /health', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^FROM node:24-[\w-]+ AS build$/m);
    expect(dockerfile).toMatch(/RUN node scripts\/build\.ts/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/modelgate\.mjs"\]$/m);
  });
  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore').split('\n').filter(Boolean);
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => (match[1] as string).split(' '));
    expect(copied.length).toBeGreaterThan(0);
    for (const path of copied) {
      expect(existsSync(join(root, path)), path).toBe(true);
      expect(ignored, path).not.toContain(path.replace(/^\.\//, ''));
    }
  });
});

describe('deploy/docker-compose.yml', () => {
  // Compose files use YAML merge keys (`<<: *gateway`).
  const compose = parse(read('deploy/docker-compose.yml'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; healthcheck?: unknown; depends_on?: unknown; profiles?: string[] }>;
  };
  it('runs two gateway replicas on one PostgreSQL and one Redis, Prometheus as an option', () => {
    const gateways = Object.entries(compose.services).filter(([name]) => name.startsWith('modelgate-'));
    expect(gateways).toHaveLength(2);
    for (const [, service] of gateways) {
      expect(service.environment?.STORAGE_TYPE).toBe('postgresql');
      expect(service.environment?.POSTGRES_URL).toContain('@postgres:5432/');
      expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(service.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    }
    expect(compose.services.postgres?.healthcheck).toBeDefined();
    expect(compose.services.redis?.healthcheck).toBeDefined();
    expect(compose.services.prometheus?.profiles).toEqual(['metrics']);
  });
  it('sets only variables the gateway reads', () => {
    const known = settingsRead();
    for (const name of Object.keys(compose.services['modelgate-1']?.environment ?? {})) expect(known, name).toContain(name);
  });
  it('has a Prometheus configuration that scrapes both replicas with the master key', () => {
    const prometheus = parse(read('deploy/prometheus.yml')) as { scrape_configs: { metrics_path: string; authorization: unknown; static_configs: { targets: string[] }[] }[] };
    const job = prometheus.scrape_configs[0];
    expect(job?.metrics_path).toBe('/metrics');
    expect(job?.authorization).toMatchObject({ type: 'Bearer' });
    expect(job?.static_configs[0]?.targets).toEqual(['modelgate-1:8080', 'modelgate-2:8080']);
  });
});

describe('deploy/helm/modelgate', () => {
  const chart = 'deploy/helm/modelgate';
  it('has a chart and values that parse', () => {
    expect(parse(read(`${chart}/Chart.yaml`))).toMatchObject({ apiVersion: 'v2', name: 'modelgate' });
    const values = parse(read(`${chart}/values.yaml`)) as { replicaCount: number; env: Record<string, string> };
    expect(values.replicaCount).toBeGreaterThanOrEqual(2);
    const known = settingsRead();
    for (const name of Object.keys(values.env)) expect(known, name).toContain(name);
  });
  it('renders a Deployment with probes on /health, a Service, a ConfigMap and a Secret', () => {
    const kinds = new Map<string, Record<string, unknown>>();
    for (const file of readdirSync(join(root, chart, 'templates')).filter((name) => name.endsWith('.yaml'))) {
      for (const document of blankTemplate(read(`${chart}/templates/${file}`))) {
        const kind = (document as { kind?: string }).kind;
        if (kind) kinds.set(kind, document as Record<string, unknown>);
      }
    }
    expect([...kinds.keys()].sort()).toEqual(['ConfigMap', 'Deployment', 'Secret', 'Service']);
    const container = (kinds.get('Deployment') as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec.template.spec
      .containers[0] as { readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; envFrom: unknown[] };
    expect(container.readinessProbe.httpGet.path).toBe('/health');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.envFrom).toHaveLength(2);
    const deployment = read(`${chart}/templates/deployment.yaml`);
    expect(deployment).toContain('replicas: {{ .Values.replicaCount }}');
    expect(deployment).toContain('runAsNonRoot: true');
  });
});
