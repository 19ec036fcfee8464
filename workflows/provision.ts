/**
 * provisionGmsaRemoting: preflight → create the gMSA on a pinned DC → wait until every DC has it → per host
 * (bounded fan-out): authorize → register the endpoint that runs as the gMSA → verify the remote identity.
 * Any failure for good, or a cancel, rolls back what this run did, newest first; nothing that existed before
 * the run is removed.
 *
 * Deterministic workflow code: no I/O, no Node APIs. Time and randomness come from the sandbox.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { RunbookActivities } from '../activities';
import { FailureType } from '../runbook/failures';
import { runMark } from '../runbook/marks';
import type { HostPlan, ProvisionPlan } from '../runbook/plan';
import type { ProvisionResult, RollbackReport } from '../runbook/progress';
import {
  listedProblems,
  problemsMessage,
  requestProblems,
  requestSchemas,
  type RunbookRequest,
  type RunbookRequestInput,
} from '../runbook/request';
import { buildSessionConfiguration } from '../runbook/session-configuration';
import { verifyScheduleId, verifyTargetFor } from '../runbook/verify';
import { PROGRESS_QUERY_DESCRIPTION, progressQuery } from './definitions';
import { ProgressTracker } from './progress-tracker';
import { ApprovalGate } from './approval';
import { failureOf, Saga } from './saga';
import { TicketNotifier } from './ticket-notifier';

const TRANSPORT_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 6,
};

/** Forward steps: wait for a cancelled activity to stop before compensating, so undo never races the step. */
const forward: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: TRANSPORT_RETRY,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/** Undos get their own, more patient policy: giving up means a human has to clean up. */
const undoOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};

/** Every call passes its own options (with a summary for the UI); these are only the fallback. */
const acts = proxyActivities<RunbookActivities>(forward);

function parseRequest(input: RunbookRequestInput): RunbookRequest {
  const parsed = requestSchemas().RunbookRequestSchema.safeParse(input);
  if (!parsed.success) {
    // Printable and bounded (listedProblems): an echoed megabyte would make the failure too big for Temporal.
    const all = requestProblems(parsed.error);
    const { problems, omitted } = listedProblems(all);
    throw ApplicationFailure.nonRetryable(problemsMessage(all), FailureType.RequestInvalid, {
      problems,
      ...(omitted > 0 ? { omittedProblems: omitted } : {}),
    });
  }
  return parsed.data;
}

