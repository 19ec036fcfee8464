/**
 * docker-compose.yml, checked by reading it (no Docker engine runs here): what users rely on — every long-running
 * service has a health check and a restart policy, the one-shots are one-shot, the project's services wait for a
 * healthy server and a finished `setup`, the published ports are the ones the processes listen on — and that it
 * cannot drift from the code: every variable it sets for a project service is one the code reads, every variable
 * the worker's and the connection's configuration read is passed through, the CLI flags it uses exist, and no
 * secret has a literal value. `.ci/compose-check` additionally runs `docker-compose config`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONNECTION_ENV_VARS, SECRET_CONNECTION_ENV_VARS } from '../../temporal/connection-config';
import { WORKER_ENV_VARS } from '../../workers/config';

const ROOT = join(__dirname, '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number })[];
  volumes?: (string | { type: string; source: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
  healthcheck?: Healthcheck;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const raw = readFileSync(COMPOSE_FILE, 'utf8');
// `merge: true`: the file shares environment blocks with YAML merge keys (<<: *temporal-connection).
const compose = parse(raw, { merge: true }) as ComposeFile;
const services = compose.services;
const serviceNames = Object.keys(services);
/** Services built from this repository (the worker, webhook, setup, lab image). */
const projectServices = serviceNames.filter((name) => services[name].build !== undefined);

function env(name: string): Record<string, string> {
  const e = services[name].environment ?? {};
  if (Array.isArray(e)) {
    return Object.fromEntries(e.map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function dependsOn(name: string): Record<string, string> {
  const d = services[name].depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((s) => [s, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([s, v]) => [s, v.condition ?? 'service_started']));
}

function argv(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : value.split(/\s+/);
}

/** A service something else waits for with service_completed_successfully, and that is never restarted. */
function isOneShot(name: string): boolean {
  const awaited = serviceNames.some((other) => dependsOn(other)[name] === 'service_completed_successfully');
  return awaited && (services[name].restart === 'no' || services[name].restart === undefined);
}

/** `${VAR:-default}` → default, `${VAR}` → '' : what a value is when nothing is set. */
function defaultOf(value: string): string {
  return value.replace(
    /\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?(?::?\?[^}]*)?\}/g,
    (_m, d: string | undefined) => d ?? '',
  );
}

/** Every GMSA_* / TEMPORAL_* name the project's (non-test) source mentions as a string or reads from an env object. */
function variablesTheCodeReads(): Set<string> {
  const names = new Set<string>();
  const dirs = ['runbook', 'client', 'ticketing', 'workflows', 'activities', 'backends', 'workers', 'cli', 'temporal'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/['"`]((?:GMSA|TEMPORAL)_[A-Z0-9_]+)['"`]/g)) names.add(m[1]);
        for (const m of text.matchAll(/\benv\.((?:GMSA|TEMPORAL)_[A-Z0-9_]+)/g)) names.add(m[1]);
      }
    }
  };
  for (const dir of dirs) if (existsSync(join(ROOT, dir))) walk(join(ROOT, dir));
  return names;
}

