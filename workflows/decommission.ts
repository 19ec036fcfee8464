/**
 * decommissionGmsaRemoting: the undo of a successful provisioning, long after it ended. Unregister the endpoint
 * on each host the run registered it on → take out the group members or principals the run added → remove the
 * gMSA if the run created it → delete the re-verification schedule. Only what carries the provisioning run's mark
 * or what the target lists as added is touched, so whatever existed before provisioning stays.
 *
 * Every step tolerates "already gone", so a re-run after a partial failure finishes the job and a second run is
 * a no-op. A step that still fails after its retries does not stop the others: it is collected, and the run ends
 * failed (RollbackIncomplete) with the report of what needs a human.
 *
 * Deterministic workflow code: no I/O, no Node APIs.
 */
import {
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RunbookActivities } from '../activities';
import {
  describeDecommission,
  describeItem,
  itemsWith,
  type DecommissionItem,
  type DecommissionReport,
} from '../runbook/decommission';
import { FailureType } from '../runbook/failures';
import { verifyScheduleId, type VerifyTarget } from '../runbook/verify';
import { ProgressTracker } from './progress-tracker';
import { describeError } from './saga';
import { TicketNotifier } from './ticket-notifier';

/** The target carries no maxParallelHosts of its own; unregistering restarts WinRM, so keep the blast small. */
const MAX_PARALLEL_HOSTS = 4;

/** Looks: short, retried on transport faults. */
const readOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 6 },
};

/** Removals: as patient as provisioning's undos; giving up means a human has to clean up. */
const removeOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
};

const acts = proxyActivities<RunbookActivities>(readOptions);

type ItemBase = Omit<DecommissionItem, 'outcome'>;

