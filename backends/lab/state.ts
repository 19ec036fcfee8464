/**
 * The lab's persisted state: plain JSON, absolute timestamps (ms since epoch), so a lab process started on the
 * same file later continues where the last one stopped and pending replication still arrives on time.
 */
import type { KdsRootKey } from '../../runbook/kds';
import type { SessionConfigurationFile } from '../../runbook/session-configuration';
import type { RegisteredSessionConfiguration } from '../ports';
import type { LabFault } from './faults';
import type { LabTopology } from './topology';

interface BaseObject {
  objectGuid: string;
  samAccountName: string;
  distinguishedName: string;
  name: string;
}

export type LabObject =
  | (BaseObject & { objectClass: 'user' })
  | (BaseObject & { objectClass: 'computer'; dnsHostName: string })
  | (BaseObject & { objectClass: 'group'; members: string[] })
  | (BaseObject & {
      objectClass: 'msDS-GroupManagedServiceAccount';
      dnsHostName: string;
      description: string | null;
      principals: string[];
      kerberosEncryptionTypes: string[];
      managedPasswordIntervalInDays: number;
    });

export type LabGmsaObject = Extract<LabObject, { objectClass: 'msDS-GroupManagedServiceAccount' }>;
export type LabGroupObject = Extract<LabObject, { objectClass: 'group' }>;

/**
 * One DC's copy of one object. `object: null` is a tombstone: it must stay so that a late delivery of an older
 * version cannot bring a deleted object back.
 */
export interface Replica {
  version: number;
  changedAt: number;
  object: LabObject | null;
}

export interface DcState {
  hostName: string;
  site: string;
  writable: boolean;
  /** By objectGuid. */
  objects: Record<string, Replica>;
}

/** A change on its way from one DC to another; applied once `at` has passed and the destination accepts it. */
export interface Delivery {
  from: string;
  to: string;
  guid: string;
  version: number;
  at: number;
  object: LabObject | null;
}

export type HostJob =
  | { kind: 'register'; configuration: SessionConfigurationFile; startedAt: number; completesAt: number }
  | { kind: 'unregister'; name: string; startedAt: number; completesAt: number };

export interface HostState {
  hostName: string;
  site: string;
  computerSam: string;
  psVersion: string;
  disableRunAs: boolean;
  /** A list, not a map: endpoint names come from callers and must never become object keys. */
  sessionConfigurations: RegisteredSessionConfiguration[];
  /** Groups in the computer's current TGT: set at lab creation and at each purge, never by group changes alone. */
  ticketGroups: string[];
  job: HostJob | null;
  /** WinRM is restarting in [from, until). */
  winrmRestart: { from: number; until: number } | null;
}

export interface LabEvent {
  at: string;
  op: string;
  target: string;
  detail?: string;
}

export interface LabState {
  schema: 1;
  createdAt: number;
  timeScale: number;
  topology: LabTopology;
  nextVersion: number;
  nextFaultSeq: number;
  /** By DC host name (lower case). */
  dcs: Record<string, DcState>;
  deliveries: Delivery[];
  kdsRootKeys: KdsRootKey[];
  /** By host name (lower case). */
  hosts: Record<string, HostState>;
  faults: LabFault[];
  events: LabEvent[];
}

/** Where the model keeps its state between processes (store.ts); absent = in memory only. */
export interface LabStateStore {
  load(): LabState | null;
  save(state: LabState): void;
}
