/** The approval gate on a real Temporal server: approve → the run goes on; reject or timeout → nothing changed. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ProvisionResult } from '../../runbook/progress';
import type { RunbookRequestInput } from '../../runbook/request';
import { approveUpdate, progressQuery, rejectUpdate } from '../../workflows/definitions';
import { sampleRequest, useRunbookHarness } from '../support/runbook-env';

const h = useRunbookHarness('approval');
beforeEach(() => h.lab.admin.reset());

const gated = (timeoutSeconds = 600): RunbookRequestInput =>
  sampleRequest({ approval: { required: true, timeoutSeconds } });

async function waitingForApproval(handle: Awaited<ReturnType<typeof h.start>>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.state === 'awaiting-approval') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the run never waited for approval');
}

/** The validator's message, which the client gets as the cause of WorkflowUpdateFailedError. */
async function refusal(update: Promise<unknown>): Promise<string> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause?.message ?? '';
}

async function settled() {
  await h.lab.admin.replicateNow();
  return h.lab.admin.comparableState();
}

test('approve: the run goes on, records the approver, and ends verified', async () => {
  const handle = await h.start(gated());
  await waitingForApproval(handle);
  const events = (await h.lab.admin.events()).length;
  // Nothing is written while the plan waits.
  expect((await h.lab.admin.events()).slice(events)).toEqual([]);

  const outcome = await handle.executeUpdate(approveUpdate, { args: [{ approver: 'alice', comment: 'CAB-42' }] });
  expect(outcome).toEqual({ decision: 'approved', approver: 'alice' });

  const result: ProvisionResult = await handle.result();
  expect(result.status).toBe('succeeded');
  expect(result.approval).toEqual({ decision: 'approved', approver: 'alice', comment: 'CAB-42' });
  expect(Object.values(result.identities)).toEqual(['LAB\\TestgMSA$', 'LAB\\TestgMSA$']);
});

test('reject: the run ends rejected and the lab is exactly as before', async () => {
  const before = await settled();
  const handle = await h.start(gated());
  await waitingForApproval(handle);
  await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', comment: 'not this week' }] });

  const result: ProvisionResult = await handle.result();
  expect(result.status).toBe('rejected');
  expect(result.approval).toMatchObject({ decision: 'rejected', approver: 'bob' });
  expect(await settled()).toEqual(before);
});

test('nobody decides in time: the run ends expired with nothing changed', async () => {
  const before = await settled();
  const result: ProvisionResult = await (await h.start(gated(2))).result();
  expect(result.status).toBe('expired');
  expect(result.approval).toBeNull();
  expect(await settled()).toEqual(before);
});

test('an approval when the run is not waiting, or without an approver, is refused', async () => {
  const handle = await h.start(sampleRequest({ replication: { pollIntervalSeconds: 0.2, timeoutSeconds: 30 } }));
  expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ approver: 'mallory' }] }))).toMatch(
    /not waiting for approval/,
  );
  const gatedHandle = await h.start(gated());
  await waitingForApproval(gatedHandle);
  expect(await refusal(gatedHandle.executeUpdate(approveUpdate, { args: [{ approver: '  ' }] }))).toMatch(/approver/);
  await gatedHandle.executeUpdate(rejectUpdate, { args: [{ approver: 'carol' }] });
  expect((await gatedHandle.result()).status).toBe('rejected');
  await handle.result();
});