/** Run `fn` for every item with at most `limit` at once; after a failure no new item starts. */
async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const lane = async () => {
    while (next < items.length && firstError === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  // Rethrown as the activity raised it: its failure type decides the run's outcome.
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  if (firstError !== undefined) throw firstError;
}

/**
 * The version gate of the command sequence runs start with today. Each `patched()` costs a new run a marker and a
 * TemporalChangeVersion upsert, so today's sequence is one gate instead of one patch per change; histories recorded
 * before it (no marker) replay through the individual patches below, as they were recorded. The next change to the
 * command sequence adds the next gate.
 */
const COMMANDS_V2 = 'runbook-commands-v2';

export async function provisionGmsaRemoting(input: RunbookRequestInput): Promise<ProvisionResult> {
  const request = parseRequest(input);
  const { workflowId, runId } = workflowInfo();
  const mark = runMark(workflowId, runId);
  const startedAt = new Date().toISOString();
  const v2 = patched(COMMANDS_V2);
  const progress = new ProgressTracker({
    workflowId,
    ticketKey: request.ticket.key,
    gmsaName: request.gmsa.name,
    hosts: request.hosts,
    oneInitialUpsert: v2,
  });
  setHandler(progressQuery, () => progress.progress, { description: PROGRESS_QUERY_DESCRIPTION });
  const identities: Record<string, string> = {};
  const gate = new ApprovalGate();
  const ticket = new TicketNotifier(request.ticket, progress);
  let verifySchedule: ProvisionResult['verifySchedule'] = null;
  const finished = (status: ProvisionResult['status'], plan: ProvisionPlan): ProvisionResult => ({
    status,
    workflowId,
    plan,
    identities,
    approval: progress.progress.approval,
    target: status === 'succeeded' ? verifyTargetFor(request, plan) : null,
    verifySchedule,
    startedAt,
    finishedAt: new Date().toISOString(),
  });

  const saga = new Saga();
  let hostFailure = false;
  // New runs post 'started' and each 'host-done' in the background (still in order) instead of holding the next
  // step until the ticket system has answered; whatever must come after them (a decision, the end, a rollback)
  // waits for them first. Histories recorded before this replay the old way.
  const backgroundTickets = v2 || patched('ticket-updates-in-background');
  const progressNote = async (...update: Parameters<TicketNotifier['send']>): Promise<void> => {
    if (backgroundTickets) ticket.post(...update);
    else await ticket.send(...update);
  };

  try {
    await progressNote(
      'started',
      'start',
      `Runbook started: gMSA ${request.domain.netbios}\\${request.gmsa.name}$ for endpoint ${request.endpoint.name}`,
      [`Hosts: ${request.hosts.join(', ')}`, request.dryRun ? 'Dry run: plan only, nothing will change.' : ''].filter(
        Boolean,
      ),
    );
    // 1. Preflight: read-only; refuses with every problem at once.
    progress.step('preflight', 'running');
    const plan = await acts.preflight.executeWithOptions(
      { ...forward, summary: `Preflight ${request.gmsa.name} for ${request.hosts.length} host(s)` },
      [{ request, workflowId, mark }],
    );
    progress.step(
      'preflight',
      'done',
      `pinned DC ${plan.pinnedDc}; ${plan.notes.join('; ') || 'nothing pre-existing'}`,
    );
    if (request.dryRun) {
      for (const s of ['approval', 'create-gmsa', 'wait-replication', 'hosts'] as const)
        progress.step(s, 'skipped', 'dry run');
      progress.state('planned', 'done');
      if (backgroundTickets) await ticket.flush();
      return finished('planned', plan);
    }

    // Approval, when the request asks for it: nothing has changed yet, so "no" needs no rollback.
    if (request.approval.required) {
      progress.step('approval', 'running');
      gate.open();
      progress.state('awaiting-approval', 'approval');
      if (backgroundTickets) await ticket.flush();
      await ticket.send('awaiting-approval', 'approval', 'Waiting for approval of the plan', describePlan(plan));
      const decision = await gate.await(request.approval.timeoutSeconds);
      if (decision) progress.approval(decision);
      if (!decision || decision.decision === 'rejected') {
        const status = decision ? 'rejected' : 'expired';
        const why = decision
          ? `rejected by ${decision.approver}`
          : `not approved within ${request.approval.timeoutSeconds} s`;
        progress.step('approval', 'failed', why);
        for (const s of ['create-gmsa', 'wait-replication', 'hosts'] as const) progress.step(s, 'skipped', why);
        progress.state(status, 'done');
        await ticket.send('rejected', 'approval', `Runbook ended: ${why}. Nothing was changed.`);
        return finished(status, plan);
      }
      progress.step('approval', 'done', `approved by ${decision.approver}`);
      progress.state('running');
    } else {
      progress.step('approval', 'skipped', 'not required');
    }

    // 2. The gMSA, on the pinned DC only.
    progress.step('create-gmsa', 'running');
    const objectGuid = await createOrAdoptGmsa(request, plan, saga);
    progress.step(
      'create-gmsa',
      'done',
      `${plan.gmsa.action === 'adopt' ? 'adopted' : 'created'} ${objectGuid} on ${plan.pinnedDc}`,
    );

    // 3. Every DC that matters has it, with the principals, before any host asks its DC for the password.
    progress.step('wait-replication', 'running');
    await waitForReplication(request, plan, objectGuid, progress);
    progress.step('wait-replication', 'done', `${plan.replicationTargets.length} DC(s) have it`);

    // 4. Hosts, at most maxParallelHosts at once.
    progress.step('hosts', 'running');
    await forEachBounded(plan.hosts, request.maxParallelHosts, async (host) => {
      try {
        identities[host.hostName] = await provisionHost(request, plan, host, saga, progress, () => hostFailure);
        await progressNote(
          'host-done',
          `host ${host.hostName}`,
          `${host.hostName}: verified, runs as ${identities[host.hostName]}`,
        );
      } catch (err) {
        hostFailure = true;
        throw err;
      }
    });
    progress.step('hosts', 'done', `${plan.hosts.length} host(s) verified`);
    if (request.verification.enabled) verifySchedule = await scheduleReverification(request, plan, saga, v2);
    progress.state('succeeded', 'done');
    if (backgroundTickets) await ticket.flush();
    await ticket.send(
      'succeeded',
      'done',
      `Runbook succeeded: endpoint ${request.endpoint.name} runs as ${plan.expectedIdentity}`,
      Object.entries(identities).map(([host, identity]) => `${host}: remote identity ${identity}`),
    );
    return finished('succeeded', plan);
  } catch (err) {
    throw await rollBack(err, saga, progress, ticket, backgroundTickets);
  }
}

/**
 * The daily proof: create or update the `gmsa-verify-<gmsa>` schedule. Everything is provisioned by now, so a
 * schedule that cannot be written is reported in the result, not rolled back over.
 */
async function scheduleReverification(
  request: RunbookRequest,
  plan: ProvisionPlan,
  saga: Saga,
  v2: boolean,
): Promise<NonNullable<ProvisionResult['verifySchedule']>> {
  const target = verifyTargetFor(request, plan);
  // A cancel (or a failed final step) after this point rolls the run back, so the schedule must be undone with
  // it. Runs recorded before 'verify-schedule-undo' did not undo it; runs after it and before v2 read what was
  // there first (one more activity) and handed it to the undo. Now the write itself records what it replaced in
  // the schedule (activities/schedules.ts), so the undo is registered and the schedule written at once.
  const undoable = v2 || patched('verify-schedule-undo');
  try {
    if (undoable) {
      const previous = v2
        ? undefined
        : await acts.readVerifySchedule.executeWithOptions(
            { ...forward, summary: `Read the re-verification schedule of ${plan.gmsa.name}` },
            [plan.gmsa.name],
          );
      saga.add(`restore the re-verification schedule of ${plan.gmsa.name}`, () =>
        acts.restoreVerifySchedule.executeWithOptions(
          { ...undoOptions, summary: `Undo: restore the re-verification schedule of ${plan.gmsa.name}` },
          [{ gmsaName: plan.gmsa.name, mark: plan.mark, ...(v2 ? {} : { previous }) }],
        ),
      );
    }
    const { scheduleId } = await acts.ensureVerifySchedule.executeWithOptions(
      {
        ...forward,
        summary: `Schedule re-verification of ${plan.gmsa.name} every ${request.verification.everyHours} h`,
      },
      [{ target, everyHours: request.verification.everyHours }],
    );
    return { scheduleId, ok: true };
  } catch (err) {
    // A cancel is the run's to handle (roll back), not a schedule problem to report.
    if (undoable && isCancellation(err)) throw err;
    return { scheduleId: verifyScheduleId(plan.gmsa.name), ok: false, error: failureOf(err).message };
  }
}

function describePlan(plan: ProvisionPlan): string[] {
  return [
    `gMSA ${plan.gmsa.name}: ${plan.gmsa.action === 'create' ? 'create' : 'adopt the existing one'} on ${plan.pinnedDc}`,
    `Principals: ${plan.gmsa.wantedPrincipals.join(', ')}`,
    `Replication wait: ${plan.replicationTargets.map((d) => d.hostName).join(', ')}`,
    ...plan.hosts.map((h) => `${h.hostName} (${h.site}): endpoint ${h.endpointAction}`),
    ...plan.notes,
  ];
}

async function createOrAdoptGmsa(request: RunbookRequest, plan: ProvisionPlan, saga: Saga): Promise<string> {
  const { gmsa, pinnedDc: dc, mark } = plan;
  if (gmsa.action === 'adopt' && gmsa.objectGuid) {
    if (gmsa.principalsToAdd.length > 0) {
      const change = { dc, name: gmsa.name, principals: gmsa.principalsToAdd };
      saga.add(`remove principals ${gmsa.principalsToAdd.join(', ')} from ${gmsa.name}`, () =>
        acts.removeServiceAccountPrincipals.executeWithOptions(
          { ...undoOptions, summary: `Undo: remove added principals from ${gmsa.name}` },
          [change],
        ),
      );
      await acts.addServiceAccountPrincipals.executeWithOptions(
        { ...forward, summary: `Add ${gmsa.principalsToAdd.join(', ')} to ${gmsa.name} on ${dc}` },
        [change],
      );
    }
    return gmsa.objectGuid;
  }
  saga.add(`remove gMSA ${gmsa.name}`, () =>
    acts.removeServiceAccountIfOurs.executeWithOptions(
      { ...undoOptions, summary: `Undo: remove gMSA ${gmsa.name} from ${dc}` },
      [{ dc, name: gmsa.name, mark }],
    ),
  );
  const created = await acts.ensureServiceAccount.executeWithOptions(
    { ...forward, summary: `Create gMSA ${gmsa.name} on ${dc}` },
    [
      {
        dc,
        name: gmsa.name,
        dnsHostName: gmsa.dnsHostName,
        description: [request.gmsa.description, `ticket ${request.ticket.key}`, mark].filter(Boolean).join(' '),
        principals: gmsa.wantedPrincipals,
        kerberosEncryptionTypes: request.gmsa.kerberosEncryptionTypes,
        managedPasswordIntervalInDays: request.gmsa.managedPasswordIntervalInDays,
        mark,
      },
    ],
  );
  return created.objectGuid;
}

/**
 * Ask every DC, sleep on a durable timer, ask again, until all have it or the deadline passes. Each look is one
 * short activity, so the wait survives worker restarts and shows in the UI; a cancel lands in the sleep.
 */
async function waitForReplication(
  request: RunbookRequest,
  plan: ProvisionPlan,
  objectGuid: string,
  progress: ProgressTracker,
): Promise<void> {
  const { pollIntervalSeconds, timeoutSeconds, syncObject } = request.replication;
  const deadline = Date.now() + timeoutSeconds * 1000;
  const dcs = plan.replicationTargets.map((d) => d.hostName);
  for (let round = 1; ; round++) {
    const status = await acts.checkReplication.executeWithOptions(
      { ...forward, summary: `Replication check ${round}: ${plan.gmsa.name} on ${dcs.length} DC(s)` },
      [
        {
          pinnedDc: plan.pinnedDc,
          dcs,
          name: plan.gmsa.name,
          objectGuid,
          expectedPrincipals: plan.gmsa.wantedPrincipals,
          syncObject,
        },
      ],
    );
    progress.replication({ ...status, deadline: new Date(deadline).toISOString() });
    if (status.pending.length === 0) return;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw ApplicationFailure.nonRetryable(
        `not every DC had ${plan.gmsa.name} after ${timeoutSeconds} s: ` +
          status.pending.map((p) => `${p.dc} (${p.reason})`).join(', '),
        FailureType.ReplicationTimeout,
        { pending: status.pending, converged: status.converged },
      );
    }
    await sleep(Math.min(pollIntervalSeconds * 1000, left), {
      summary: `Waiting for ${status.pending.map((p) => p.dc).join(', ')}`,
    });
  }
}