describe('docker-compose.yml', () => {
  test('has the stack the README promises', () => {
    expect(serviceNames.sort()).toEqual(
      ['lab', 'postgresql', 'setup', 'temporal', 'temporal-schema', 'temporal-ui', 'webhook', 'worker'].sort(),
    );
  });

  test('every service has a health check and a restart policy, or is a one-shot', () => {
    for (const name of serviceNames) {
      const service = services[name];
      if (isOneShot(name)) {
        expect([name, service.healthcheck]).toEqual([name, undefined]);
        continue;
      }
      expect([name, service.healthcheck?.test]).toEqual([name, expect.anything()]);
      expect([name, service.healthcheck?.disable]).toEqual([name, undefined]);
      expect([name, service.restart]).toEqual([name, expect.stringMatching(/^(unless-stopped|always|on-failure)/)]);
    }
    expect(serviceNames.filter(isOneShot).sort()).toEqual(['setup', 'temporal-schema']);
  });

  test('the server waits for its database and schema; worker, webhook and setup wait for a healthy server', () => {
    expect(dependsOn('temporal')).toEqual({
      postgresql: 'service_healthy',
      'temporal-schema': 'service_completed_successfully',
    });
    expect(dependsOn('temporal-schema')).toEqual({ postgresql: 'service_healthy' });
    expect(dependsOn('setup')).toEqual({ temporal: 'service_healthy' });
    for (const name of ['worker', 'webhook']) {
      expect([name, dependsOn(name)]).toEqual([
        name,
        expect.objectContaining({ temporal: 'service_healthy', setup: 'service_completed_successfully' }),
      ]);
    }
    expect(dependsOn('worker').lab).toBe('service_healthy');
    expect(dependsOn('temporal-ui')).toEqual({ temporal: 'service_healthy' });
  });

  test('the setup step runs `gmsa-runbook setup`, with flags the CLI has', () => {
    const command = argv(services.setup.command);
    expect(command.slice(0, 3)).toEqual(['node', '/app/dist/cli/main.js', 'setup']);
    expect(command).toEqual(expect.arrayContaining(['--create-namespace', '--wait']));
    expect(existsSync(CLI)).toBe(true);
    const help = spawnSync(process.execPath, [CLI, 'setup', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const flag of command.filter((a) => a.startsWith('--'))) expect(help.stdout).toContain(flag);
  });

  test('the webhook server runs `serve` on the port it publishes and checks', () => {
    const command = argv(services.webhook.command);
    expect(command.slice(0, 3)).toEqual(['node', '/app/dist/cli/main.js', 'serve']);
    const port = command[command.indexOf('--port') + 1];
    expect(command[command.indexOf('--host') + 1]).toBe('0.0.0.0');
    const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    for (const flag of command.filter((a) => a.startsWith('--'))) expect(help.stdout).toContain(flag);
    expect(argv(services.webhook.healthcheck?.test).join(' ')).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(port).toBe('8788');
  });

  test('the lab and the worker run the compiled entry points, with options the lab knows', () => {
    const lab = argv(services.lab.command);
    expect(lab.slice(0, 2)).toEqual(['node', '/app/dist/backends/lab/main.js']);
    const labSource = readFileSync(join(ROOT, 'backends', 'lab', 'main.ts'), 'utf8');
    for (const option of lab.filter((a) => a.startsWith('--')).map((a) => a.slice(2))) {
      expect([option, new RegExp(`['"]?${option}['"]?: \\{ type: 'string' \\}`).test(labSource)]).toEqual([
        option,
        true,
      ]);
    }
    expect(lab[lab.indexOf('--port') + 1]).toBe('8700');
    expect(env('worker').GMSA_LAB_URL).toBe('http://lab:8700');
    expect(argv(services.worker.command)).toEqual(['node', '/app/dist/workers/main.js']);
    expect(argv(services.worker.healthcheck?.test)).toEqual([
      'CMD',
      'node',
      '/app/dist/temporal/worker-health-main.js',
    ]);
    for (const [name, entry] of [
      ['lab', 'backends/lab/main.ts'],
      ['worker', 'workers/main.ts'],
      ['worker healthcheck', 'temporal/worker-health-main.ts'],
    ]) {
      expect([name, existsSync(join(ROOT, entry))]).toEqual([name, true]);
    }
  });

  test('publishes the frontend, the UI, the webhook server, the lab and the worker metrics, on loopback unless told otherwise', () => {
    const published = (name: string) =>
      (services[name].ports ?? []).map((p) => (typeof p === 'string' ? defaultOf(p) : `${p.target}`));
    expect(published('temporal')).toEqual(['127.0.0.1:7233:7233']);
    expect(published('temporal-ui')).toEqual(['127.0.0.1:8080:8080']);
    expect(published('webhook')).toEqual(['127.0.0.1:8788:8788']);
    expect(published('lab')).toEqual(['127.0.0.1:8700:8700']);
    // The worker publishes only its Prometheus exporter (GMSA_METRICS_ADDRESS).
    expect(published('worker')).toEqual(['127.0.0.1:9464:9464']);
    expect(env('worker').GMSA_METRICS_ADDRESS).toBe('0.0.0.0:9464');
    for (const name of ['postgresql', 'temporal-schema', 'setup']) expect([name, published(name)]).toEqual([name, []]);
  });

  test('the project services reach the stack server by default, and every connection variable is passed through', () => {
    for (const name of ['setup', 'worker', 'webhook']) {
      const e = env(name);
      expect([name, defaultOf(e.TEMPORAL_ADDRESS)]).toEqual([name, 'temporal:7233']);
      for (const variable of CONNECTION_ENV_VARS)
        expect([name, variable, variable in e]).toEqual([name, variable, true]);
    }
    expect(env('worker').GMSA_TASK_QUEUE).toBe(env('webhook').GMSA_TASK_QUEUE);
  });

  test('the worker gets every variable its configuration reads, and the ticket adapters’ variables', () => {
    const worker = env('worker');
    for (const variable of WORKER_ENV_VARS) expect([variable, variable in worker]).toEqual([variable, true]);
    const adapters = readFileSync(join(ROOT, 'ticketing', 'adapters', 'index.ts'), 'utf8');
    const ticketVars = [...new Set([...adapters.matchAll(/'(GMSA_(?:JIRA|SNOW)_[A-Z_]+)'/g)].map((m) => m[1]))];
    expect(ticketVars.length).toBeGreaterThanOrEqual(6);
    for (const variable of ticketVars) expect([variable, variable in worker]).toEqual([variable, true]);
  });

  test('the webhook server gets every secret its configuration names', () => {
    const e = env('webhook');
    const configPath = defaultOf(e.GMSA_WEBHOOK_CONFIG).replace(/^\/app\//, '');
    const config = JSON.parse(readFileSync(join(ROOT, configPath), 'utf8')) as unknown;
    const secretEnvs: string[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'secretEnv' && typeof value === 'string') secretEnvs.push(value);
          else collect(value);
        }
      }
    };
    collect(config);
    expect(secretEnvs.length).toBeGreaterThan(0);
    for (const name of secretEnvs) expect([name, name in e]).toEqual([name, true]);
  });

  test('every variable set for a project service is one the code reads (no typos, no leftovers)', () => {
    const known = variablesTheCodeReads();
    for (const name of projectServices) {
      for (const variable of Object.keys(env(name))) {
        const webhookSecret = name === 'webhook' && /^GMSA_[A-Z_]+_(SECRET|TOKEN)$/.test(variable);
        expect([name, variable, known.has(variable) || webhookSecret]).toEqual([name, variable, true]);
      }
    }
  });

  test('no secret has a literal value or a default', () => {
    const secretName = /(SECRET|TOKEN|PASSWORD|_PWD|API_KEY|KEY_DATA)$/;
    for (const name of serviceNames) {
      for (const [variable, value] of Object.entries(env(name))) {
        if (!secretName.test(variable) && !SECRET_CONNECTION_ENV_VARS.includes(variable as never)) continue;
        // Only an interpolation, with an empty default or a required-variable message: `${X:-}`, `${X:?…}`, `${X}`.
        expect([name, variable, value]).toEqual([
          name,
          variable,
          expect.stringMatching(/^\$\{[A-Z_][A-Z0-9_]*(?::-|:\?[^}]*)?\}$/),
        ]);
      }
    }
    expect(raw).not.toMatch(/\$\{[A-Z0-9_]*(SECRET|TOKEN|PASSWORD|API_KEY|KEY_DATA)[A-Z0-9_]*:-[^}]/);
    expect(raw).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY|tmprl_[A-Za-z0-9]{8,}/);
    expect(env('postgresql').POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
  });

  test('third-party images are pinned to versions; named volumes are declared', () => {
    for (const name of serviceNames.filter((n) => !projectServices.includes(n))) {
      const image = defaultOf(services[name].image ?? '');
      expect([name, image]).toEqual([name, expect.stringMatching(/^[a-z0-9/_-]+:\d+\.\d+(\.\d+)?$/)]);
    }
    const declared = Object.keys(compose.volumes ?? {});
    for (const name of serviceNames) {
      for (const volume of services[name].volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
        if (source.startsWith('.') || source.startsWith('/')) {
          expect([name, source, existsSync(join(ROOT, source))]).toEqual([name, source, true]);
        } else expect([name, declared.includes(source)]).toEqual([name, true]);
      }
    }
  });

  const compose1 = spawnSync('docker-compose', ['--version'], { encoding: 'utf8' });
  (compose1.status === 0 ? test : test.skip)(
    'docker-compose config accepts it (when docker-compose is installed)',
    () => {
      const run = spawnSync('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, POSTGRES_PASSWORD: 'compose-test-placeholder' },
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
  );
});
