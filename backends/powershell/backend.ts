/**
 * The backend for a real Windows domain: every operation is a fixed script (scripts/*.ps1) run through a fresh
 * PowerShell per call, with its values as data, its answer parsed with zod and its errors classified from the
 * error record. AD cmdlets are pinned to the DC the caller names (-Server); host operations go over WinRM with
 * Kerberos from the management host the worker runs on.
 */
import { z } from 'zod';
import { BackendError } from '../errors';
import type {
  Backend,
  ComputerAccount,
  DirectoryObjectRef,
  DirectoryPort,
  DomainController,
  HostFacts,
  HostPort,
  NewServiceAccount,
  RegisteredSessionConfiguration,
  ServiceAccount,
} from '../ports';
import { FailureType } from '../../runbook/failures';
import type { KdsRootKey } from '../../runbook/kds';
import type { SessionConfigurationFile } from '../../runbook/session-configuration';
import { toBackendErrorFromRecord } from './classify';
import type { ScriptOutcome } from './protocol';
import { lintSessionConfiguration, renderPssc } from './pssc';

/** What runs a script: the node-powershell runner in production, a fake in tests. */
export interface ScriptRunner {
  run(script: string, payload: unknown): Promise<ScriptOutcome>;
}

/** Windows PowerShell 5.1's ConvertTo-Json unwraps one-element arrays in some places: accept both. */
const arrayOf = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess(
    (v: unknown): unknown[] => (v === null || v === undefined ? [] : Array.isArray(v) ? (v as unknown[]) : [v]),
    z.array(item),
  );

const ObjectClass = z.enum(['user', 'computer', 'group', 'msDS-GroupManagedServiceAccount']);
const RefSchema = z.object({
  objectGuid: z.string(),
  objectClass: ObjectClass,
  samAccountName: z.string(),
  distinguishedName: z.string(),
});
const ServiceAccountSchema = RefSchema.extend({
  objectClass: z.literal('msDS-GroupManagedServiceAccount'),
  name: z.string(),
  dnsHostName: z
    .string()
    .nullable()
    .transform((v) => v ?? ''),
  description: z.string().nullable(),
  principals: arrayOf(z.string()),
  kerberosEncryptionTypes: arrayOf(z.string()),
  managedPasswordIntervalInDays: z.number(),
});
const ComputerSchema = RefSchema.extend({ objectClass: z.literal('computer'), dnsHostName: z.string() });
const KdsKeySchema = z.object({ keyId: z.string(), effectiveTime: z.string() });
const DcSchema = z.object({ hostName: z.string(), site: z.string(), writable: z.boolean() });
const HostFactsSchema = z.object({
  hostName: z.string(),
  domainJoined: z.boolean(),
  domain: z.string().nullable(),
  site: z.string(),
  winrmRunning: z.boolean(),
  disableRunAs: z.boolean(),
  psVersion: z.string(),
});
const RegisteredSchema = z.object({
  name: z.string(),
  groupManagedServiceAccount: z.string().nullable(),
  runAsVirtualAccount: z.boolean(),
  sessionType: z.string(),
  description: z.string().nullable(),
  roleDefinitions: z.record(z.string(), z.object({ roleCapabilities: arrayOf(z.string()) })).default({}),
  transcriptDirectory: z.string().nullable(),
  visibleFunctions: arrayOf(z.string()),
});

export class PowerShellBackend implements Backend {
  readonly kind = 'powershell' as const;
  readonly directory: DirectoryPort;
  readonly hosts: HostPort;

  constructor(private readonly runner: ScriptRunner) {
    this.directory = this.createDirectory();
    this.hosts = this.createHosts();
  }

