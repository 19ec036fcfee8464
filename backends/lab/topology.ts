/**
 * The shape of the simulated domain: sites, DCs, hosts, groups and the real-world latencies the lab reproduces.
 * Latencies are real-world milliseconds; the lab multiplies them by its timeScale so a demo does not wait 15 minutes
 * for inter-site replication. The KDS 10-hour rule is NOT scaled (runbook/kds.ts): the default key is simply old.
 */
import type { DomainController } from '../ports';

export interface LabLatencies {
  /** Intra-site change notification: delay before the first partner is told (msDS-Replication-Notify-First-DSA-Delay). */
  intraSiteFirstMs: number;
  /** Each further partner in the site is told this much later (…-Subsequent-DSA-Delay). */
  intraSiteSubsequentMs: number;
  /** Site link replication interval; a DC in another site gets a change at interval + first + subsequent*k. */
  interSiteIntervalMs: number;
  /** How long WinRM is down after a (un)registration completes. */
  winrmRestartMs: number;
  /** How long the detached Register-/Unregister-PSSessionConfiguration job runs. */
  registrationJobMs: number;
  /** Network + cmdlet overhead of every call (the server waits it). */
  perCallMs: number;
}

export interface LabHostSpec {
  /** FQDN; the computer account is the first label upper-cased plus `$`. */
  hostName: string;
  site: string;
}

export interface LabGroupSpec {
  name: string;
  /** sAMAccountNames (computers with `$`). */
  members: string[];
}

export interface LabTopology {
  netbios: string;
  dnsRoot: string;
  domainControllers: DomainController[];
  hosts: LabHostSpec[];
  groups: LabGroupSpec[];
  users: string[];
  /** The one KDS root key is effective this long before the lab was created; null = no key at all. */
  kdsRootKeyAgeMs: number | null;
  latencies: LabLatencies;
}

export const DEFAULT_LATENCIES: LabLatencies = {
  intraSiteFirstMs: 15_000,
  intraSiteSubsequentMs: 3_000,
  interSiteIntervalMs: 15 * 60_000,
  winrmRestartMs: 8_000,
  registrationJobMs: 2_000,
  perCallMs: 20,
};

/** Shrinks a 15-minute wait to 18 s, a 15 s notification to 300 ms. */
export const DEFAULT_TIME_SCALE = 0.02;

export function defaultTopology(): LabTopology {
  return {
    netbios: 'LAB',
    dnsRoot: 'lab.local',
    domainControllers: [
      { hostName: 'dc1.lab.local', site: 'HQ', writable: true },
      { hostName: 'dc2.lab.local', site: 'HQ', writable: true },
      { hostName: 'dc3.lab.local', site: 'HQ', writable: true },
      { hostName: 'dc4.lab.local', site: 'Branch', writable: true },
    ],
    hosts: [
      { hostName: 'server1.lab.local', site: 'HQ' },
      { hostName: 'server2.lab.local', site: 'HQ' },
      { hostName: 'server3.lab.local', site: 'Branch' },
      { hostName: 'server4.lab.local', site: 'HQ' },
    ],
    groups: [
      { name: 'JEA-Operators', members: [] },
      { name: 'gMSA-Remoting-Hosts', members: [] },
    ],
    users: ['Administrator'],
    kdsRootKeyAgeMs: 11 * 60 * 60 * 1000,
    latencies: { ...DEFAULT_LATENCIES },
  };
}

/**
 * Real-world milliseconds until a write on `from` reaches each other DC. Intra-site: the first partner after the
 * first-notification delay, each next one (partners ordered by name) a subsequent-delay later. Another site: the
 * site link interval plus the same ladder inside that site. The model schedules deliveries with it; the benchmark
 * reads it to know the inherent replication wait of a run.
 */
export function replicationDelays(
  latencies: LabLatencies,
  from: Pick<DomainController, 'hostName' | 'site'>,
  dcs: Pick<DomainController, 'hostName' | 'site'>[],
): [string, number][] {
  const others = dcs
    .filter((d) => d.hostName !== from.hostName)
    .sort((a, b) => (a.hostName < b.hostName ? -1 : a.hostName > b.hostName ? 1 : 0));
  const ladder = new Map<string, number>();
  return others.map((d) => {
    const k = ladder.get(d.site) ?? 0;
    ladder.set(d.site, k + 1);
    const notify = latencies.intraSiteFirstMs + latencies.intraSiteSubsequentMs * k;
    return [d.hostName, d.site === from.site ? notify : latencies.interSiteIntervalMs + notify];
  });
}

/** Most hosts a generated topology may have (the request schema allows 500 hosts per run). */
export const MAX_GENERATED_HOSTS = 1000;

/**
 * The default domain with `count` member servers instead of four, for fan-out and load runs. Hosts follow the
 * default's pattern (`serverN.lab.local`, every fourth one from server3 in Branch), so a topology of 4 is the
 * default topology and a run against server1-server4 behaves the same on either.
 */
export function topologyWithHosts(count: number): LabTopology {
  if (!Number.isInteger(count) || count < 1 || count > MAX_GENERATED_HOSTS) {
    throw new Error(`a generated topology needs 1-${MAX_GENERATED_HOSTS} hosts (got ${count})`);
  }
  const topology = defaultTopology();
  topology.hosts = Array.from({ length: count }, (_, i) => ({
    hostName: `server${i + 1}.${topology.dnsRoot}`,
    site: i % 4 === 2 ? 'Branch' : 'HQ',
  }));
  return topology;
}

/** `server1.lab.local` → `SERVER1$`. */
export function computerSamFor(hostName: string): string {
  return `${hostName.split('.')[0].toUpperCase()}$`;
}

/** `lab.local` → `DC=lab,DC=local`. */
export function domainDn(dnsRoot: string): string {
  return dnsRoot
    .split('.')
    .map((part) => `DC=${part}`)
    .join(',');
}
