/**
 * The two end states a run may leave behind, checked on the lab's observable state (ComparableState: no guids,
 * versions or timestamps): fully provisioned — exactly the gMSA on every DC and exactly one endpoint per host that
 * runs as it, and nothing else changed — or unchanged, equal to the state before the run.
 *
 * Each check returns the list of violations (empty = holds) instead of throwing, so randomized suites can count
 * them across many runs and print them all.
 */
import { isDeepStrictEqual } from 'node:util';
import type { LabAdminClient } from '../../backends/lab/client';
import type { ComparableState } from '../../backends/lab/model';
import type { RunbookRequestInput } from '../../runbook/request';

const eqi = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The lab's state once every pending replication has been delivered (so "the same on every DC" is decidable). */
export async function settledState(admin: LabAdminClient): Promise<ComparableState> {
  await admin.replicateNow();
  return admin.comparableState();
}

/** `after` with the request's gMSA and its endpoints taken out: what must equal `before` after a successful run. */
function withoutRequestedObjects(after: ComparableState, request: RunbookRequestInput): ComparableState {
  const sam = `${request.gmsa.name}$`;
  const endpoint = request.endpoint.name;
  const hosts = new Set(request.hosts.map((h) => h.toLowerCase()));
  const domainControllers: ComparableState['domainControllers'] = {};
  for (const [dc, objects] of Object.entries(after.domainControllers)) {
    domainControllers[dc] = objects.filter(
      (o) => !(o.objectClass === 'msDS-GroupManagedServiceAccount' && eqi(o.samAccountName, sam)),
    );
  }
  const out: ComparableState['hosts'] = {};
  for (const [host, state] of Object.entries(after.hosts)) {
    out[host] = {
      ...state,
      sessionConfigurations: hosts.has(host.toLowerCase())
        ? state.sessionConfigurations.filter((c) => !eqi(c.name, endpoint))
        : state.sessionConfigurations,
    };
  }
  return { domainControllers, hosts: out };
}

/**
 * Violations of "fully provisioned": on every DC exactly one gMSA with the requested name whose principals include
 * every requested host (hosts mode); on every requested host exactly one endpoint with the requested name running
 * as that gMSA, not as a virtual account; and apart from those, the state equals `before`. A gMSA that existed
 * before the run (adopted) is compared by presence, not equality, since the run may add principals to it.
 */
export function provisionedViolations(
  before: ComparableState,
  after: ComparableState,
  request: RunbookRequestInput,
): string[] {
  const problems: string[] = [];
  const sam = `${request.gmsa.name}$`;
  for (const [dc, objects] of Object.entries(after.domainControllers)) {
    const accounts = objects.filter(
      (o) => o.objectClass === 'msDS-GroupManagedServiceAccount' && eqi(o.samAccountName, sam),
    );
    if (accounts.length !== 1) {
      problems.push(`${dc}: ${accounts.length} gMSA objects named ${sam} (expected exactly 1)`);
      continue;
    }
    const account = accounts[0];
    if (account.objectClass !== 'msDS-GroupManagedServiceAccount') continue;
    if (request.principals === undefined || request.principals.mode === 'hosts') {
      for (const host of request.hosts) {
        const computer = `${host.split('.')[0]}$`;
        if (!account.principals.some((p) => eqi(p, computer))) {
          problems.push(`${dc}: ${sam} does not let ${computer} retrieve its password`);
        }
      }
    }
  }
  for (const host of request.hosts) {
    const state = Object.entries(after.hosts).find(([name]) => eqi(name, host))?.[1];
    if (!state) {
      problems.push(`${host}: not a lab host`);
      continue;
    }
    const endpoints = state.sessionConfigurations.filter((c) => eqi(c.name, request.endpoint.name));
    if (endpoints.length !== 1) {
      problems.push(`${host}: ${endpoints.length} endpoints named ${request.endpoint.name} (expected exactly 1)`);
      continue;
    }
    const endpoint = endpoints[0];
    // Windows reports DOMAIN\name$; the account part is what must match.
    const runAs = (endpoint.groupManagedServiceAccount ?? '').split('\\').pop()?.replace(/\$$/, '') ?? '';
    if (endpoint.runAsVirtualAccount || !eqi(runAs, request.gmsa.name)) {
      problems.push(
        `${host}: endpoint ${endpoint.name} runs as ${endpoint.runAsVirtualAccount ? 'a virtual account' : String(endpoint.groupManagedServiceAccount)}`,
      );
    }
  }
  const adopted = Object.values(before.domainControllers).some((objects) =>
    objects.some((o) => o.objectClass === 'msDS-GroupManagedServiceAccount' && eqi(o.samAccountName, sam)),
  );
  const rest = withoutRequestedObjects(after, request);
  const expected = adopted ? withoutRequestedObjects(before, request) : before;
  problems.push(...stateDifferences(expected, rest).map((d) => `besides the requested objects: ${d}`));
  return problems;
}

/** Violations of "unchanged": every difference between the state before and after, per DC and per host. */
export function unchangedViolations(before: ComparableState, after: ComparableState): string[] {
  return stateDifferences(before, after);
}

function stateDifferences(before: ComparableState, after: ComparableState): string[] {
  const out: string[] = [];
  const dcs = new Set([...Object.keys(before.domainControllers), ...Object.keys(after.domainControllers)]);
  for (const dc of dcs) {
    const b = before.domainControllers[dc] ?? [];
    const a = after.domainControllers[dc] ?? [];
    const key = (o: { objectClass: string; samAccountName: string }): string =>
      `${o.objectClass}/${o.samAccountName.toLowerCase()}`;
    for (const o of a) {
      const match = b.find((x) => key(x) === key(o));
      if (!match) out.push(`${dc}: ${key(o)} appeared`);
      else if (!isDeepStrictEqual(match, o)) out.push(`${dc}: ${key(o)} changed`);
    }
    for (const o of b) if (!a.some((x) => key(x) === key(o))) out.push(`${dc}: ${key(o)} disappeared`);
  }
  const hosts = new Set([...Object.keys(before.hosts), ...Object.keys(after.hosts)]);
  for (const host of hosts) {
    const b = before.hosts[host];
    const a = after.hosts[host];
    if (!b || !a) {
      out.push(`${host}: host ${a ? 'appeared' : 'disappeared'}`);
      continue;
    }
    for (const c of a.sessionConfigurations) {
      const match = b.sessionConfigurations.find((x) => eqi(x.name, c.name));
      if (!match) out.push(`${host}: endpoint ${c.name} appeared`);
      else if (!isDeepStrictEqual(match, c)) out.push(`${host}: endpoint ${c.name} changed`);
    }
    for (const c of b.sessionConfigurations) {
      if (!a.sessionConfigurations.some((x) => eqi(x.name, c.name)))
        out.push(`${host}: endpoint ${c.name} disappeared`);
    }
    if (!isDeepStrictEqual(a.ticketGroups, b.ticketGroups)) out.push(`${host}: Kerberos ticket groups changed`);
  }
  return out;
}
