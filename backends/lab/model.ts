/**
 * The lab domain: a synchronous simulation of AD (per-DC copies, replication delays) and of the hosts (WinRM,
 * session configurations, Kerberos tickets). The server layer only adds HTTP and waiting; every rule lives here.
 *
 * Time never runs in the background: deliveries, registration jobs and fault expiries are applied lazily, on the
 * next access, for everything whose time has come. That keeps the model deterministic under an injected clock
 * and lets a stopped lab resume from its file with pending work intact.
 */
import { createHash, randomUUID } from 'node:crypto';
import { FailureType } from '../../runbook/failures';
import { kdsRootKeyUsable, type KdsRootKey } from '../../runbook/kds';
import type { SessionConfigurationFile } from '../../runbook/session-configuration';
import { BackendError } from '../errors';
import type {
  ComputerAccount,
  DirectoryObjectRef,
  DomainController,
  HostFacts,
  NewServiceAccount,
  RegisteredSessionConfiguration,
  ServiceAccount,
} from '../ports';
import { LabFaultSpecSchema, toStoredFault, type LabFault, type LabFaultSpec } from './faults';
import type {
  DcState,
  Delivery,
  HostState,
  LabEvent,
  LabGmsaObject,
  LabGroupObject,
  LabObject,
  LabState,
  LabStateStore,
} from './state';
import {
  computerSamFor,
  DEFAULT_TIME_SCALE,
  defaultTopology,
  domainDn,
  replicationDelays,
  type LabTopology,
} from './topology';

export interface LabDomainOptions {
  topology?: LabTopology;
  /** Multiplies every latency of the topology (not the KDS rule). */
  timeScale?: number;
  now?: () => number;
  store?: LabStateStore;
}

/** Thrown for a `winrm-hang` fault: the server waits `hangMs` before answering with it, like a hung WinRM. */
export class LabHangError extends BackendError {
  constructor(
    readonly hangMs: number,
    host: string,
  ) {
    super(FailureType.WinRmTransport, `WinRM service is StopPending on ${host}: the operation timed out`, {
      host,
      hangMs,
    });
  }
}

export interface ComparableHost {
  sessionConfigurations: RegisteredSessionConfiguration[];
  ticketGroups: string[];
}

type WithoutGuid<T> = T extends unknown ? Omit<T, 'objectGuid'> : never;
export type ComparableObject = WithoutGuid<LabObject>;

/** What a user can observe, without guids, versions, timestamps or tombstones. */
export interface ComparableState {
  domainControllers: Record<string, ComparableObject[]>;
  hosts: Record<string, ComparableHost>;
}

export interface SeedServiceAccount {
  dc?: string;
  name: string;
  principals: string[];
  description?: string;
}

