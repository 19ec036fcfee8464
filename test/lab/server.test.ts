/** The lab over HTTP: createLabBackend and LabAdminClient against a real server, persistence across restarts. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { FailureType } from '../../runbook/failures';
import { IDENTITY_PROBE_FUNCTION } from '../../runbook/session-configuration';
import { createLabBackend, LabAdminClient } from '../../backends/lab/client';
import { startLabServer, type LabServer } from '../../backends/lab/server';
import { caughtAsync, gmsaSpec, pssc, tempStateFile } from './helpers';

/** 15 s → 15 ms, 15 min → 0.9 s, WinRM restart 8 ms, job 2 ms. */
const TIME_SCALE = 0.001;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await sleep(10);
  }
}

describe('lab server', () => {
  let lab: LabServer;
  let admin: LabAdminClient;

  beforeEach(async () => {
    lab = await startLabServer({ stateFile: tempStateFile(), timeScale: TIME_SCALE });
    admin = new LabAdminClient(lab.url);
  });
  afterEach(async () => {
    await lab.close();
  });

  it('round-trips the ports through createLabBackend, preserving error types', async () => {
    const backend = createLabBackend(lab.url);
    expect(backend.kind).toBe('lab');
    expect((await backend.directory.listDomainControllers()).map((d) => d.hostName)).toEqual([
      'dc1.lab.local',
      'dc2.lab.local',
      'dc3.lab.local',
      'dc4.lab.local',
    ]);
    const sa = await backend.directory.createServiceAccount('dc1.lab.local', gmsaSpec());
    expect(sa.samAccountName).toBe('svc-remote$');
    expect(await backend.directory.getServiceAccount('dc1.lab.local', 'svc-remote')).toEqual(sa);

    const conflict = await caughtAsync(backend.directory.createServiceAccount('dc1.lab.local', gmsaSpec()));
    expect(conflict.type).toBe(FailureType.GmsaNameConflict);
    expect(conflict.retryable).toBe(false);

    await admin.addFault({ kind: 'dc-down', dc: 'dc2' });
    const down = await caughtAsync(backend.directory.getServiceAccount('dc2.lab.local', 'svc-remote'));
    expect(down.type).toBe(FailureType.ServerDown);
    expect(down.retryable).toBe(true);

    const bad = await caughtAsync(backend.directory.getServiceAccount('', 'x'));
    expect(bad.type).toBe(FailureType.RequestInvalid);

    await backend.hosts.startRegistration('server1.lab.local', pssc());
    const cfg = await until(
      () => backend.hosts.getSessionConfiguration('server1.lab.local', 'JEA-Remote').catch(() => null),
      (c) => c !== null,
    );
    expect(cfg?.groupManagedServiceAccount).toBe('LAB\\svc-remote$');
    expect(await backend.hosts.invokeIdentityProbe('server1.lab.local', 'JEA-Remote', IDENTITY_PROBE_FUNCTION)).toBe(
      'LAB\\svc-remote$',
    );
    const events = await admin.events();
    expect(events.filter((e) => e.op === 'createServiceAccount')).toHaveLength(1);
  });

  it('answers 503 for retryable types, 422 for the rest, 404 for unknown methods, 400 for bad admin input', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${lab.url}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    const ok = await post('/rpc/directory/getKdsRootKeys', { args: ['dc1.lab.local'] });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: unknown[] }).result).toHaveLength(1);

    const retryable = await post('/rpc/directory/getKdsRootKeys', { args: ['dc9.lab.local'] });
    expect(retryable.status).toBe(503);
    expect(((await retryable.json()) as { error: { type: string } }).error.type).toBe('ServerDown');

    const final = await post('/rpc/hosts/invokeIdentityProbe', { args: ['server1.lab.local', 'Nope', 'x'] });
    expect(final.status).toBe(422);
    expect(((await final.json()) as { error: { type: string } }).error.type).toBe('ObjectNotFound');

    expect((await post('/rpc/directory/dropDomain', { args: [] })).status).toBe(404);
    expect((await post('/rpc/directory/constructor', { args: [] })).status).toBe(404);

    const badSeed = await post('/admin/seed/user', { dc: 'dc1' });
    expect(badSeed.status).toBe(400);
    expect(((await badSeed.json()) as { error: { message: string } }).error.message).toMatch(/name/);
    const badKey = await post('/admin/kds-root-keys', { effectiveTime: 'yesterday-ish' });
    expect(badKey.status).toBe(400);
    expect(((await badKey.json()) as { error: { message: string } }).error.message).toMatch(/effectiveTime/);
    const badFault = await post('/admin/faults', { kind: 'winrm-hang', host: 'server1' });
    expect(badFault.status).toBe(400);
    expect(((await badFault.json()) as { error: { message: string } }).error.message).toMatch(/hangMs/);

    const huge = await post('/admin/seed/user', { name: 'x'.repeat(1_100_000) }).catch(() => null);
    if (huge) expect(huge.status).toBe(413);
    expect((await fetch(`${lab.url}/healthz`)).status).toBe(200);
  });

  it('admin client: faults, KDS keys, seeds, replicateNow, comparable state', async () => {
    const backend = createLabBackend(lab.url);
    const id = await admin.addFault({
      kind: 'fail-operation',
      operation: 'getKdsRootKeys',
      failureType: 'TransientFault',
      times: 1,
    });
    expect(await admin.listFaults()).toEqual([expect.objectContaining({ id, remaining: 1, when: 'before' })]);
    await admin.removeFault(id);
    expect(await admin.listFaults()).toEqual([]);
    expect((await caughtAsync(admin.removeFault(id))).type).toBe(FailureType.ObjectNotFound);

    await admin.setKdsRootKey(new Date(Date.now() - 60 * 60 * 1000));
    expect((await caughtAsync(backend.directory.createServiceAccount('dc1.lab.local', gmsaSpec()))).type).toBe(
      FailureType.KdsRootKeyMissing,
    );
    await admin.clearKdsRootKeys();
    expect(await backend.directory.getKdsRootKeys('dc1.lab.local')).toEqual([]);

    const fresh = await admin.comparableState();
    const seeded = await admin.seedServiceAccount({
      name: 'svc-old',
      principals: ['SERVER2$'],
      description: 'pre-existing',
    });
    expect(seeded.description).toBe('pre-existing');
    await admin.seedUser({ name: 'svc-app', dc: 'dc4.lab.local' });
    expect((await caughtAsync(admin.seedUser({ name: 'svc-app', dc: 'dc4.lab.local' }))).type).toBe(
      FailureType.GmsaNameConflict,
    );
    expect(await admin.replicateNow()).toBeGreaterThan(0);
    expect((await backend.directory.findAccountsNamed('dc2.lab.local', 'svc-app')).length).toBe(1);
    expect(await admin.comparableState()).not.toEqual(fresh);
    await admin.reset();
    const afterReset = await admin.comparableState();
    expect(afterReset).toEqual(fresh);
    expect((await admin.state()).kdsRootKeys).toHaveLength(1);
  });

  it('waits out a winrm-hang before answering WinRmTransport', async () => {
    const backend = createLabBackend(lab.url);
    await admin.addFault({ kind: 'winrm-hang', host: 'server2', hangMs: 300, remaining: 1 });
    const started = Date.now();
    const err = await caughtAsync(backend.hosts.probeHost('server2.lab.local'));
    expect(err.type).toBe(FailureType.WinRmTransport);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await backend.hosts.probeHost('server2.lab.local')).site).toBe('HQ');

    // A client timeout shorter than the hang is the lab being unavailable.
    await admin.addFault({ kind: 'winrm-hang', host: 'server2', hangMs: 1_000, remaining: 1 });
    const impatient = createLabBackend(lab.url, { timeoutMs: 100 });
    expect((await caughtAsync(impatient.hosts.probeHost('server2.lab.local'))).type).toBe(
      FailureType.BackendUnavailable,
    );
  });
});

