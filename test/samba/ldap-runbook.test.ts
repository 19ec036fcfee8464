/**
 * The directory on real Samba AD DCs that really replicate: the directory contract on the ldap backend, and the
 * whole provisioning runbook in the hybrid configuration (directory over LDAPS, hosts in the lab).
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { createHybridBackend } from '../../backends/hybrid';
import { LdapDirectory } from '../../backends/ldap';
import type { Backend } from '../../backends/ports';
import type { ProvisionResult } from '../../runbook/progress';
import type { RunbookRequestInput } from '../../runbook/request';
import { progressQuery } from '../../workflows/definitions';
import type { provisionGmsaRemoting } from '../../workflows';
import { directoryContract } from '../contract/directory-contract';
import {
  connectTemporal,
  createTestWorker,
  sampleRequest,
  startTestLab,
  uniqueTaskQueue,
  type TemporalTestEnv,
  type TestLab,
} from '../support/runbook-env';
import { ldapConfigFor } from '../../samba/ldap-env';
import { sambaAvailable, startSambaForest, type SambaForest } from '../../samba/forest';

const samba = sambaAvailable();
if (!samba.ok) console.warn(`Samba tests skipped: ${samba.reason ?? 'Samba is not available'}`);
// The one allowed skip: without Samba (and root) on the machine there is no real directory to test against.
const describeWithSamba = samba.ok ? describe : describe.skip;

jest.setTimeout(300_000);

describeWithSamba('ldap backend on Samba AD', () => {
  let forest: SambaForest;
  let directory: LdapDirectory;

  beforeAll(async () => {
    forest = await startSambaForest({ log: (l) => process.stderr.write(`[samba] ${l}\n`) });
    process.stderr.write(`[samba] forest of ${forest.dcs.length} DCs up in ${forest.setupMs} ms\n`);
    directory = new LdapDirectory(ldapConfigFor(forest));
  });

  afterAll(async () => {
    await directory?.close();
    await forest?.stop();
  });

  describe('directory contract', () => {
    directoryContract(() => ({
      directory,
      pinnedDc: forest.dcs[0].hostName,
      otherDc: forest.dcs[1].hostName,
      replicationBudgetMs: 90_000,
    }));
  });

  describe('provisioning runbook, hybrid (Samba directory, lab hosts)', () => {
    let env: TemporalTestEnv;
    let lab: TestLab;
    let labDirectory: LdapDirectory;
    let backend: Backend;
    let worker: Worker;
    let running: Promise<void>;
    let taskQueue: string;

    beforeAll(async () => {
      env = await connectTemporal();
      // The lab's hosts ask the Samba DCs for passwords, like real hosts ask theirs.
      labDirectory = new LdapDirectory(ldapConfigFor(forest));
      lab = await startTestLab({ directory: labDirectory });
      backend = createHybridBackend({ ldap: ldapConfigFor(forest), labUrl: lab.url });
      taskQueue = uniqueTaskQueue('hybrid');
      worker = await createTestWorker(env, backend, taskQueue);
      running = worker.run();
    });

    afterAll(async () => {
      worker?.shutdown();
      await running;
      await backend?.close?.();
      await lab?.close();
      await labDirectory?.close();
      await env?.close();
    });

    // Each run starts from fresh lab hosts (no endpoint from an earlier test); the Samba side keeps its history.
    beforeEach(async () => {
      await lab.admin.reset();
    });

    const dcNames = () => forest.dcs.map((d) => d.hostName);
    let n = 0;
    const request = (overrides: Partial<RunbookRequestInput> = {}) =>
      sampleRequest({
        gmsa: { name: `hy-${process.pid % 10000}-${n++}` },
        replication: { pollIntervalSeconds: 1, timeoutSeconds: 150 },
        ...overrides,
      });

    function start(r: RunbookRequestInput) {
      return env.client.workflow.start<typeof provisionGmsaRemoting>('provisionGmsaRemoting', {
        taskQueue,
        workflowId: `gmsa-provision-${r.ticket.key}`,
        args: [r],
      });
    }

    async function failure(r: RunbookRequestInput): Promise<ApplicationFailure> {
      const err = await (await start(r)).result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      return (err as WorkflowFailedError).cause as ApplicationFailure;
    }

    async function absentEverywhere(name: string, budgetMs: number): Promise<void> {
      const deadline = Date.now() + budgetMs;
      for (;;) {
        const seen = await Promise.all(
          dcNames().map((dc) => directory.getServiceAccount(dc, name).catch((e: Error) => `down: ${e.message}`)),
        );
        if (seen.every((s) => s === null)) return;
        if (Date.now() > deadline) throw new Error(`${name} still on some DC: ${JSON.stringify(seen)}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }

    test('creates on the pinned DC, waits until every Samba DC has it, and ends verified', async () => {
      const r = request();
      const handle = await start(r);
      const result: ProvisionResult = await handle.result();

      expect(result.identities).toEqual({
        'server1.lab.local': `LAB\\${r.gmsa.name}$`,
        'server2.lab.local': `LAB\\${r.gmsa.name}$`,
      });
      const progress = await handle.query(progressQuery);
      expect(progress.replication?.converged.sort()).toEqual(dcNames().sort());
      for (const dc of dcNames()) {
        const sa = await directory.getServiceAccount(dc, r.gmsa.name);
        expect(sa?.principals.sort()).toEqual(['SERVER1$', 'SERVER2$']);
      }
    });

    test('another DC stopped: ReplicationTimeout, rollback, and once it is back the object is gone there too', async () => {
      const other = forest.dcs[forest.dcs.length - 1];
      await forest.stopDc(other.name);
      const r = request({ replication: { pollIntervalSeconds: 1, timeoutSeconds: 15 } });
      try {
        const f = await failure(r);
        expect(f.type).toBe('ReplicationTimeout');
        expect(f.message).toContain(other.hostName);
        expect(await directory.getServiceAccount(forest.dcs[0].hostName, r.gmsa.name)).toBeNull();
      } finally {
        await forest.startDc(other.name);
      }
      await absentEverywhere(r.gmsa.name, 120_000);
    });

    test('a pre-existing gMSA is adopted, keeps its principals (read-modify-write) and survives rollback', async () => {
      const r = request();
      const pinned = forest.dcs[0].hostName;
      const pre = await directory.createServiceAccount(pinned, {
        name: r.gmsa.name,
        dnsHostName: `${r.gmsa.name}.lab.local`,
        description: 'made by hand',
        principals: ['SERVER4$'],
        kerberosEncryptionTypes: ['AES256'],
        managedPasswordIntervalInDays: 30,
      });
      // A failure after the principals were added: rollback must take back exactly what this run added.
      await lab.admin.addFault({
        kind: 'fail-operation',
        operation: 'invokeIdentityProbe',
        failureType: 'AccessDenied',
      });
      try {
        expect((await failure(r)).type).toBe('AccessDenied');
      } finally {
        await lab.admin.clearFaults();
      }
      const after = await directory.getServiceAccount(pinned, r.gmsa.name);
      expect(after?.objectGuid).toBe(pre.objectGuid);
      expect(after?.principals).toEqual(['SERVER4$']);
      expect(after?.description).toBe('made by hand');

      // Without the fault the same gMSA is adopted and ends with its old principal plus the hosts.
      const ok: ProvisionResult = await (await start({ ...r, ticket: { key: `${r.ticket.key}9` } })).result();
      expect(ok.plan.gmsa.action).toBe('adopt');
      const final = await directory.getServiceAccount(pinned, r.gmsa.name);
      expect(final?.principals.sort()).toEqual(['SERVER1$', 'SERVER2$', 'SERVER4$']);
    });

    test('the pinned DC down mid-run: the step retries and the run ends cleanly either way', async () => {
      const r = request();
      const pinned = forest.dcs[0];
      const handle = await start(r);
      for (let i = 0; ; i++) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        if (p?.currentStep === 'wait-replication' || p?.currentStep === 'hosts' || p?.state !== 'running') break;
        if (i > 600) throw new Error('the run never got past creation');
        await new Promise((res) => setTimeout(res, 100));
      }
      await forest.stopDc(pinned.name);
      await new Promise((res) => setTimeout(res, 5_000));
      await forest.startDc(pinned.name);

      const outcome = await handle.result().then(
        (result) => ({ ok: true as const, result }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      if (outcome.ok) {
        expect(Object.values(outcome.result.identities)).toEqual([`LAB\\${r.gmsa.name}$`, `LAB\\${r.gmsa.name}$`]);
      } else {
        expect(((outcome.err as WorkflowFailedError).cause as ApplicationFailure).type).not.toBe('RollbackIncomplete');
        await absentEverywhere(r.gmsa.name, 120_000);
      }
    });
  });
});