const BAD_SAM_CHARS = /["/\\[\]:;|=,+*?<>@\s]/;
const MAX_SAM_LENGTH = 15;

const eqi = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Names given as FQDN or short label (`dc1`, `dc1.lab.local`) both resolve. */
function sameHostName(given: string, hostName: string): boolean {
  const g = given.toLowerCase();
  const h = hostName.toLowerCase();
  return g === h || g === h.split('.')[0];
}

function deterministicGuid(seed: string): string {
  // Topology objects get stable guids so two fresh labs are identical.
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * What a real directory says about one host's password retrieval, for the hybrid configuration (directory on a
 * real AD or Samba, hosts in the lab). The server fetches these before a host call and the host rules use them
 * instead of the lab's own DCs.
 */
export interface ExternalDirectoryFacts {
  /** The gMSA asked about, as the host's site DC sees it; null when that DC does not have it. */
  gmsa: { samAccountName: string; principals: string[] } | null;
  /** Groups that contain the host's computer account, as its site DC sees them (what a new TGT would carry). */
  computerGroups: string[];
  kdsUsable: boolean;
}

export class LabDomain {
  private state: LabState;
  private external?: ExternalDirectoryFacts;
  private readonly now: () => number;
  private readonly store: LabStateStore | undefined;
  private readonly topology: LabTopology;
  private dirty = false;
  private depth = 0;

  constructor(opts: LabDomainOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.store = opts.store;
    const loaded = this.store?.load() ?? null;
    if (loaded) {
      this.state = loaded;
      if (opts.timeScale !== undefined && opts.timeScale !== loaded.timeScale) {
        this.state.timeScale = opts.timeScale;
        this.dirty = true;
      }
    } else {
      this.state = initialState(opts.topology ?? defaultTopology(), opts.timeScale ?? DEFAULT_TIME_SCALE, this.now());
      this.dirty = true;
    }
    this.topology = opts.topology ?? this.state.topology;
    this.flush();
  }

  get timeScale(): number {
    return this.state.timeScale;
  }

  get netbios(): string {
    return this.state.topology.netbios;
  }

  /** A real-world latency in lab milliseconds. */
  scaled(ms: number): number {
    return Math.round(ms * this.state.timeScale);
  }

  /** What every call costs in lab milliseconds (the server waits it). */
  perCallLatencyMs(): number {
    return this.scaled(this.state.topology.latencies.perCallMs);
  }

  // ───────────────────────────── DirectoryPort ─────────────────────────────

  getKdsRootKeys(dc: string): KdsRootKey[] {
    return this.run('getKdsRootKeys', [dc], () => {
      this.dcUp(dc);
      return this.state.kdsRootKeys.map((k) => ({ ...k }));
    });
  }

  listDomainControllers(): DomainController[] {
    return this.run('listDomainControllers', [], () => {
      const all = Object.values(this.state.dcs);
      if (all.every((d) => this.isDown(d.hostName))) {
        throw new BackendError(FailureType.ServerDown, 'Unable to contact the server: every domain controller is down');
      }
      return all
        .map((d) => ({ hostName: d.hostName, site: d.site, writable: d.writable }))
        .sort((a, b) => byName(a.hostName, b.hostName));
    });
  }

  findAccountsNamed(dc: string, name: string): DirectoryObjectRef[] {
    return this.run('findAccountsNamed', [dc], () => {
      const view = this.dcUp(dc);
      return this.objectsNamed(view, name).map(toRef);
    });
  }

  getServiceAccount(dc: string, name: string): ServiceAccount | null {
    return this.run('getServiceAccount', [dc], () => {
      const gmsa = this.gmsaBySam(this.dcUp(dc), samOf(name));
      return gmsa ? toServiceAccount(gmsa) : null;
    });
  }

  createServiceAccount(dc: string, spec: NewServiceAccount): ServiceAccount {
    return this.run('createServiceAccount', [dc], () => {
      const view = this.writableDc(dc);
      this.requireUsableKdsKey();
      const created = this.newServiceAccount(view, spec);
      this.log('createServiceAccount', view.hostName, `${created.samAccountName} ${created.objectGuid}`);
      return toServiceAccount(created);
    });
  }

  removeServiceAccount(dc: string, objectGuid: string): void {
    this.run('removeServiceAccount', [dc], () => {
      const view = this.writableDc(dc);
      const gmsa = this.gmsaByGuid(view, objectGuid);
      this.write(view, objectGuid, null);
      this.log('removeServiceAccount', view.hostName, `${gmsa.samAccountName} ${objectGuid}`);
    });
  }

  setServiceAccountPrincipals(dc: string, objectGuid: string, principals: string[]): ServiceAccount {
    return this.run('setServiceAccountPrincipals', [dc], () => {
      const view = this.writableDc(dc);
      const gmsa = this.gmsaByGuid(view, objectGuid);
      const updated: LabGmsaObject = { ...gmsa, principals: this.resolvePrincipals(view, principals) };
      this.write(view, objectGuid, updated);
      this.log('setServiceAccountPrincipals', view.hostName, `${gmsa.samAccountName} ${updated.principals.join(',')}`);
      return toServiceAccount(updated);
    });
  }

  getComputer(dc: string, hostName: string): ComputerAccount | null {
    return this.run('getComputer', [dc], () => {
      const found = this.live(this.dcUp(dc)).find(
        (o): o is Extract<LabObject, { objectClass: 'computer' }> =>
          o.objectClass === 'computer' && eqi(o.dnsHostName, hostName),
      );
      return found ? { ...toRef(found), objectClass: 'computer', dnsHostName: found.dnsHostName } : null;
    });
  }

  getGroupMembers(dc: string, group: string): string[] {
    return this.run('getGroupMembers', [dc], () => [...this.group(this.dcUp(dc), group).members]);
  }

  addGroupMember(dc: string, group: string, member: string): void {
    this.run('addGroupMember', [dc], () => {
      const view = this.writableDc(dc);
      const g = this.group(view, group);
      const m = this.resolveAny(view, member);
      if (g.members.some((x) => eqi(x, m.samAccountName))) return; // Add-ADGroupMember of a member: no change
      this.write(view, g.objectGuid, { ...g, members: [...g.members, m.samAccountName] });
      this.log('addGroupMember', view.hostName, `${g.samAccountName} += ${m.samAccountName}`);
    });
  }

  removeGroupMember(dc: string, group: string, member: string): void {
    this.run('removeGroupMember', [dc], () => {
      const view = this.writableDc(dc);
      const g = this.group(view, group);
      const m = this.resolveAny(view, member);
      if (!g.members.some((x) => eqi(x, m.samAccountName))) return;
      this.write(view, g.objectGuid, { ...g, members: g.members.filter((x) => !eqi(x, m.samAccountName)) });
      this.log('removeGroupMember', view.hostName, `${g.samAccountName} -= ${m.samAccountName}`);
    });
  }

  syncObject(sourceDc: string, destinationDc: string, objectGuid: string): void {
    this.run('syncObject', [sourceDc, destinationDc], () => {
      const source = this.dcUp(sourceDc);
      const dest = this.dcUp(destinationDc);
      if (this.firstFault('replication-blocked', dest.hostName, true)) {
        throw new BackendError(
          FailureType.ServerDown,
          `The destination server is currently rejecting replication requests (${dest.hostName})`,
          { dc: dest.hostName },
        );
      }
      const replica = source.objects[objectGuid];
      if (!replica) {
        throw notFound(objectGuid, this.state.topology.dnsRoot);
      }
      this.applyReplica(dest, objectGuid, { ...replica, object: clone(replica.object) });
      this.log('syncObject', dest.hostName, `${objectGuid} from ${source.hostName}`);
    });
  }

  // ─────────────────────────────── HostPort ────────────────────────────────

  probeHost(host: string): HostFacts {
    return this.run('probeHost', [host], () => {
      const h = this.reachHost(host);
      return {
        hostName: h.hostName,
        domainJoined: true,
        domain: this.state.topology.dnsRoot,
        site: h.site,
        winrmRunning: true,
        disableRunAs: this.runAsDisabled(h, false),
        psVersion: h.psVersion,
      };
    });
  }

  testServiceAccount(host: string, gmsaName: string): boolean {
    return this.run('testServiceAccount', [host], () => {
      const h = this.reachHost(host);
      return this.canRetrievePassword(h, gmsaName);
    });
  }

  purgeKerberosTickets(host: string): void {
    this.run('purgeKerberosTickets', [host], () => {
      const h = this.reachHost(host);
      const dc = this.siteDc(h);
      // With no DC to ask, the host cannot get a new TGT: it keeps what it had.
      if (this.external) h.ticketGroups = [...this.external.computerGroups];
      else if (dc) h.ticketGroups = this.groupsContaining(dc, h.computerSam);
      this.dirty = true;
      this.log('purgeKerberosTickets', h.hostName, h.ticketGroups.join(','));
    });
  }

  getSessionConfiguration(host: string, name: string): RegisteredSessionConfiguration | null {
    return this.run('getSessionConfiguration', [host], () => {
      const found = findEndpoint(this.reachHost(host), name);
      return found ? clone(found) : null;
    });
  }

  startRegistration(host: string, configuration: SessionConfigurationFile): void {
    this.run('startRegistration', [host], () => {
      const h = this.reachHost(host);
      if (this.runAsDisabled(h, true)) {
        throw new BackendError(
          FailureType.RunAsDisabledByPolicy,
          'The supplied plugin is not allowed to run with RunAs credentials: WinRM policy DisableRunAs ' +
            '(HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WinRM\\Service\\DisableRunAs = 1)',
          { host: h.hostName },
        );
      }
      if (!configuration.groupManagedServiceAccount) {
        throw new BackendError(
          FailureType.RequestInvalid,
          'The session configuration has no GroupManagedServiceAccount',
        );
      }
      this.requireNoJob(h);
      const startedAt = this.now();
      h.job = {
        kind: 'register',
        configuration: clone(configuration),
        startedAt,
        completesAt: startedAt + this.jobMs(),
      };
      this.dirty = true;
      this.log('startRegistration', h.hostName, configuration.name);
    });
  }

  startUnregistration(host: string, name: string): void {
    this.run('startUnregistration', [host], () => {
      const h = this.reachHost(host);
      // A running job first, as the real host script checks its scheduled task first: an endpoint whose
      // registration is still running is not there yet, and "not found" would make an undo believe it never will be.
      this.requireNoJob(h);
      const found = findEndpoint(h, name);
      if (!found) {
        throw new BackendError(FailureType.ObjectNotFound, `No session configuration matches criteria "${name}"`);
      }
      const startedAt = this.now();
      h.job = { kind: 'unregister', name: found.name, startedAt, completesAt: startedAt + this.jobMs() };
      this.dirty = true;
      this.log('startUnregistration', h.hostName, found.name);
    });
  }

  invokeIdentityProbe(host: string, endpoint: string, probeFunction: string): string {
    return this.run('invokeIdentityProbe', [host], () => {
      const h = this.reachHost(host);
      const config = findEndpoint(h, endpoint);
      if (!config) {
        throw new BackendError(
          FailureType.ObjectNotFound,
          `The WS-Management service cannot process the request. Cannot find the ${endpoint} session configuration ` +
            `in the WSMan: drive on the ${h.hostName} computer.`,
        );
      }
      if (!config.visibleFunctions.some((f) => eqi(f, probeFunction))) {
        throw new BackendError(
          FailureType.IdentityProbeMissing,
          `The term '${probeFunction}' is not recognized as the name of a cmdlet, function, script file, or operable program.`,
        );
      }
      const netbios = this.state.topology.netbios;
      if (this.firstFault('virtual-account', h.hostName, true) || config.runAsVirtualAccount) {
        return `WinRM Virtual Users\\WinRM VA_1_${netbios}_Administrator`;
      }
      // No run-as at all: the session runs as the connecting user.
      if (!config.groupManagedServiceAccount) return `${netbios}\\Administrator`;
      if (!this.canRetrievePassword(h, config.groupManagedServiceAccount)) {
        throw new BackendError(
          FailureType.GmsaNotUsableYet,
          `Connecting to remote server ${h.hostName} failed: the WinRM service cannot retrieve the managed password ` +
            `of ${config.groupManagedServiceAccount}`,
        );
      }
      return `${netbios}\\${samOf(accountPart(config.groupManagedServiceAccount))}`;
    });
  }

  /** Run host rules against facts from a real directory (hybrid configuration), then back to the lab's own. */
  withExternalDirectory<T>(facts: ExternalDirectoryFacts, work: () => T): T {
    this.external = facts;
    try {
      return work();
    } finally {
      this.external = undefined;
    }
  }

  /** What the hybrid server needs to know about a host to ask the real directory the right questions. */
  hostDirectoryContext(
    host: string,
    endpoint?: string,
  ): { site: string; computerSam: string; endpointAccount: string | null; knownGroups: string[] } | undefined {
    const h = Object.values(this.state.hosts).find((x) => eqi(x.hostName, host));
    if (!h) return undefined;
    const account = endpoint ? (findEndpoint(h, endpoint)?.groupManagedServiceAccount ?? null) : null;
    return {
      site: h.site,
      computerSam: h.computerSam,
      endpointAccount: account,
      knownGroups: this.state.topology.groups.map((g) => g.name),
    };
  }

  // ──────────────────────────────── Admin ──────────────────────────────────

  /** Back to the topology: fresh objects, hosts, key; faults and events cleared. */
  reset(): void {
    this.depth++;
    try {
      this.state = initialState(this.topology, this.state.timeScale, this.now());
      this.dirty = true;
    } finally {
      this.depth--;
      this.flush();
    }
  }

  /** A gMSA that existed before (no KDS check: it was created back when). Replicates like any write. */
  seedServiceAccount(seed: SeedServiceAccount): ServiceAccount {
    return this.run('seedServiceAccount', [], () => {
      const view = this.adminDc(seed.dc);
      const created = this.newServiceAccount(view, {
        name: seed.name,
        dnsHostName: `${seed.name}.${this.state.topology.dnsRoot}`,
        description: seed.description ?? '',
        principals: seed.principals,
        kerberosEncryptionTypes: ['AES128', 'AES256'],
        managedPasswordIntervalInDays: 30,
      });
      if (seed.description === undefined) created.description = null;
      this.log('seedServiceAccount', view.hostName, created.samAccountName);
      return toServiceAccount(created);
    });
  }

  seedUser(seed: { dc?: string; name: string }): DirectoryObjectRef {
    return this.run('seedUser', [], () => {
      const view = this.adminDc(seed.dc);
      validateSam(seed.name, seed.name);
      this.requireNameFree(view, seed.name);
      const user: LabObject = {
        objectClass: 'user',
        objectGuid: randomUUID(),
        samAccountName: seed.name,
        name: seed.name,
        distinguishedName: `CN=${seed.name},CN=Users,${domainDn(this.state.topology.dnsRoot)}`,
      };
      this.write(view, user.objectGuid, user);
      this.log('seedUser', view.hostName, seed.name);
      return toRef(user);
    });
  }

  /** Replace the root keys with one effective at `effectiveTime` (or add it with `append`). */
  setKdsRootKey(effectiveTime: string, append = false): KdsRootKey {
    return this.run('setKdsRootKey', [], () => {
      const key = { keyId: randomUUID(), effectiveTime: new Date(Date.parse(effectiveTime)).toISOString() };
      this.state.kdsRootKeys = append ? [...this.state.kdsRootKeys, key] : [key];
      this.dirty = true;
      this.log('setKdsRootKey', 'kds', key.effectiveTime);
      return { ...key };
    });
  }

  clearKdsRootKeys(): void {
    this.run('clearKdsRootKeys', [], () => {
      this.state.kdsRootKeys = [];
      this.dirty = true;
      this.log('clearKdsRootKeys', 'kds');
    });
  }

  /** repadmin /syncall: every pending change reaches every DC that is up and not blocked, now. */
  replicateNow(): number {
    return this.run('replicateNow', [], () => {
      const applied = this.applyDeliveries(Number.POSITIVE_INFINITY);
      this.log('replicateNow', 'all', `${applied} deliveries`);
      return applied;
    });
  }

  addFault(spec: LabFaultSpec): string {
    const parsed = LabFaultSpecSchema.parse(spec);
    return this.run('addFault', [], () => {
      const id = `f${this.state.nextFaultSeq++}`;
      this.state.faults.push(toStoredFault(parsed, id, this.now()));
      this.dirty = true;
      this.log('addFault', id, parsed.kind);
      return id;
    });
  }

  listFaults(): LabFault[] {
    return this.run('listFaults', [], () => clone(this.state.faults));
  }

  removeFault(id: string): boolean {
    return this.run('removeFault', [], () => {
      const before = this.state.faults.length;
      this.state.faults = this.state.faults.filter((f) => f.id !== id);
      const removed = this.state.faults.length < before;
      if (removed) {
        this.dirty = true;
        this.log('removeFault', id);
      }
      return removed;
    });
  }

  clearFaults(): void {
    this.run('clearFaults', [], () => {
      this.state.faults = [];
      this.dirty = true;
      this.log('clearFaults', 'all');
    });
  }

  events(): LabEvent[] {
    return this.run('events', [], () => clone(this.state.events));
  }

  /** The full state (after applying whatever is due), as stored. */
  snapshot(): LabState {
    return this.run('snapshot', [], () => clone(this.state));
  }

  comparableState(): ComparableState {
    return this.run('comparableState', [], () => {
      const domainControllers: ComparableState['domainControllers'] = {};
      for (const dc of Object.values(this.state.dcs).sort((a, b) => byName(a.hostName, b.hostName))) {
        domainControllers[dc.hostName] = this.live(dc)
          .map((o) => comparableObject(o))
          .sort((a, b) =>
            byName(
              `${a.objectClass}/${a.samAccountName.toLowerCase()}`,
              `${b.objectClass}/${b.samAccountName.toLowerCase()}`,
            ),
          );
      }
      const hosts: ComparableState['hosts'] = {};
      for (const h of Object.values(this.state.hosts).sort((a, b) => byName(a.hostName, b.hostName))) {
        hosts[h.hostName] = {
          sessionConfigurations: clone(h.sessionConfigurations).sort((a, b) =>
            byName(a.name.toLowerCase(), b.name.toLowerCase()),
          ),
          ticketGroups: [...h.ticketGroups].sort(byName),
        };
      }
      return { domainControllers, hosts };
    });
  }

  // ───────────────────────────── Machinery ─────────────────────────────────

  /**
   * Every public operation: bring the world up to now, apply `fail-operation` faults around the work, and save
   * if anything changed (including lazily applied deliveries and fault decrements).
   */
  private run<T>(operation: string, targets: string[], work: () => T): T {
    this.depth++;
    try {
      this.advance();
      this.failOperation(operation, targets, 'before');
      const result = work();
      this.failOperation(operation, targets, 'after');
      return result;
    } finally {
      this.depth--;
      this.flush();
    }
  }

  private flush(): void {
    if (this.depth > 0 || !this.dirty) return;
    this.dirty = false;
    this.store?.save(this.state);
  }

  private advance(): void {
    const now = this.now();
    const before = this.state.faults.length;
    this.state.faults = this.state.faults.filter((f) => f.expiresAt === undefined || f.expiresAt > now);
    if (this.state.faults.length !== before) this.dirty = true;
    this.applyDeliveries(now);
    for (const h of Object.values(this.state.hosts)) {
      if (h.job && h.job.completesAt <= now) this.completeJob(h);
    }
  }

  /** Apply deliveries due by `until` to destinations that are up and not blocked; the rest stay pending. */
  private applyDeliveries(until: number): number {
    const due = this.state.deliveries
      .filter((d) => d.at <= until && !this.isDown(d.to) && !this.firstFault('replication-blocked', d.to, false))
      .sort((a, b) => a.at - b.at || a.version - b.version);
    if (due.length === 0) return 0;
    const applied = new Set(due);
    for (const d of due) {
      this.applyReplica(this.state.dcs[d.to], d.guid, { version: d.version, changedAt: d.at, object: d.object });
    }
    this.state.deliveries = this.state.deliveries.filter((d) => !applied.has(d));
    this.dirty = true;
    return due.length;
  }

  /** Newer versions win; an older delivery never overwrites (or resurrects) what the DC already has. */
  private applyReplica(dc: DcState, guid: string, replica: DcState['objects'][string]): void {
    const existing = dc.objects[guid];
    if (existing && existing.version >= replica.version) return;
    dc.objects[guid] = replica;
    this.dirty = true;
  }

  /** A write at `dc`: applied there now, on its way to every other DC with the topology's delays. */
  private write(dc: DcState, guid: string, object: LabObject | null): void {
    const version = this.state.nextVersion++;
    const now = this.now();
    dc.objects[guid] = { version, changedAt: now, object: clone(object) };
    for (const [to, delay] of this.replicationDelays(dc)) {
      const delivery: Delivery = { from: dc.hostName, to, guid, version, at: now + delay, object: clone(object) };
      this.state.deliveries.push(delivery);
    }
    this.dirty = true;
  }

  /** When a write on `from` reaches every other DC, in lab milliseconds (the rule: topology.ts). */
  private replicationDelays(from: DcState): [string, number][] {
    return replicationDelays(this.state.topology.latencies, from, Object.values(this.state.dcs)).map(([to, real]) => [
      to.toLowerCase(),
      this.scaled(real),
    ]);
  }

  private completeJob(h: HostState): void {
    const job = h.job;
    if (!job) return;
    if (job.kind === 'register') {
      const c = job.configuration;
      const view: RegisteredSessionConfiguration = {
        name: c.name,
        // Windows stores and returns the gMSA with a trailing `$` (domain.md §1.5.3).
        groupManagedServiceAccount: c.groupManagedServiceAccount.endsWith('$')
          ? c.groupManagedServiceAccount
          : `${c.groupManagedServiceAccount}$`,
        runAsVirtualAccount: false,
        sessionType: c.sessionType,
        description: c.description,
        roleDefinitions: clone(c.roleDefinitions),
        transcriptDirectory: c.transcriptDirectory,
        visibleFunctions: [...c.visibleFunctions],
      };
      // -Force: an endpoint of the same name is replaced.
      h.sessionConfigurations = [...h.sessionConfigurations.filter((s) => !eqi(s.name, c.name)), view];
    } else {
      h.sessionConfigurations = h.sessionConfigurations.filter((s) => !eqi(s.name, job.name));
    }
    h.winrmRestart = {
      from: job.completesAt,
      until: job.completesAt + this.scaled(this.state.topology.latencies.winrmRestartMs),
    };
    h.job = null;
    this.dirty = true;
    this.logAt(
      job.completesAt,
      job.kind === 'register' ? 'registrationCompleted' : 'unregistrationCompleted',
      h.hostName,
      job.kind === 'register' ? job.configuration.name : job.name,
    );
  }

  private jobMs(): number {
    return this.scaled(this.state.topology.latencies.registrationJobMs);
  }

  private requireNoJob(h: HostState): void {
    if (h.job) {
      throw new BackendError(
        FailureType.RegistrationInProgress,
        `A session configuration change is already running on ${h.hostName}`,
        { host: h.hostName, completesAt: new Date(h.job.completesAt).toISOString() },
      );
    }
  }

  // ─── faults ───

  private faultMatches(f: LabFault, name: string): boolean {
    const target = 'dc' in f ? f.dc : 'host' in f ? f.host : undefined;
    return target !== undefined && sameHostName(target, name);
  }

  /** The first active fault of a kind for a DC/host; `fire` counts it against `remaining`. */
  private firstFault<K extends LabFault['kind']>(
    kind: K,
    name: string,
    fire: boolean,
  ): Extract<LabFault, { kind: K }> | undefined {
    const f = this.state.faults.find(
      (x): x is Extract<LabFault, { kind: K }> => x.kind === kind && this.faultMatches(x, name),
    );
    if (f && fire) this.fired(f);
    return f;
  }

  private fired(f: LabFault): void {
    if (f.remaining === undefined) return;
    f.remaining -= 1;
    if (f.remaining <= 0) this.state.faults = this.state.faults.filter((x) => x !== f);
    this.dirty = true;
  }

  private failOperation(operation: string, targets: string[], when: 'before' | 'after'): void {
    const f = this.state.faults.find(
      (x): x is Extract<LabFault, { kind: 'fail-operation' }> =>
        x.kind === 'fail-operation' &&
        x.operation === operation &&
        x.when === when &&
        (x.target === undefined ||
          targets.some((t) => sameHostName(x.target as string, t) || sameHostName(t, x.target as string))),
    );
    if (!f) return;
    this.fired(f);
    this.log('faultFired', targets.join(',') || operation, `${f.id} ${operation} ${when} ${f.failureType}`);
    throw new BackendError(
      f.failureType,
      f.message ??
        `Injected fault ${f.id}: ${operation} failed ${when === 'after' ? 'after taking effect' : ''}`.trim(),
      { injected: true, faultId: f.id, when },
    );
  }

  private isDown(dcName: string): boolean {
    return this.firstFault('dc-down', dcName, false) !== undefined;
  }

  // ─── directory helpers ───

  private findDc(name: string): DcState | undefined {
    return Object.values(this.state.dcs).find((d) => sameHostName(name, d.hostName));
  }

  /** The DC a call names; unknown or down → ServerDown, as the AD module reports it. */
  private dcUp(name: string): DcState {
    const dc = this.findDc(name);
    if (!dc || this.firstFault('dc-down', dc.hostName, true)) {
      throw new BackendError(
        FailureType.ServerDown,
        `Unable to contact the server. This may be because this server does not exist, it is currently down, or it ` +
          `does not have the Active Directory Web Services running. (${name})`,
        { dc: name },
      );
    }
    return dc;
  }

  private writableDc(name: string): DcState {
    const dc = this.dcUp(name);
    if (!dc.writable) {
      throw new BackendError(FailureType.RequestInvalid, `${dc.hostName} is a read-only domain controller`, {
        dc: name,
      });
    }
    return dc;
  }

  /** Admin seeding may name a DC or default to the first one; it ignores faults (the past had none). */
  private adminDc(name: string | undefined): DcState {
    const dc =
      name === undefined
        ? Object.values(this.state.dcs).sort((a, b) => byName(a.hostName, b.hostName))[0]
        : this.findDc(name);
    if (!dc) throw new BackendError(FailureType.ObjectNotFound, `No domain controller ${name}`);
    return dc;
  }

  private live(dc: DcState): LabObject[] {
    const out: LabObject[] = [];
    for (const r of Object.values(dc.objects)) if (r.object) out.push(r.object);
    return out;
  }

  private objectsNamed(dc: DcState, name: string): LabObject[] {
    const base = name.replace(/\$$/, '');
    return this.live(dc).filter((o) => eqi(o.samAccountName, base) || eqi(o.samAccountName, `${base}$`));
  }

  private gmsaBySam(dc: DcState, sam: string): LabGmsaObject | undefined {
    return this.live(dc).find(
      (o): o is LabGmsaObject => o.objectClass === 'msDS-GroupManagedServiceAccount' && eqi(o.samAccountName, sam),
    );
  }

  private gmsaByGuid(dc: DcState, guid: string): LabGmsaObject {
    const o = dc.objects[guid]?.object;
    if (!o || o.objectClass !== 'msDS-GroupManagedServiceAccount') throw notFound(guid, this.state.topology.dnsRoot);
    return o;
  }

  private group(dc: DcState, name: string): LabGroupObject {
    const g = this.live(dc).find((o): o is LabGroupObject => o.objectClass === 'group' && eqi(o.samAccountName, name));
    if (!g) throw notFound(name, this.state.topology.dnsRoot);
    return g;
  }

  private resolveAny(dc: DcState, sam: string): LabObject {
    const o = this.live(dc).find((x) => eqi(x.samAccountName, sam));
    if (!o) throw notFound(sam, this.state.topology.dnsRoot);
    return o;
  }

  /** PrincipalsAllowedToRetrieveManagedPassword: computers (`HOST$`) or groups, canonical names, no duplicates. */
  private resolvePrincipals(dc: DcState, principals: string[]): string[] {
    const out: string[] = [];
    for (const p of principals) {
      const o = this.live(dc).find(
        (x) => (x.objectClass === 'computer' || x.objectClass === 'group') && eqi(x.samAccountName, p),
      );
      if (!o) throw notFound(p, this.state.topology.dnsRoot);
      if (!out.some((x) => eqi(x, o.samAccountName))) out.push(o.samAccountName);
    }
    return out;
  }

  private requireNameFree(dc: DcState, name: string): void {
    const taken = this.objectsNamed(dc, name);
    if (taken.length > 0) {
      throw new BackendError(
        FailureType.GmsaNameConflict,
        `The specified account already exists (${taken.map((t) => `${t.objectClass} ${t.samAccountName}`).join(', ')})`,
        { existing: taken.map(toRef) },
      );
    }
  }

  private requireUsableKdsKey(): void {
    if (!this.state.kdsRootKeys.some((k) => kdsRootKeyUsable(k, this.now()))) {
      throw new BackendError(
        FailureType.KdsRootKeyMissing,
        'Key does not exist (0x8009000D, -2146893811): no KDS root key has been effective for 10 hours',
        { keys: clone(this.state.kdsRootKeys) },
      );
    }
  }

  private newServiceAccount(dc: DcState, spec: NewServiceAccount): LabGmsaObject {
    const sam = `${spec.name}$`;
    validateSam(spec.name, sam);
    this.requireNameFree(dc, spec.name);
    const gmsa: LabGmsaObject = {
      objectClass: 'msDS-GroupManagedServiceAccount',
      objectGuid: randomUUID(),
      samAccountName: sam,
      name: spec.name,
      distinguishedName: `CN=${spec.name},CN=Managed Service Accounts,${domainDn(this.state.topology.dnsRoot)}`,
      dnsHostName: spec.dnsHostName,
      description: spec.description,
      principals: this.resolvePrincipals(dc, spec.principals),
      kerberosEncryptionTypes: [...spec.kerberosEncryptionTypes],
      managedPasswordIntervalInDays: spec.managedPasswordIntervalInDays,
    };
    this.write(dc, gmsa.objectGuid, gmsa);
    return gmsa;
  }

  /** Groups containing `sam`, directly or through nested groups, as `dc` sees them. */
  private groupsContaining(dc: DcState, sam: string): string[] {
    const groups = this.live(dc).filter((o): o is LabGroupObject => o.objectClass === 'group');
    const found: string[] = [];
    const queue = [sam];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      for (const g of groups) {
        if (g.members.some((m) => eqi(m, current)) && !found.some((f) => eqi(f, g.samAccountName))) {
          found.push(g.samAccountName);
          queue.push(g.samAccountName);
        }
      }
    }
    return found.sort(byName);
  }

  // ─── host helpers ───

  /** Every host call goes through here: unknown, unreachable, hung, or restarting WinRM fail first. */
  private reachHost(name: string): HostState {
    const h = Object.values(this.state.hosts).find((x) => sameHostName(name, x.hostName));
    if (!h || this.firstFault('host-unreachable', h.hostName, true)) {
      throw new BackendError(
        FailureType.HostUnreachable,
        `Connecting to remote server ${name} failed: WinRM cannot complete the operation. Verify that the specified ` +
          `computer name is valid, that the computer is accessible over the network.`,
        { host: name },
      );
    }
    const hang = this.firstFault('winrm-hang', h.hostName, true);
    if (hang) throw new LabHangError(hang.hangMs, h.hostName);
    const now = this.now();
    if (h.winrmRestart && now >= h.winrmRestart.from && now < h.winrmRestart.until) {
      throw new BackendError(
        FailureType.WinRmTransport,
        `The WinRM client cannot complete the operation: the connection was dropped while WinRM restarted on ${h.hostName}`,
        { host: h.hostName, until: new Date(h.winrmRestart.until).toISOString() },
      );
    }
    return h;
  }

  private runAsDisabled(h: HostState, fire: boolean): boolean {
    return h.disableRunAs || this.firstFault('disable-runas', h.hostName, fire) !== undefined;
  }

  /** The DC a host talks to: the first up DC of its site, else any up DC. */
  private siteDc(h: HostState): DcState | undefined {
    const dcs = Object.values(this.state.dcs)
      .filter((d) => !this.isDown(d.hostName))
      .sort((a, b) => byName(a.hostName, b.hostName));
    return dcs.find((d) => d.site === h.site) ?? dcs[0];
  }

  /**
   * Can the host get the gMSA's password now: its site DC has the gMSA, the host is a principal directly or via
   * a group in its current TGT (a new group membership needs a ticket purge), and a KDS key is usable.
   */
  private canRetrievePassword(h: HostState, account: string): boolean {
    const [domain, name] = splitAccount(account);
    if (domain !== null && !eqi(domain, this.state.topology.netbios)) return false;
    if (this.external) {
      const { gmsa, kdsUsable } = this.external;
      if (!gmsa || !eqi(gmsa.samAccountName, samOf(name))) return false;
      const byTicket = gmsa.principals.some((p) => eqi(p, h.computerSam) || h.ticketGroups.some((g) => eqi(g, p)));
      return byTicket && kdsUsable;
    }
    const dc = this.siteDc(h);
    const gmsa = dc ? this.gmsaBySam(dc, samOf(name)) : undefined;
    if (!gmsa) return false;
    const allowed = gmsa.principals.some((p) => eqi(p, h.computerSam) || h.ticketGroups.some((g) => eqi(g, p)));
    return allowed && this.state.kdsRootKeys.some((k) => kdsRootKeyUsable(k, this.now()));
  }

  // ─── events ───

  private log(op: string, target: string, detail?: string): void {
    this.logAt(this.now(), op, target, detail);
  }

  private logAt(at: number, op: string, target: string, detail?: string): void {
    const event: LabEvent = { at: new Date(at).toISOString(), op, target };
    if (detail !== undefined) event.detail = detail;
    this.state.events.push(event);
    this.dirty = true;
  }
}