describe('lab server lifecycle', () => {
  it('connection refused → BackendUnavailable', async () => {
    // A port that was free a moment ago and has nothing listening now.
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const backend = createLabBackend(`http://127.0.0.1:${port}`);
    const err = await caughtAsync(backend.directory.listDomainControllers());
    expect(err.type).toBe(FailureType.BackendUnavailable);
    expect(err.retryable).toBe(true);
  });

  it('persists: a new server on the same state file continues, and pending replication still arrives', async () => {
    const stateFile = tempStateFile();
    const first = await startLabServer({ stateFile, timeScale: TIME_SCALE });
    const sa = await createLabBackend(first.url).directory.createServiceAccount('dc1.lab.local', gmsaSpec());
    await new LabAdminClient(first.url).addFault({ kind: 'virtual-account', host: 'server4', remaining: 3 });
    const before = first.domain.snapshot();
    await first.close();
    // The file holds exactly the state at close (saved on every mutation).
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual(before);
    expect(before.deliveries.some((d) => d.to === 'dc4.lab.local')).toBe(true);

    const second = await startLabServer({ stateFile, timeScale: TIME_SCALE });
    try {
      const backend = createLabBackend(second.url);
      const admin = new LabAdminClient(second.url);
      expect(await backend.directory.getServiceAccount('dc1.lab.local', 'svc-remote')).toEqual(sa);
      expect(await admin.listFaults()).toEqual(before.faults);
      const dc4 = await until(
        () => backend.directory.getServiceAccount('dc4.lab.local', 'svc-remote'),
        (v) => v !== null,
      );
      expect(dc4).toEqual(sa);
      const state = await admin.state();
      expect(state.createdAt).toBe(before.createdAt);
      expect(state.deliveries).toEqual([]);
      expect(state.events).toEqual(before.events);

      // The same history on a lab that never restarted looks the same.
      const reference = await startLabServer({ stateFile: tempStateFile(), timeScale: TIME_SCALE });
      try {
        await createLabBackend(reference.url).directory.createServiceAccount('dc1.lab.local', gmsaSpec());
        await new LabAdminClient(reference.url).replicateNow();
        expect(await admin.comparableState()).toEqual(await new LabAdminClient(reference.url).comparableState());
      } finally {
        await reference.close();
      }
    } finally {
      await second.close();
    }
  });
});
