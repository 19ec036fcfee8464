/**
 * The re-verification schedule is part of what a run changes, so a run that is cancelled after writing it puts it
 * back: a schedule the run created is deleted, one it replaced gets its previous target, interval and memo back.
 * The write records what it replaced in the schedule itself (one activity, no read before it); these runs cancel
 * while the final ticket update is still being delivered, i.e. after the write, on a real server and the lab.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { PREVIOUS_SCHEDULE_MEMO } from '../../activities/schedules';
import type { VerifyTarget } from '../../runbook/verify';
import { verifyScheduleId } from '../../runbook/verify';
import type { TicketUpdate } from '../../runbook/ticket';
import type { TicketPorts } from '../../ticketing/adapters';
import { provisionGmsaRemoting } from '../../workflows';
import { createRunbookWorker } from '../../workers/worker';
import {
  connectTemporal,
  sampleRequest,
  startTestLab,
  uniqueTaskQueue,
  workflowBundle,
  type TemporalTestEnv,
  type TestLab,
} from '../support/runbook-env';

/** Ticket updates are delivered at once, except `succeeded`, which waits until the test lets it go. */
class HeldSucceededTickets {
  readonly seen: string[] = [];
  private waiters: (() => void)[] = [];
  private releases: (() => void)[] = [];

  readonly ports: TicketPorts = {
    links: { uiUrl: null, namespace: 'default' },
    describe: () => ({ jira: 'held', servicenow: 'held', generic: 'held', cli: 'held' }),
    forTicket: () => ({
      name: 'held',
      postUpdate: async (update: TicketUpdate) => {
        this.seen.push(`${update.ticket.key}:${update.milestone}`);
        this.waiters.splice(0).forEach((w) => w());
        if (update.milestone !== 'succeeded') return;
        // Held until released or 5 s (the workflow does not wait for a cancelled update to stop).
        await new Promise<void>((resolve) => {
          this.releases.push(resolve);
          setTimeout(resolve, 5_000).unref();
        });
      },
    }),
  };

  async until(ticketKey: string, milestone: string): Promise<void> {
    while (!this.seen.includes(`${ticketKey}:${milestone}`)) await new Promise<void>((r) => this.waiters.push(r));
  }

  releaseAll(): void {
    this.releases.splice(0).forEach((r) => r());
  }
}

let env: TemporalTestEnv;
let lab: TestLab;
let worker: Worker;
let running: Promise<void>;
const tickets = new HeldSucceededTickets();
const taskQueue = uniqueTaskQueue('schedule-undo');

beforeAll(async () => {
  env = await connectTemporal();
  lab = await startTestLab();
  worker = await createRunbookWorker({
    connection: env.nativeConnection,
    taskQueue,
    backend: lab.backend,
    workflowBundle: await workflowBundle(),
    hostOptions: { pollIntervalMs: 20 },
    shutdownGraceTime: '1s',
    tickets: tickets.ports,
  });
  running = worker.run();
});

afterAll(async () => {
  tickets.releaseAll();
  worker.shutdown();
  await running;
  await lab.close();
  await env.close();
});

/** Start a run for `gmsaName`, wait until it has written the schedule and is telling the ticket, then cancel it. */
async function cancelAfterScheduleWrite(gmsaName: string): Promise<unknown> {
  const request = sampleRequest({ gmsa: { name: gmsaName }, hosts: ['server1.lab.local'] });
  const handle = await env.client.workflow.start(provisionGmsaRemoting, {
    taskQueue,
    workflowId: `gmsa-provision-${request.ticket.key}`,
    args: [request],
  });
  await tickets.until(request.ticket.key, 'succeeded');
  // The run wrote the schedule before telling the ticket it succeeded: its target carries the run's mark.
  const written = await env.client.schedule.getHandle(verifyScheduleId(gmsaName)).describe();
  const action = written.action as { args?: unknown[]; memo?: Record<string, unknown> };
  expect((action.args?.[0] as VerifyTarget).gmsaName).toBe(gmsaName);
  expect(action.memo?.[PREVIOUS_SCHEDULE_MEMO]).toMatchObject({ mark: (action.args?.[0] as VerifyTarget).mark });
  await handle.cancel();
  const error = await handle.result().catch((err: unknown) => err);
  tickets.releaseAll();
  return error;
}

test('a cancelled run deletes the re-verification schedule it created', async () => {
  const error = await cancelAfterScheduleWrite('UndoNewSched');
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  await expect(env.client.schedule.getHandle(verifyScheduleId('UndoNewSched')).describe()).rejects.toThrow(
    /not found/i,
  );
});

test('a cancelled run puts back the schedule it replaced: target, interval and memo', async () => {
  const gmsaName = 'UndoOldSched';
  const earlier: VerifyTarget = {
    ticket: { key: 'OLD-1', system: 'cli' },
    domain: { netbios: 'LAB', dns: 'lab.local' },
    gmsaName,
    hosts: ['server9.lab.local'],
    endpointName: 'OldEndpoint',
    expectedPrincipals: ['SERVER9$'],
    group: null,
    replicationScope: 'all',
    remediate: false,
    owned: { gmsa: true, principalsAdded: [], groupMembersAdded: [], endpointHosts: ['server9.lab.local'] },
    mark: '[gmsa-runbooks:gmsa-provision-OLD-1/earlier-run]',
  };
  const scheduleId = verifyScheduleId(gmsaName);
  await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '12 hours' }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'verifyGmsaRemoting',
      taskQueue,
      args: [earlier],
      memo: { owner: 'the earlier run' },
    },
    state: { paused: true },
  });
  try {
    const error = await cancelAfterScheduleWrite(gmsaName);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const restored = await env.client.schedule.getHandle(scheduleId).describe();
    const action = restored.action as { args?: unknown[]; memo?: Record<string, unknown> };
    expect(action.args?.[0]).toEqual(earlier);
    expect(action.memo).toEqual({ owner: 'the earlier run' });
    expect(restored.spec.intervals?.[0]?.every).toBe(12 * 3_600_000);
  } finally {
    await env.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
  }
});