// ───────────────────────────── pure helpers ─────────────────────────────

function initialState(topology: LabTopology, timeScale: number, now: number): LabState {
  const base = domainDn(topology.dnsRoot);
  const objects: LabObject[] = [];
  const guid = (sam: string) => deterministicGuid(`${topology.dnsRoot}/${sam.toLowerCase()}`);
  for (const user of topology.users) {
    objects.push({
      objectClass: 'user',
      objectGuid: guid(user),
      samAccountName: user,
      name: user,
      distinguishedName: `CN=${user},CN=Users,${base}`,
    });
  }
  // DCs live in OU=Domain Controllers, member servers in CN=Computers; both have computer accounts (`DC1$`).
  const computer = (hostName: string, container: string) => {
    const sam = computerSamFor(hostName);
    const name = sam.slice(0, -1);
    objects.push({
      objectClass: 'computer',
      objectGuid: guid(sam),
      samAccountName: sam,
      name,
      dnsHostName: hostName,
      distinguishedName: `CN=${name},${container},${base}`,
    });
  };
  for (const dc of topology.domainControllers) computer(dc.hostName, 'OU=Domain Controllers');
  for (const host of topology.hosts) computer(host.hostName, 'CN=Computers');
  for (const g of topology.groups) {
    objects.push({
      objectClass: 'group',
      objectGuid: guid(g.name),
      samAccountName: g.name,
      name: g.name,
      members: [...g.members],
      distinguishedName: `CN=${g.name},CN=Users,${base}`,
    });
  }
  const dcs: LabState['dcs'] = {};
  for (const dc of topology.domainControllers) {
    const replicas: DcState['objects'] = {};
    for (const o of objects) replicas[o.objectGuid] = { version: 0, changedAt: now, object: clone(o) };
    dcs[dc.hostName.toLowerCase()] = { hostName: dc.hostName, site: dc.site, writable: dc.writable, objects: replicas };
  }
  const hosts: LabState['hosts'] = {};
  for (const host of topology.hosts) {
    const sam = computerSamFor(host.hostName);
    hosts[host.hostName.toLowerCase()] = {
      hostName: host.hostName,
      site: host.site,
      computerSam: sam,
      psVersion: '5.1',
      disableRunAs: false,
      sessionConfigurations: [],
      ticketGroups: topology.groups
        .filter((g) => g.members.some((m) => eqi(m, sam)))
        .map((g) => g.name)
        .sort(byName),
      job: null,
      winrmRestart: null,
    };
  }
  return {
    schema: 1,
    createdAt: now,
    timeScale,
    topology: clone(topology),
    nextVersion: 1,
    nextFaultSeq: 1,
    dcs,
    deliveries: [],
    kdsRootKeys:
      topology.kdsRootKeyAgeMs === null
        ? []
        : [
            {
              keyId: deterministicGuid(`${topology.dnsRoot}/kds`),
              effectiveTime: new Date(now - topology.kdsRootKeyAgeMs).toISOString(),
            },
          ],
    hosts,
    faults: [],
    events: [],
  };
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** `LAB\svc$` → ['LAB', 'svc$']; `svc` → [null, 'svc']. */
function splitAccount(account: string): [string | null, string] {
  const i = account.indexOf('\\');
  return i < 0 ? [null, account.trim()] : [account.slice(0, i).trim(), account.slice(i + 1).trim()];
}

function accountPart(account: string): string {
  return splitAccount(account)[1];
}

/** A gMSA's sAMAccountName from its name, with or without `$` or domain. */
function samOf(name: string): string {
  return `${accountPart(name).replace(/\$$/, '')}$`;
}

function validateSam(name: string, sam: string): void {
  if (name.length === 0 || BAD_SAM_CHARS.test(name)) {
    throw new BackendError(
      FailureType.RequestInvalid,
      `The name provided is not a properly formed account name: '${name}'`,
    );
  }
  if (sam.length > MAX_SAM_LENGTH) {
    throw new BackendError(
      FailureType.RequestInvalid,
      `The service account has a samAccountName attribute of '${sam}' which is too long; the samAccountName ` +
        `attribute must not be longer than ${MAX_SAM_LENGTH} characters`,
    );
  }
}

function notFound(identity: string, dnsRoot: string): BackendError {
  return new BackendError(
    FailureType.ObjectNotFound,
    `Cannot find an object with identity: '${identity}' under: '${domainDn(dnsRoot)}'.`,
    { identity },
  );
}

function findEndpoint(h: HostState, name: string): RegisteredSessionConfiguration | undefined {
  return h.sessionConfigurations.find((s) => eqi(s.name, name));
}

function toRef(o: LabObject): DirectoryObjectRef {
  return {
    objectGuid: o.objectGuid,
    objectClass: o.objectClass,
    samAccountName: o.samAccountName,
    distinguishedName: o.distinguishedName,
  };
}

function toServiceAccount(o: LabGmsaObject): ServiceAccount {
  return {
    ...toRef(o),
    objectClass: 'msDS-GroupManagedServiceAccount',
    name: o.name,
    dnsHostName: o.dnsHostName,
    description: o.description,
    principals: [...o.principals],
    kerberosEncryptionTypes: [...o.kerberosEncryptionTypes],
    managedPasswordIntervalInDays: o.managedPasswordIntervalInDays,
  };
}

function comparableObject(o: LabObject): ComparableObject {
  const rest = clone(o) as ComparableObject & { objectGuid?: string };
  delete rest.objectGuid;
  if (rest.objectClass === 'group') rest.members.sort((a, b) => byName(a.toLowerCase(), b.toLowerCase()));
  if (rest.objectClass === 'msDS-GroupManagedServiceAccount') {
    rest.principals.sort((a, b) => byName(a.toLowerCase(), b.toLowerCase()));
  }
  return rest;
}