  /** Run one script and hand back its validated answer, or the classified failure. */
  private async call<T extends z.ZodTypeAny>(script: string, payload: unknown, schema: T): Promise<z.output<T>> {
    const outcome = await this.runner.run(script, payload);
    if (outcome.kind === 'error') throw toBackendErrorFromRecord(outcome.record, script.replace(/\.ps1$/, ''));
    if (outcome.kind === 'missing') {
      throw new BackendError(FailureType.BackendUnavailable, `${script} printed no result line: ${outcome.output}`);
    }
    const parsed = schema.safeParse(outcome.value);
    if (!parsed.success) {
      throw new BackendError(
        FailureType.BackendUnavailable,
        `${script} answered in an unexpected shape: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  }

  private createDirectory(): DirectoryPort {
    return {
      getKdsRootKeys: (dc): Promise<KdsRootKey[]> => this.call('Get-KdsRootKeys.ps1', { dc }, arrayOf(KdsKeySchema)),
      listDomainControllers: (): Promise<DomainController[]> =>
        this.call('Get-DomainControllers.ps1', {}, arrayOf(DcSchema)),
      findAccountsNamed: (dc, name): Promise<DirectoryObjectRef[]> =>
        this.call('Find-AccountsNamed.ps1', { dc, name }, arrayOf(RefSchema)),
      getServiceAccount: (dc, name): Promise<ServiceAccount | null> =>
        this.call('Get-ServiceAccount.ps1', { dc, name }, ServiceAccountSchema.nullable()),
      createServiceAccount: (dc, spec: NewServiceAccount): Promise<ServiceAccount> =>
        this.call('New-ServiceAccount.ps1', { dc, spec }, ServiceAccountSchema),
      removeServiceAccount: async (dc, objectGuid) => {
        await this.call('Remove-ServiceAccount.ps1', { dc, objectGuid }, z.boolean());
      },
      setServiceAccountPrincipals: (dc, objectGuid, principals): Promise<ServiceAccount> =>
        this.call('Set-ServiceAccountPrincipals.ps1', { dc, objectGuid, principals }, ServiceAccountSchema),
      getComputer: (dc, hostName): Promise<ComputerAccount | null> =>
        this.call('Get-Computer.ps1', { dc, hostName }, ComputerSchema.nullable()),
      getGroupMembers: (dc, group): Promise<string[]> =>
        this.call('Get-GroupMembers.ps1', { dc, group }, arrayOf(z.string())),
      addGroupMember: async (dc, group, member) => {
        await this.call('Add-GroupMember.ps1', { dc, group, member }, z.boolean());
      },
      removeGroupMember: async (dc, group, member) => {
        await this.call('Remove-GroupMember.ps1', { dc, group, member }, z.boolean());
      },
      syncObject: async (sourceDc, destinationDc, objectGuid) => {
        await this.call('Sync-Object.ps1', { sourceDc, destinationDc, objectGuid }, z.boolean());
      },
    };
  }

  private createHosts(): HostPort {
    return {
      probeHost: (host): Promise<HostFacts> => this.call('Get-HostFacts.ps1', { host }, HostFactsSchema),
      testServiceAccount: (host, gmsaName): Promise<boolean> =>
        this.call('Test-ServiceAccount.ps1', { host, gmsaName }, z.boolean()),
      purgeKerberosTickets: async (host) => {
        await this.call('Clear-KerberosTickets.ps1', { host }, z.boolean());
      },
      getSessionConfiguration: (host, name): Promise<RegisteredSessionConfiguration | null> =>
        this.call('Get-SessionConfiguration.ps1', { host, name }, RegisteredSchema.nullable()),
      startRegistration: async (host, configuration: SessionConfigurationFile) => {
        const pssc = renderPssc(configuration);
        const problems = lintSessionConfiguration(configuration, pssc, {
          allowUnrestrictedSessionType: configuration.allowUnrestrictedSessionType ?? false,
        });
        if (problems.length > 0) {
          throw new BackendError(
            FailureType.RequestInvalid,
            `refusing to register ${configuration.name}: ${problems.map((p) => p.message).join('; ')}`,
            { problems },
          );
        }
        await this.call('Start-Registration.ps1', { host, name: configuration.name, pssc }, z.boolean());
      },
      startUnregistration: async (host, name) => {
        await this.call('Start-Unregistration.ps1', { host, name }, z.boolean());
      },
      invokeIdentityProbe: (host, endpoint, probeFunction): Promise<string> =>
        this.call('Invoke-IdentityProbe.ps1', { host, endpoint, probeFunction }, z.string()),
    };
  }
}