/** Run `fn` for every item, at most `limit` at once. Each call handles its own failures: one never stops another. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export async function decommissionGmsaRemoting(target: VerifyTarget): Promise<DecommissionReport> {
  if (!target?.gmsaName || !target.owned || !target.mark) {
    throw ApplicationFailure.nonRetryable(
      'not a provisioned target (expected the argument of a gmsa-verify-<gmsa> schedule, or a provisioning result target)',
      FailureType.RequestInvalid,
    );
  }
  const { workflowId } = workflowInfo();
  const startedAt = new Date().toISOString();
  const gmsa = target.gmsaName;
  // The tracker gives the run the same search attributes as provisioning (findable by ticket and gMSA) and
  // records ticket updates that could not be delivered; it has no per-host provisioning steps to show here.
  const progress = new ProgressTracker({ workflowId, ticketKey: target.ticket.key, gmsaName: gmsa, hosts: [] });
  progress.state('running', 'decommission');
  const ticket = new TicketNotifier(target.ticket, progress);
  const items: DecommissionItem[] = [];
  const add = (base: ItemBase, outcome: DecommissionItem['outcome'], detail?: string): void => {
    const details = [base.detail, detail].filter((d): d is string => Boolean(d));
    items.push({ ...base, outcome, ...(details.length ? { detail: details.join('; ') } : {}) });
  };
  /** Run a step; a failure after its retries becomes a `failed` item (a cancel still ends the run). */
  const step = async (bases: ItemBase[], body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (err) {
      if (isCancellation(err)) throw err;
      for (const base of bases) add(base, 'failed', describeError(err));
    }
  };

  // 0. Hold the schedule first: a verification that remediates must not put back what is being removed. Best
  // effort: if it cannot be paused, decommissioning still goes ahead, and the schedule is deleted at the end.
  let schedulePaused = false;
  try {
    schedulePaused = (
      await acts.pauseVerifySchedule.executeWithOptions(
        { ...readOptions, summary: `Pause re-verification of ${gmsa}` },
        [{ gmsaName: gmsa, note: `decommissioning (${workflowId})` }],
      )
    ).paused;
  } catch (err) {
    if (isCancellation(err)) throw err;
  }

  // 1. Endpoints first: they run as the gMSA, and an endpoint whose account is gone is worse than either alone.
  // One lane per host, so each host's unregistration (a WinRM restart) is serialized by construction.
  await inParallel(target.owned.endpointHosts, MAX_PARALLEL_HOSTS, async (host) => {
    const base: ItemBase = { kind: 'endpoint', subject: target.endpointName, where: host };
    const ref = { host, name: target.endpointName, mark: target.mark };
    await step([base], async () => {
      const ownership = await acts.inspectEndpoint.executeWithOptions(
        { ...readOptions, summary: `Look at endpoint ${target.endpointName} on ${host}` },
        [ref],
      );
      if (ownership === 'absent') return void add(base, 'absent');
      if (ownership === 'not-ours') {
        return void add(base, 'left-alone', 'registered again since provisioning, without its mark');
      }
      const { removed } = await acts.unregisterEndpointIfOurs.executeWithOptions(
        { ...removeOptions, summary: `Unregister endpoint ${target.endpointName} on ${host}` },
        [ref],
      );
      add(base, removed ? 'removed' : 'absent', removed ? undefined : 'gone before it was unregistered');
    });
  });

  // 2. Directory changes, all on one writable DC, so each step reads what the one before wrote.
  let dc: string | null = null;
  const directoryItems = directoryItemsOf(target);
  await step(directoryItems, async () => {
    dc = (await acts.pickWritableDc.executeWithOptions({ ...readOptions, summary: 'Pick a writable DC' }, [])).dc;
  });
  if (dc !== null) await undoDirectory(target, dc, add, step);

  // 3. The schedule goes only when nothing is left: until then it is the registry a re-run starts from.
  const scheduleBase: ItemBase = { kind: 'schedule', subject: verifyScheduleId(gmsa), where: '' };
  const failedSoFar = itemsWith(reportOf(), 'failed').length > 0;
  if (failedSoFar) {
    add(scheduleBase, schedulePaused ? 'kept' : 'absent', schedulePaused ? 'paused; re-run decommission' : undefined);
  } else {
    await step([scheduleBase], async () => {
      const { deleted } = await acts.deleteVerifySchedule.executeWithOptions(
        { ...readOptions, summary: `Delete schedule ${scheduleBase.subject}` },
        [gmsa],
      );
      add(scheduleBase, deleted ? 'removed' : 'absent');
    });
  }

  const report = reportOf();
  const failed = itemsWith(report, 'failed');
  if (failed.length > 0) {
    progress.failed({ type: FailureType.RollbackIncomplete, message: `${failed.length} item(s) could not be removed` });
    progress.state('needs-human', 'decommission');
    await ticket.send(
      'needs-human',
      'decommission',
      `Decommissioning gMSA ${gmsa} is incomplete. A human must clean up (or re-run it):`,
      describeDecommission(report),
    );
    throw ApplicationFailure.nonRetryable(
      `Decommissioning ${gmsa} is incomplete; needs a human (or a re-run):\n` +
        failed.map((f) => `  - ${describeItem(f)}`).join('\n'),
      FailureType.RollbackIncomplete,
      report,
    );
  }
  progress.state('succeeded', 'done');
  await ticket.send(
    'decommissioned',
    'decommission',
    `Decommissioned gMSA ${target.domain.netbios}\\${gmsa}$ and endpoint ${target.endpointName}`,
    describeDecommission(report),
  );
  return report;

  function reportOf(): DecommissionReport {
    return {
      gmsaName: gmsa,
      workflowId,
      status: items.some((i) => i.outcome === 'failed') ? 'incomplete' : 'decommissioned',
      dc,
      items: [...items],
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  }
}

