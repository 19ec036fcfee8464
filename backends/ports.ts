/**
 * The world the activities act on, in the language of the domain. Two halves: the directory (AD, reached through
 * one DC at a time) and the hosts (reached over WinRM). Implementations: backends/lab (the embedded simulated
 * domain) and backends/powershell (a real Windows domain). Backends know nothing about Temporal.
 *
 * Every method either returns what it says or throws a BackendError whose type is a FailureType.
 * Reads name the DC they ask (`dc`), because after a write each DC has its own view until replication.
 */
import type { KdsRootKey } from '../runbook/kds';
import type { SessionConfigurationFile } from '../runbook/session-configuration';

export interface DomainController {
  /** FQDN, like dc1.lab.local. */
  hostName: string;
  site: string;
  writable: boolean;
}

export type DirectoryObjectClass = 'user' | 'computer' | 'group' | 'msDS-GroupManagedServiceAccount';

export interface DirectoryObjectRef {
  objectGuid: string;
  objectClass: DirectoryObjectClass;
  /** Computers and gMSAs end with `$`. */
  samAccountName: string;
  distinguishedName: string;
}

export interface ServiceAccount extends DirectoryObjectRef {
  objectClass: 'msDS-GroupManagedServiceAccount';
  name: string;
  dnsHostName: string;
  description: string | null;
  /** PrincipalsAllowedToRetrieveManagedPassword as sAMAccountNames (`SERVER1$`, `gmsa-hosts`). */
  principals: string[];
  kerberosEncryptionTypes: string[];
  managedPasswordIntervalInDays: number;
}

export interface NewServiceAccount {
  name: string;
  dnsHostName: string;
  description: string;
  principals: string[];
  kerberosEncryptionTypes: string[];
  managedPasswordIntervalInDays: number;
}

export interface ComputerAccount extends DirectoryObjectRef {
  objectClass: 'computer';
  dnsHostName: string;
}

export interface DirectoryPort {
  /** Root keys in CN=Master Root Keys (Get-KdsRootKey). */
  getKdsRootKeys(dc: string): Promise<KdsRootKey[]>;
  /** Every DC of the domain with its site (Get-ADDomainController -Filter *). */
  listDomainControllers(): Promise<DomainController[]>;
  /**
   * Objects anywhere in the forest whose sAMAccountName is `name` or `name$` (a user `x` next to a gMSA `x$`
   * makes lookups ambiguous): the forest-wide uniqueness check.
   */
  findAccountsNamed(dc: string, name: string): Promise<DirectoryObjectRef[]>;
  /** The gMSA named `name` (sAMAccountName `name$`) as `dc` sees it, or null. */
  getServiceAccount(dc: string, name: string): Promise<ServiceAccount | null>;
  /** New-ADServiceAccount -Server dc. Throws GmsaNameConflict, KdsRootKeyMissing, AccessDenied, ServerDown. */
  createServiceAccount(dc: string, spec: NewServiceAccount): Promise<ServiceAccount>;
  /** Remove-ADServiceAccount by objectGUID. Throws ObjectNotFound when it is not there. */
  removeServiceAccount(dc: string, objectGuid: string): Promise<void>;
  /** Set-ADServiceAccount -PrincipalsAllowedToRetrieveManagedPassword: replaces the whole list. */
  setServiceAccountPrincipals(dc: string, objectGuid: string, principals: string[]): Promise<ServiceAccount>;
  /** The computer account of a host, by DNS host name, or null. */
  getComputer(dc: string, hostName: string): Promise<ComputerAccount | null>;
  /** Members of a group as sAMAccountNames. Throws ObjectNotFound when the group does not exist. */
  getGroupMembers(dc: string, group: string): Promise<string[]>;
  addGroupMember(dc: string, group: string, member: string): Promise<void>;
  removeGroupMember(dc: string, group: string, member: string): Promise<void>;
  /** Sync-ADObject: replicate one object from source to destination now. */
  syncObject(sourceDc: string, destinationDc: string, objectGuid: string): Promise<void>;
}

export interface HostFacts {
  hostName: string;
  domainJoined: boolean;
  /** DNS name of the domain the host is joined to. */
  domain: string | null;
  site: string;
  winrmRunning: boolean;
  /** HKLM\SOFTWARE\Policies\Microsoft\Windows\WinRM\Service\DisableRunAs = 1 (STIG V-73603). */
  disableRunAs: boolean;
  psVersion: string;
}

/** What Get-PSSessionConfiguration shows of a registered endpoint. */
export interface RegisteredSessionConfiguration {
  name: string;
  /** As Windows returns it, usually with a trailing `$`; null when the endpoint has no gMSA. */
  groupManagedServiceAccount: string | null;
  runAsVirtualAccount: boolean;
  sessionType: string;
  description: string | null;
  roleDefinitions: Record<string, { roleCapabilities: string[] }>;
  transcriptDirectory: string | null;
  visibleFunctions: string[];
}

export interface HostPort {
  /** Reach the host over WinRM and read the facts preflight needs. Throws HostUnreachable. */
  probeHost(host: string): Promise<HostFacts>;
  /** Test-ADServiceAccount on the host: can it retrieve the gMSA's password now? */
  testServiceAccount(host: string, gmsaName: string): Promise<boolean>;
  /** `klist -li 0x3e7 purge`: the computer gets a new TGT with its current group memberships. */
  purgeKerberosTickets(host: string): Promise<void>;
  /** Get-PSSessionConfiguration -Name, or null when there is none. */
  getSessionConfiguration(host: string, name: string): Promise<RegisteredSessionConfiguration | null>;
  /**
   * Start Register-PSSessionConfiguration -Path -Name -Force detached on the host (it restarts WinRM and drops
   * the caller's session). Returns once the host accepted the job; poll getSessionConfiguration for the result.
   * Throws RegistrationInProgress while another registration runs on the host.
   */
  startRegistration(host: string, configuration: SessionConfigurationFile): Promise<void>;
  /** Start Unregister-PSSessionConfiguration -Name -Force detached; also restarts WinRM. */
  startUnregistration(host: string, name: string): Promise<void>;
  /**
   * Invoke-Command -ComputerName host -ConfigurationName endpoint { probe }: the identity the session runs as,
   * like `LAB\svc-remote$`. Throws IdentityProbeMissing when the endpoint does not expose the probe.
   */
  invokeIdentityProbe(host: string, endpoint: string, probeFunction: string): Promise<string>;
}

export interface Backend {
  /** lab: all simulated; hybrid: real directory (LDAPS) + lab hosts; powershell: a real Windows domain. */
  readonly kind: 'lab' | 'hybrid' | 'powershell';
  readonly directory: DirectoryPort;
  readonly hosts: HostPort;
  close?(): Promise<void>;
}
