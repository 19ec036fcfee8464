/**
 * Opted-in remediation (target.remediate): re-run, idempotently and with the provisioning run's own mark, the
 * steps whose results drifted — the gMSA and its principals on the pinned DC, the endpoint on hosts the run owns —
 * then wait for the DCs. What no step can fix (a host running the endpoint as a virtual account, an endpoint that is
 * not ours) is listed, not touched. Ownership does not change: what is recreated carries the same mark, so
 * decommissioning still removes exactly it.
 */
import { proxyActivities, sleep, type ActivityOptions } from '@temporalio/workflow';
import type { RunbookActivities } from '../activities';
import { buildSessionConfiguration } from '../runbook/session-configuration';
import type { DriftCheck, VerifyTarget } from '../runbook/verify';

const options: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 6 },
};
const acts = proxyActivities<RunbookActivities>(options);

export async function remediate(
  target: VerifyTarget,
  drifted: DriftCheck[],
): Promise<{ actions: string[]; notRemediable: string[] }> {
  const actions: string[] = [];
  const notRemediable: string[] = [];
  const directoryDrift = drifted.filter((c) => c.check === 'gmsa-on-dc' || c.check === 'principals-on-dc');
  const hostDrift = drifted.filter((c) => c.check === 'endpoint' || c.check === 'identity');

  if (directoryDrift.length > 0) {
    const { dc } = await acts.pickWritableDc.executeWithOptions({ ...options, summary: 'Remediation: pick a DC' }, []);
    const gmsaGone = directoryDrift.some((c) => c.check === 'gmsa-on-dc');
    if (gmsaGone && target.owned.gmsa) {
      await acts.ensureServiceAccount.executeWithOptions(
        { ...options, summary: `Remediation: recreate gMSA ${target.gmsaName} on ${dc}` },
        [
          {
            dc,
            name: target.gmsaName,
            dnsHostName: `${target.gmsaName}.${target.domain.dns}`.toLowerCase(),
            description: `ticket ${target.ticket.key} (remediated) ${target.mark}`,
            principals: target.expectedPrincipals,
            kerberosEncryptionTypes: target.kerberosEncryptionTypes ?? ['AES128', 'AES256'],
            managedPasswordIntervalInDays: target.managedPasswordIntervalInDays ?? 30,
            mark: target.mark,
          },
        ],
      );
      actions.push(`recreated gMSA ${target.gmsaName} on ${dc}`);
    } else if (gmsaGone) {
      notRemediable.push(`gMSA ${target.gmsaName} is gone and was not created by this tool: not recreated`);
    } else {
      await acts.addServiceAccountPrincipals.executeWithOptions(
        { ...options, summary: `Remediation: principals of ${target.gmsaName} on ${dc}` },
        [{ dc, name: target.gmsaName, principals: target.expectedPrincipals }],
      );
      actions.push(`restored principals ${target.expectedPrincipals.join(', ')} on ${dc}`);
    }
  }

  for (const host of [...new Set(hostDrift.map((c) => c.target))]) {
    const endpointMissing = hostDrift.some(
      (c) => c.target === host && c.check === 'endpoint' && /not registered/i.test(c.observed),
    );
    if (endpointMissing && target.owned.endpointHosts.includes(host) && target.endpoint) {
      const configuration = buildSessionConfiguration({
        endpoint: target.endpoint,
        domainNetbios: target.domain.netbios,
        gmsaName: target.gmsaName,
        mark: target.mark,
      });
      await acts.registerEndpoint.executeWithOptions(
        { ...options, summary: `Remediation: register ${target.endpointName} on ${host}` },
        [{ host, configuration, mark: target.mark }],
      );
      actions.push(`registered ${target.endpointName} on ${host}`);
    } else {
      // A virtual account, a foreign endpoint, an unreachable host: a human decides.
      notRemediable.push(
        `${host}: ${hostDrift
          .filter((c) => c.target === host)
          .map((c) => c.observed)
          .join('; ')}`,
      );
    }
  }

  // Give replication a moment before the second look (the second verification reports what is still pending).
  if (actions.length > 0) await sleep('5 seconds');
  return { actions, notRemediable };
}