async function provisionHost(
  request: RunbookRequest,
  plan: ProvisionPlan,
  host: HostPlan,
  saga: Saga,
  progress: ProgressTracker,
  aborted: () => boolean,
): Promise<string> {
  const h = host.hostName;
  const stopIfAborted = () => {
    if (aborted()) throw ApplicationFailure.nonRetryable(`${h}: stopped because another host failed`, 'Aborted');
  };

  // Install: make the host able to retrieve the password; prove it with Test-ADServiceAccount.
  progress.hostStep(h, 'install', 'running');
  if (plan.group && !host.wasGroupMember) {
    const group = plan.group;
    saga.add(`remove ${host.computerSam} from ${group}`, () =>
      acts.deauthorizeHost.executeWithOptions(
        { ...undoOptions, summary: `Undo: remove ${host.computerSam} from ${group}` },
        [{ dc: plan.pinnedDc, host: h, computerSam: host.computerSam, group }],
      ),
    );
  }
  await acts.authorizeHost.executeWithOptions(
    {
      ...forward,
      summary: `Authorize ${h} for ${plan.gmsa.name}`,
      // Not usable yet is retried until the change reaches the host's site DC, within the replication budget.
      scheduleToCloseTimeout: `${request.replication.timeoutSeconds + 60} seconds`,
      retry: { initialInterval: '1s', backoffCoefficient: 1.5, maximumInterval: '30s' },
    },
    [{ dc: plan.pinnedDc, host: h, computerSam: host.computerSam, gmsaName: plan.gmsa.name, group: plan.group }],
  );
  progress.hostStep(h, 'install', 'done');
  stopIfAborted();

  // Register the endpoint that runs as the gMSA (detached: it restarts WinRM).
  progress.hostStep(h, 'register-endpoint', 'running');
  if (host.endpointAction === 'adopt') {
    progress.hostStep(h, 'register-endpoint', 'skipped', 'endpoint already runs as the gMSA (adopted)');
  } else {
    const configuration = buildSessionConfiguration({
      endpoint: request.endpoint,
      domainNetbios: request.domain.netbios,
      gmsaName: plan.gmsa.name,
      mark: plan.mark,
    });
    saga.add(`unregister ${configuration.name} on ${h}`, () =>
      acts.unregisterEndpointIfOurs.executeWithOptions(
        { ...undoOptions, summary: `Undo: unregister ${configuration.name} on ${h}` },
        [{ host: h, name: configuration.name, mark: plan.mark }],
      ),
    );
    // Detached registration waits out a WinRM restart; the activity heartbeats while it polls.
    await acts.registerEndpoint.executeWithOptions(
      { ...forward, startToCloseTimeout: '10 minutes', summary: `Register endpoint ${configuration.name} on ${h}` },
      [{ host: h, configuration, mark: plan.mark }],
    );
    progress.hostStep(h, 'register-endpoint', 'done');
  }
  stopIfAborted();

  // Verify: connect through the endpoint and read who the session runs as.
  progress.hostStep(h, 'verify-identity', 'running');
  const { identity } = await acts.verifyIdentity.executeWithOptions(
    { ...forward, summary: `Verify identity through ${request.endpoint.name} on ${h}` },
    [{ host: h, endpoint: request.endpoint.name, expectedIdentity: plan.expectedIdentity }],
  );
  progress.hostStep(h, 'verify-identity', 'done', identity);
  return identity;
}

