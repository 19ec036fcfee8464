/**
 * Preflight: read-only. Looks at the world before anything changes and returns the plan, or refuses with every
 * problem it found at once (KDS key, name, computer accounts, WinRM, DisableRunAs, endpoint conflicts).
 */
import type { Backend, DomainController, HostFacts } from '../backends/ports';
import { BackendError } from '../backends/errors';
import { FailureType, isRetryableFailure } from '../runbook/failures';
import { kdsReadyAt, kdsRootKeyUsable } from '../runbook/kds';
import type { HostPlan, ProvisionPlan } from '../runbook/plan';
import { expectedIdentity, type RunbookRequest } from '../runbook/request';
import { sameAccount } from '../runbook/session-configuration';
import { mapBounded } from './bounded';
import { stepFailure, typed } from './failures';
import { heartbeatOnceBusy } from './heartbeat';

export interface PreflightInput {
  request: RunbookRequest;
  workflowId: string;
  mark: string;
}

interface Problem {
  type: FailureType;
  message: string;
}

/** Retryable (transport) errors end the attempt so Temporal retries; anything else is a finding. */
async function finding<T>(problems: Problem[], body: () => Promise<T>): Promise<T | undefined> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof BackendError && !isRetryableFailure(err.type)) {
      problems.push({ type: err.type, message: err.message });
      return undefined;
    }
    throw err;
  }
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** A writable DC that answers, preferring the site most target hosts are in (they read from it first). */
async function pinDomainController(backend: Backend, dcs: DomainController[], preferredSite?: string) {
  const candidates = dcs
    .filter((dc) => dc.writable)
    .sort(
      (a, b) =>
        Number(a.site !== preferredSite) - Number(b.site !== preferredSite) || a.hostName.localeCompare(b.hostName),
    );
  let lastError: BackendError | undefined;
  for (const dc of candidates) {
    try {
      const keys = await backend.directory.getKdsRootKeys(dc.hostName);
      return { dc: dc.hostName, keys };
    } catch (err) {
      if (err instanceof BackendError && err.type === FailureType.ServerDown) {
        lastError = err;
        continue;
      }
      throw err;
    }
  }
  throw lastError ?? new BackendError(FailureType.ServerDown, 'no writable domain controller found');
}

