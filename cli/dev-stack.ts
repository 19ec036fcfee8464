/**
 * The embedded stack: a Temporal dev server (with UI), the lab domain and a worker, state kept under one
 * folder so a restart loses nothing. `gmsa-runbook dev` and `npm start` run it; other commands find it through
 * the stack file it writes.
 */
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startWebhookServer } from '../ticketing/webhook/server';
import { sampleWebhookConfig } from '../ticketing/webhook/config';
import { createLabBackend } from '../backends/lab/client';
import { startLabServer } from '../backends/lab/server';
import { createHybridBackend } from '../backends/hybrid';
import { LdapDirectory } from '../backends/ldap';
import { sambaAvailable, startSambaForest, type SambaForest } from '../samba/forest';
import { ldapConfigFor } from '../samba/ldap-env';
import { isPortFree, obtainTemporalServer } from '../temporal';
import { DEFAULT_TASK_QUEUE } from '../workers/config';
import { createRunbookWorker } from '../workers/worker';
import { createTicketPorts } from '../ticketing/adapters';

export interface StackInfo {
  temporalAddress: string;
  /** The webhook server (tickets in), with the sample configuration and its development secrets. */
  webhookUrl: string;
  namespace: string;
  uiUrl: string | null;
  labUrl: string;
  taskQueue: string;
  stateDir: string;
}

export interface DevStackOptions {
  stateDir: string;
  timeScale?: number;
  temporalPort?: number;
  uiPort?: number;
  labPort?: number;
  /** lab: the simulated directory; samba: a forest of real Samba AD DCs, hosts still in the lab (hybrid). */
  directory?: 'lab' | 'samba';
  log: (line: string) => void;
}

export interface DevStack extends StackInfo {
  stop(): Promise<void>;
}

export function defaultStateDir(): string {
  return process.env.GMSA_STATE_DIR ?? join(process.cwd(), '.state', 'dev');
}

const stackFile = (stateDir: string) => join(stateDir, 'stack.json');

/** The stack `gmsa-runbook dev` is running, if any (other commands talk to it). */
export function readStackInfo(stateDir: string = defaultStateDir()): StackInfo | null {
  try {
    return JSON.parse(readFileSync(stackFile(stateDir), 'utf8')) as StackInfo;
  } catch {
    return null;
  }
}

/** The well-known port when it is free (so links stay the same), else any free one. */
async function preferred(port: number): Promise<number | undefined> {
  return (await isPortFree(port)) ? port : undefined;
}

async function startForest(log: (line: string) => void): Promise<SambaForest> {
  const available = sambaAvailable();
  if (!available.ok) {
    throw new Error(
      `--directory samba needs Samba AD tooling and root: ${available.reason ?? 'not available'} (see .ci/samba-install)`,
    );
  }
  log('Starting a forest of real Samba AD DCs (lab.local; about 10 s)…');
  const forest = await startSambaForest({ log: (l) => log(`  samba: ${l}`) });
  log(`Samba DCs: ${forest.dcs.map((d) => `${d.hostName} (${d.address}, ${d.site})`).join(', ')}`);
  return forest;
}

export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  mkdirSync(opts.stateDir, { recursive: true });
  const temporal = await obtainTemporalServer({
    dbFile: join(opts.stateDir, 'temporal.db'),
    port: opts.temporalPort ?? (await preferred(7233)),
    uiPort: opts.uiPort ?? (await preferred(8233)),
    headless: false,
    log: opts.log,
  });
  const forest = opts.directory === 'samba' ? await startForest(opts.log) : undefined;
  const labDirectory = forest ? new LdapDirectory(ldapConfigFor(forest)) : undefined;
  const lab = await startLabServer({
    stateFile: join(opts.stateDir, 'lab.json'),
    port: opts.labPort ?? 0,
    timeScale: opts.timeScale,
    directory: labDirectory,
  });
  opts.log(`Lab ${forest ? 'hosts' : 'domain LAB (lab.local)'} at ${lab.url}`);
  const backend = forest
    ? createHybridBackend({ ldap: ldapConfigFor(forest), labUrl: lab.url })
    : createLabBackend(lab.url);

  // The terminal belongs to the progress lines; the worker speaks up only when something is wrong. A process that
  // already installed the runtime (a test, an embedding program) keeps its own.
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err;
  }
  const connection = await NativeConnection.connect({ address: temporal.address });
  const taskQueue = process.env.GMSA_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const worker = await createRunbookWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    backend,
    hostOptions: { pollIntervalMs: 200 },
    // No real ticket system in the dev stack: ticket comments go to a file you can tail.
    tickets: createTicketPorts(
      { ...process.env, GMSA_TEMPORAL_UI_URL: temporal.uiUrl ?? undefined, TEMPORAL_NAMESPACE: temporal.namespace },
      { log: createWriteStream(join(opts.stateDir, 'ticket-comments.log'), { flags: 'a' }) },
    ),
  });
  const running = worker.run();
  opts.log(`Worker polling task queue ${taskQueue}`);

  // Tickets in: the sample configuration with development secrets (never for production: see README).
  const temporalClient = new Client({
    connection: await Connection.connect({ address: temporal.address }),
    namespace: temporal.namespace,
  });
  const webhooks = await startWebhookServer({
    client: temporalClient,
    namespace: temporal.namespace,
    taskQueue,
    uiUrl: temporal.uiUrl,
    config: sampleWebhookConfig({ replayStoreFile: join(opts.stateDir, 'webhook-replay.json') }),
  });
  opts.log(`Webhook server at ${webhooks.url} (POST /webhooks/generic, /webhooks/jira, /webhooks/servicenow)`);

  const info: StackInfo = {
    temporalAddress: temporal.address,
    namespace: temporal.namespace,
    uiUrl: temporal.uiUrl,
    labUrl: lab.url,
    webhookUrl: webhooks.url,
    taskQueue,
    stateDir: opts.stateDir,
  };
  writeFileSync(stackFile(opts.stateDir), JSON.stringify(info, null, 2));

  let stopped = false;
  return {
    ...info,
    async stop() {
      if (stopped) return;
      stopped = true;
      await webhooks.close();
      await temporalClient.connection.close();
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await lab.close();
      await backend.close?.();
      await labDirectory?.close();
      await forest?.stop();
      await temporal.stop();
      writeFileSync(stackFile(opts.stateDir), '{}');
    },
  };
}