/** Undo what this run did, then end the run with the original failure (or the cancel), or needs-a-human. */
async function rollBack(
  err: unknown,
  saga: Saga,
  progress: ProgressTracker,
  ticket: TicketNotifier,
  backgroundTickets: boolean,
): Promise<unknown> {
  const cancelled = isCancellation(err);
  const cause = cancelled ? { type: 'Cancelled', message: 'the run was cancelled' } : failureOf(err);
  progress.failed(cause);
  progress.state('rolling-back', 'rollback');
  const outcomes = await saga.compensate((name, status, detail) => progress.compensation(name, status, detail));
  const report: RollbackReport = {
    cause,
    undone: outcomes.filter((o) => o.ok).map((o) => o.name),
    needsHuman: outcomes.filter((o) => !o.ok).map((o) => ({ name: o.name, error: o.error ?? 'unknown' })),
  };
  // The ticket hears how it ended even when the run was cancelled, after the updates still queued for it.
  const finalUpdate = () =>
    report.needsHuman.length > 0
      ? ticket.send(
          'needs-human',
          'rollback',
          `Runbook failed and rollback is incomplete: ${cause.type}. A human must clean up:`,
          [cause.message, ...report.needsHuman.map((n) => `${n.name}: ${n.error}`)],
        )
      : ticket.send(
          cancelled ? 'cancelled' : 'failed',
          'rollback',
          `Runbook ${cancelled ? 'cancelled' : `failed: ${cause.type}`}; rolled back`,
          [cause.message, ...report.undone.map((u) => `undone: ${u}`)],
        );
  await CancellationScope.nonCancellable(
    backgroundTickets
      ? async () => {
          await ticket.flush();
          await finalUpdate();
        }
      : finalUpdate,
  );
  if (report.needsHuman.length > 0) {
    progress.state('needs-human', 'rollback');
    return ApplicationFailure.nonRetryable(
      `${cause.type}: ${cause.message}\nRollback incomplete; needs a human:\n` +
        report.needsHuman.map((n) => `  - ${n.name}: ${n.error}`).join('\n'),
      FailureType.RollbackIncomplete,
      report,
    );
  }
  progress.state(cancelled ? 'cancelled' : 'rolled-back', 'rollback');
  if (cancelled) return err;
  return ApplicationFailure.nonRetryable(
    `${cause.message}\nRolled back: ${report.undone.join('; ') || 'nothing to undo'}`,
    cause.type,
    report,
  );
}
