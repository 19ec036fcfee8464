/**
 * What re-verification and decommissioning work on: a provisioned target, as the provisioning run left it,
 * including exactly what that run owns (so decommissioning removes only that). It travels as the argument of the
 * `gmsa-verify-<gmsa>` schedule, which is also the registry of provisioned targets. Pure TypeScript.
 */
import type { TicketRef } from './ticket';

export interface VerifyTarget {
  ticket: TicketRef;
  domain: { netbios: string; dns: string };
  gmsaName: string;
  hosts: string[];
  endpointName: string;
  /** What PrincipalsAllowedToRetrieveManagedPassword must contain: the hosts' `HOST$` or the group. */
  expectedPrincipals: string[];
  group: string | null;
  replicationScope: 'all' | 'host-sites';
  /** Opt-in: a verification that finds drift re-runs the failed steps and verifies again. */
  remediate: boolean;
  /** What the provisioning run created or added, and so what decommissioning may remove. */
  owned: {
    gmsa: boolean;
    principalsAdded: string[];
    groupMembersAdded: string[];
    /** Hosts on which the run registered the endpoint (not adopted ones). */
    endpointHosts: string[];
  };
  /** The provisioning run's mark (runbook/marks.ts). */
  mark: string;
  /** What remediation needs to register the endpoint again (absent in targets written before it existed). */
  endpoint?: import('./request').EndpointSpec;
  kerberosEncryptionTypes?: string[];
  managedPasswordIntervalInDays?: number;
}

export type CheckStatus = 'ok' | 'drift' | 'unreachable';

export type DriftCheckName = 'kds-root-key' | 'gmsa-on-dc' | 'principals-on-dc' | 'endpoint' | 'identity';

export interface DriftCheck {
  check: DriftCheckName;
  /** The DC or host checked (or the forest for the KDS key). */
  target: string;
  status: CheckStatus;
  expected: string;
  observed: string;
}

export interface DriftReport {
  gmsaName: string;
  checkedAt: string;
  /** drift if any check drifted, else unreachable if any could not be checked, else ok. */
  status: CheckStatus;
  checks: DriftCheck[];
  /** Opted-in remediation: what was re-done, and the verification after it. */
  remediation?: { actions: string[]; notRemediable: string[]; after: { status: CheckStatus; checks: DriftCheck[] } };
}

export function verifyScheduleId(gmsaName: string): string {
  return `gmsa-verify-${gmsaName}`;
}

export function overallStatus(checks: DriftCheck[]): CheckStatus {
  if (checks.some((c) => c.status === 'drift')) return 'drift';
  if (checks.some((c) => c.status === 'unreachable')) return 'unreachable';
  return 'ok';
}

/** The target a successful provisioning run leaves behind, with exactly what it owns. */
export function verifyTargetFor(
  request: import('./request').RunbookRequest,
  plan: import('./plan').ProvisionPlan,
): VerifyTarget {
  return {
    ticket: request.ticket,
    domain: request.domain,
    gmsaName: plan.gmsa.name,
    hosts: plan.hosts.map((h) => h.hostName),
    endpointName: request.endpoint.name,
    expectedPrincipals: plan.gmsa.wantedPrincipals,
    group: plan.group,
    replicationScope: request.replication.scope,
    remediate: request.verification.remediate,
    owned: {
      gmsa: plan.gmsa.action === 'create',
      principalsAdded: plan.gmsa.action === 'adopt' ? plan.gmsa.principalsToAdd : [],
      groupMembersAdded: plan.group ? plan.hosts.filter((h) => !h.wasGroupMember).map((h) => h.computerSam) : [],
      endpointHosts: plan.hosts.filter((h) => h.endpointAction === 'register').map((h) => h.hostName),
    },
    mark: plan.mark,
    endpoint: request.endpoint,
    kerberosEncryptionTypes: request.gmsa.kerberosEncryptionTypes,
    managedPasswordIntervalInDays: request.gmsa.managedPasswordIntervalInDays,
  };
}