/** Everything step 2 would act on, to report as failed when no DC answers. */
function directoryItemsOf(target: VerifyTarget): ItemBase[] {
  const where = '';
  return [
    ...target.owned.groupMembersAdded.map((m) => ({ kind: 'group-member' as const, subject: m, where })),
    ...target.owned.principalsAdded.map((p) => ({ kind: 'principal' as const, subject: p, where })),
    ...(target.owned.gmsa ? [{ kind: 'gmsa' as const, subject: target.gmsaName, where }] : []),
  ];
}

async function undoDirectory(
  target: VerifyTarget,
  dc: string,
  add: (base: ItemBase, outcome: DecommissionItem['outcome'], detail?: string) => void,
  step: (bases: ItemBase[], body: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const gmsa = target.gmsaName;
  const { group } = target;
  const memberBase = (m: string): ItemBase => ({
    kind: 'group-member',
    subject: m,
    where: dc,
    detail: `group ${group ?? '?'}`,
  });
  const principalBase = (p: string): ItemBase => ({ kind: 'principal', subject: p, where: dc, detail: `gMSA ${gmsa}` });

  // Group members (group mode) and principals (an adopted gMSA): only those provisioning added, and only those
  // still there, so the report tells what this run removed from what was already gone.
  const added = [...target.owned.groupMembersAdded.map(memberBase), ...target.owned.principalsAdded.map(principalBase)];
  if (added.length > 0) {
    await step(added, async () => {
      const seen = await acts.inspectDirectory.executeWithOptions(
        { ...readOptions, summary: `Look at what provisioning added for ${gmsa} on ${dc}` },
        [
          {
            dc,
            gmsaName: gmsa,
            principalsAdded: target.owned.principalsAdded,
            group,
            groupMembersAdded: target.owned.groupMembersAdded,
            hosts: target.hosts,
          },
        ],
      );
      await inParallel(seen.members, MAX_PARALLEL_HOSTS, async (m) => {
        const base = memberBase(m.computerSam);
        if (!m.present || group === null) return void add(base, 'absent');
        await step([base], async () => {
          if (m.host) {
            // Also purges the host's tickets, so it stops presenting the group right away.
            await acts.deauthorizeHost.executeWithOptions(
              { ...removeOptions, summary: `Remove ${m.computerSam} from ${group}` },
              [{ dc, host: m.host, computerSam: m.computerSam, group }],
            );
          } else {
            await acts.removeGroupMember.executeWithOptions(
              { ...removeOptions, summary: `Remove ${m.computerSam} from ${group}` },
              [{ dc, group, member: m.computerSam }],
            );
          }
          add(base, 'removed');
        });
      });
      const present = seen.principalsPresent;
      for (const p of target.owned.principalsAdded) {
        if (!present.some((q) => q.toLowerCase() === p.toLowerCase())) add(principalBase(p), 'absent');
      }
      if (present.length > 0) {
        await step(present.map(principalBase), async () => {
          await acts.removeServiceAccountPrincipals.executeWithOptions(
            { ...removeOptions, summary: `Remove ${present.join(', ')} from ${gmsa}` },
            [{ dc, name: gmsa, principals: present }],
          );
          for (const p of present) add(principalBase(p), 'removed');
        });
      }
    });
  }

  // The gMSA itself: only when provisioning created it, and only while it still carries that run's mark.
  const gmsaBase: ItemBase = { kind: 'gmsa', subject: gmsa, where: dc };
  if (!target.owned.gmsa) {
    add(gmsaBase, 'left-alone', 'adopted by provisioning: it existed before');
    return;
  }
  await step([gmsaBase], async () => {
    const { removed, reason } = await acts.removeServiceAccountIfOurs.executeWithOptions(
      { ...removeOptions, summary: `Remove gMSA ${gmsa} from ${dc}` },
      [{ dc, name: gmsa, mark: target.mark }],
    );
    if (removed) add(gmsaBase, 'removed');
    else if (reason === 'absent') add(gmsaBase, 'absent');
    else add(gmsaBase, 'left-alone', 'no mark of the provisioning run: replaced since, not removed');
  });
}
