/**
 * verifyGmsaRemoting: the daily proof. Read-only checks of everything provisioning established (the KDS key, the
 * gMSA with its principals on every DC in scope, each host's endpoint and the identity through it), gathered
 * into a drift report. The report is the result; DriftStatus/LastVerifiedAt make endpoints listable by it in the
 * UI; drift goes to the original ticket.
 *
 * Started by the `gmsa-verify-<gmsa>` schedule or by `gmsa-runbook verify`. With target.remediate, drift is
 * remediated (workflows/remediate.ts) and verified again; the report carries both.
 *
 * Deterministic workflow code: no I/O, no Node APIs. Time comes from the sandbox.
 */
import {
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RunbookActivities } from '../activities';
import { DriftStatus, GmsaName, LastVerifiedAt, TicketKey } from '../runbook/search-attributes';
import { overallStatus, type DriftCheck, type DriftReport, type VerifyTarget } from '../runbook/verify';
import { remediate } from './remediate';
import { describeError } from './saga';
import { TicketNotifier } from './ticket-notifier';

/**
 * The checks report what they find instead of throwing, so a retry only helps against the backend itself
 * hiccuping; after that the part that could not be checked is reported unreachable.
 */
const forward: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 6 },
};

/** Hosts checked at once: enough for a fleet, few enough not to flood WinRM on the DCs' and hosts' side. */
const MAX_PARALLEL_HOSTS = 8;

const acts = proxyActivities<RunbookActivities>(forward);

/** `fn` for every item, at most `limit` at once; results in the items' order. `fn` must not throw. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export async function verifyGmsaRemoting(target: VerifyTarget): Promise<DriftReport> {
  const misses: { milestone: string; error: string }[] = [];
  // However the run was started (schedule, CLI), it is findable by ticket and gMSA.
  upsertSearchAttributes([
    { key: TicketKey, value: target.ticket.key },
    { key: GmsaName, value: target.gmsaName },
  ]);

  const checks = await runChecks(target);
  const checkedAt = new Date();
  const report: DriftReport = {
    gmsaName: target.gmsaName,
    checkedAt: checkedAt.toISOString(),
    status: overallStatus(checks),
    checks,
  };

  if (report.status === 'drift' && target.remediate) {
    const drifted = checks.filter((c) => c.status === 'drift');
    const { actions, notRemediable } = await remediate(target, drifted);
    const after = await runChecks(target);
    report.remediation = { actions, notRemediable, after: { status: overallStatus(after), checks: after } };
  }
  // What the UI lists by is the state the target is left in.
  const finalStatus = report.remediation?.after.status ?? report.status;

  upsertSearchAttributes([
    { key: DriftStatus, value: finalStatus },
    { key: LastVerifiedAt, value: checkedAt },
  ]);
  setCurrentDetails(renderReport(report));

  if (report.status === 'drift') {
    const ticket = new TicketNotifier(target.ticket, {
      ticketMiss: (milestone, error) => misses.push({ milestone, error }),
    });
    const drifted = checks.filter((c) => c.status === 'drift');
    await ticket.send(
      'drift',
      'verify',
      `Drift on gMSA ${target.domain.netbios}\\${target.gmsaName}$ (endpoint ${target.endpointName}): ` +
        `${drifted.length} check(s) failed`,
      [
        ...drifted.map((c) => `${c.check} on ${c.target}: expected ${c.expected}; observed ${c.observed}`),
        ...(report.remediation
          ? [
              `Remediation: ${report.remediation.actions.join('; ') || 'nothing it could fix'}; now ${report.remediation.after.status}`,
              ...report.remediation.notRemediable.map((n) => `Needs a human: ${n}`),
            ]
          : []),
      ],
    );
  }
  // A missed ticket update never fails the verification; the report still stands.
  for (const m of misses) log.warn('ticket update not delivered', { milestone: m.milestone, error: m.error });
  return report;
}

/** Every check once; a part that cannot be checked is reported unreachable, never thrown. */
async function runChecks(target: VerifyTarget): Promise<DriftCheck[]> {
  const directory = acts.verifyDirectory
    .executeWithOptions({ ...forward, summary: `Verify ${target.gmsaName} and the KDS key on the DCs` }, [target])
    .catch((err: unknown): DriftCheck[] => {
      // A cancel ends the run; anything else leaves this part of the report unreachable.
      if (isCancellation(err)) throw err;
      return [
        {
          check: 'gmsa-on-dc',
          target: target.domain.dns,
          status: 'unreachable',
          expected: `${target.gmsaName}$ present on every DC in scope`,
          observed: `directory checks failed: ${describeError(err)}`,
        },
      ];
    });
  const perHost = mapBounded(target.hosts, MAX_PARALLEL_HOSTS, (host) =>
    acts.verifyHost
      .executeWithOptions({ ...forward, summary: `Verify ${target.endpointName} on ${host}` }, [{ target, host }])
      .catch((err: unknown): DriftCheck[] => {
        if (isCancellation(err)) throw err;
        return (['endpoint', 'identity'] as const).map((check) => ({
          check,
          target: host,
          status: 'unreachable',
          expected: `${target.endpointName} runs as ${target.domain.netbios}\\${target.gmsaName}$`,
          observed: `host checks failed: ${describeError(err)}`,
        }));
      }),
  );
  return [...(await directory), ...(await perHost).flat()];
}

/** Markdown for the UI's "Current Details". */
function renderReport(r: DriftReport): string {
  const lines = [
    `**${r.status}** — gMSA \`${r.gmsaName}\` — checked ${r.checkedAt}`,
    '',
    '| check | target | status | expected | observed |',
    '|---|---|---|---|---|',
  ];
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  for (const c of r.checks) {
    lines.push(`| ${c.check} | ${c.target} | ${c.status} | ${cell(c.expected)} | ${cell(c.observed)} |`);
  }
  return lines.join('\n');
}
