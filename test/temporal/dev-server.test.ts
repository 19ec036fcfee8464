/** startDevServer against the real CLI: persistence across restarts, late search-attribute registration, failures. */
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { TicketKey } from '../../runbook/search-attributes';
import { locateTemporalCli } from '../../temporal/cli-locator';
import {
  DevServerStartError,
  findFreePort,
  isPortFree,
  startDevServer,
  type DevServer,
} from '../../temporal/dev-server';
import { ensureSearchAttributes } from '../../temporal/search-attributes';

describe('startDevServer', () => {
  let cliPath: string;
  let tmp: string;
  const servers: DevServer[] = [];

  beforeAll(async () => {
    cliPath = await locateTemporalCli();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gmsa-devserver-'));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  async function start(dbFile: string, namespace: string): Promise<DevServer> {
    const server = await startDevServer({ cliPath, dbFile, namespace, headless: true });
    servers.push(server);
    return server;
  }

  it('keeps a namespace, its search attributes and a workflow across stop and restart on the same DB file', async () => {
    // A directory that does not exist yet: startDevServer must create it.
    const dbFile = path.join(tmp, 'nested', 'dir', 'dev.db');
    const namespace = 'gmsa-persist';
    // Registered at runtime, not through --search-attribute: proves the registry itself is persisted.
    const probe = defineSearchAttributeKey('PersistProbe', SearchAttributeType.KEYWORD);
    const workflowId = 'persist-probe';

    const first = await start(dbFile, namespace);
    let connection = await Connection.connect({ address: first.address });
    try {
      expect(await ensureSearchAttributes(connection, namespace, [probe])).toEqual(['PersistProbe']);
      // No worker polls this task queue: the execution just stays Running, which is all the test needs.
      await new Client({ connection, namespace }).workflow.start('neverRuns', {
        taskQueue: 'nobody-polls-this',
        workflowId,
        typedSearchAttributes: [{ key: TicketKey, value: 'OPS-1' }],
      });
    } finally {
      await connection.close();
    }
    await first.stop();
    await fsp.access(dbFile);

    const second = await start(dbFile, namespace);
    connection = await Connection.connect({ address: second.address });
    try {
      expect(await ensureSearchAttributes(connection, namespace, [probe])).toEqual([]);
      expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);
      const description = await new Client({ connection, namespace }).workflow.getHandle(workflowId).describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.typedSearchAttributes.get(TicketKey)).toBe('OPS-1');
    } finally {
      await connection.close();
    }
    await second.stop();
  });

  it('stop() is idempotent and ends the process', async () => {
    const server = await startDevServer({ cliPath, headless: true });
    servers.push(server);
    await server.stop();
    await server.stop();
    expect(() => process.kill(server.pid, 0)).toThrow();
  });

  it('serves the UI on the requested port unless headless', async () => {
    const uiPort = await findFreePort();
    const server = await startDevServer({ cliPath, uiPort });
    servers.push(server);
    expect(server.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
    await server.stop();
  });

  it('rejects with the process output when the server exits during start-up', async () => {
    const fake = path.join(tmp, 'dying-temporal');
    await fsp.writeFile(fake, '#!/bin/sh\necho "boom: cannot start" >&2\nexit 3\n', { mode: 0o755 });
    const attempt = startDevServer({ cliPath: fake, headless: true, startTimeoutMs: 10_000 });
    await expect(attempt).rejects.toThrow(DevServerStartError);
    await expect(attempt).rejects.toThrow(/exited with code 3[\s\S]*boom: cannot start/);
  });

  it('refuses a port that is already taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      expect(await isPortFree(port)).toBe(false);
      await expect(startDevServer({ cliPath, port, headless: true })).rejects.toThrow(/already in use/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    expect(await isPortFree(port)).toBe(true);
  });
});