export function createPreflightActivities(backend: Backend) {
  return {
    async preflight({ request, workflowId, mark }: PreflightInput): Promise<ProvisionPlan> {
      return typed(async () => {
        const problems: Problem[] = [];
        const notes: string[] = [];
        const { name } = request.gmsa;

        // Hosts first: their sites decide which DC to pin and which DCs the replication wait needs. Hosts are
        // probed maxParallelHosts at a time (a sequential preflight of 50 hosts is 50 WinRM round trips), the
        // DC list meanwhile; findings are still reported in the request's host order.
        const [probes, dcs] = await Promise.all([
          mapBounded(request.hosts, request.maxParallelHosts, async (host) => {
            const f = await backend.hosts.probeHost(host);
            heartbeatOnceBusy(host);
            return f;
          }),
          backend.directory.listDomainControllers(),
        ]);
        const facts = new Map<string, HostFacts>();
        request.hosts.forEach((host, i) => {
          const f = probes[i];
          facts.set(host, f);
          if (!f.domainJoined || f.domain?.toLowerCase() !== request.domain.dns) {
            problems.push({
              type: FailureType.ComputerAccountMissing,
              message: `${host} is not joined to ${request.domain.dns} (joined to: ${f.domain ?? 'none'})`,
            });
          }
          if (!f.winrmRunning) {
            problems.push({ type: FailureType.HostUnreachable, message: `${host}: the WinRM service is not running` });
          }
          if (f.disableRunAs) {
            problems.push({
              type: FailureType.RunAsDisabledByPolicy,
              message: `${host} enforces the DisableRunAs WinRM policy (STIG V-73603): no endpoint can run as a gMSA there`,
            });
          }
        });

        const pinned = await pinDomainController(backend, dcs, mostCommon([...facts.values()].map((f) => f.site)));
        const usable = pinned.keys.filter((k) => kdsRootKeyUsable(k, Date.now()));
        if (usable.length === 0) {
          const readyAt = kdsReadyAt(pinned.keys);
          problems.push({
            type: FailureType.KdsRootKeyMissing,
            message: readyAt
              ? `no KDS root key is usable yet: DCs accept it 10 h after its effective time, at ${readyAt}`
              : 'the forest has no KDS root key (Add-KdsRootKey, once per forest, by a Domain Admin)',
          });
        }

        // Then the name, the group and each host's computer account and endpoint, all asked at once on the pinned
        // DC (hosts maxParallelHosts at a time); findings are added in the same order as ever.
        const [nameLookup, groupLookup, lookups] = await Promise.all([
          // Forest-wide uniqueness: anything named `name` or `name$` that is not a gMSA blocks the name.
          // Both looks at once: the gMSA is read even when the name turns out to be blocked (then it is ignored).
          (async () => {
            const [named, gmsa] = await Promise.all([
              backend.directory.findAccountsNamed(pinned.dc, name),
              backend.directory.getServiceAccount(pinned.dc, name),
            ]);
            const clash = named.filter((o) => o.objectClass !== 'msDS-GroupManagedServiceAccount');
            return { clash, existing: clash.length === 0 ? gmsa : null };
          })(),
          (async () => {
            const groupProblems: Problem[] = [];
            if (request.principals.mode !== 'group') return { group: null, members: [], problems: groupProblems };
            const group = request.principals.group;
            const members =
              (await finding(groupProblems, () => backend.directory.getGroupMembers(pinned.dc, group))) ?? [];
            return { group, members, problems: groupProblems };
          })(),
          // The computer account and the endpoint at once; without a computer account the endpoint is not looked
          // at (the host may not even answer WinRM), so its look is allowed to fail then.
          mapBounded(request.hosts, request.maxParallelHosts, async (host) => {
            const endpointLook = backend.hosts.getSessionConfiguration(host, request.endpoint.name);
            // Awaited below only when there is a computer account; its failure must not go unhandled otherwise.
            void endpointLook.catch(() => undefined);
            const computer = await backend.directory.getComputer(pinned.dc, host);
            if (!computer) return { computer, endpoint: null };
            return { computer, endpoint: await endpointLook };
          }),
        ]);
        for (const o of nameLookup.clash) {
          problems.push({
            type: FailureType.GmsaNameConflict,
            message: `the name ${name} is taken in the forest by the ${o.objectClass} ${o.distinguishedName}`,
          });
        }
        const existing = nameLookup.existing;
        const group: string | null = groupLookup.group;
        const groupMembers: string[] = groupLookup.members;
        problems.push(...groupLookup.problems);

        const hosts: HostPlan[] = [];
        for (const [i, host] of request.hosts.entries()) {
          const { computer, endpoint } = lookups[i];
          if (!computer) {
            problems.push({
              type: FailureType.ComputerAccountMissing,
              message: `${host} has no computer account in ${request.domain.dns}`,
            });
            continue;
          }
          let endpointAction: HostPlan['endpointAction'] = 'register';
          if (endpoint) {
            const runsAsGmsa =
              !endpoint.runAsVirtualAccount &&
              sameAccount(endpoint.groupManagedServiceAccount, `${request.domain.netbios}\\${name}`);
            if (runsAsGmsa) {
              endpointAction = 'adopt';
              notes.push(
                `${host}: endpoint ${request.endpoint.name} already runs as the gMSA; adopted, not re-registered`,
              );
            } else {
              problems.push({
                type: FailureType.EndpointConflict,
                message:
                  `${host} already has an endpoint ${request.endpoint.name} running as ` +
                  `${endpoint.runAsVirtualAccount ? 'a virtual account' : (endpoint.groupManagedServiceAccount ?? 'the connecting user')}; ` +
                  'it is never overwritten: choose another endpoint name or remove it first',
              });
            }
          }
          hosts.push({
            hostName: host,
            computerSam: computer.samAccountName,
            site: facts.get(host)?.site ?? 'unknown',
            endpointAction,
            wasGroupMember: groupMembers.some((m) => m.toLowerCase() === computer.samAccountName.toLowerCase()),
          });
        }

        if (problems.length > 0) {
          throw stepFailure(
            problems[0].type,
            `preflight refused the request:\n${problems.map((p) => `  - [${p.type}] ${p.message}`).join('\n')}`,
            { problems },
          );
        }

        const wantedPrincipals = group ? [group] : hosts.map((h) => h.computerSam);
        const principalsBefore = existing?.principals ?? [];
        const lower = new Set(principalsBefore.map((p) => p.toLowerCase()));
        if (existing) notes.push(`gMSA ${name} exists (${existing.objectGuid}); adopted, never removed by rollback`);

        const hostSites = new Set(hosts.map((h) => h.site));
        const replicationTargets =
          request.replication.scope === 'all'
            ? dcs
            : dcs.filter((dc) => hostSites.has(dc.site) || dc.hostName === pinned.dc);

        return {
          workflowId,
          mark,
          pinnedDc: pinned.dc,
          replicationTargets,
          kdsRootKey: usable[0],
          gmsa: {
            name,
            samAccountName: `${name}$`,
            dnsHostName: `${name}.${request.domain.dns}`.toLowerCase(),
            action: existing ? 'adopt' : 'create',
            objectGuid: existing?.objectGuid ?? null,
            principalsBefore,
            wantedPrincipals,
            principalsToAdd: existing ? wantedPrincipals.filter((p) => !lower.has(p.toLowerCase())) : [],
          },
          principalMode: request.principals.mode,
          group,
          hosts,
          expectedIdentity: expectedIdentity(request),
          notes,
        };
      });
    },
  };
}
