/**
 * The session configuration (.pssc) as a typed object. It is built from a validated request, never from user
 * text: the powershell backend renders it to a .pssc file, the lab stores it as is.
 */
import type { EndpointSpec } from './request';

/** The function every endpoint exposes so that verification works in a NoLanguage session (domain.md §0.8). */
export const IDENTITY_PROBE_FUNCTION = 'Get-GmsaRunbookIdentity';
/** Its body runs in the system default language mode, so it may use .NET. */
export const IDENTITY_PROBE_BODY = '[System.Security.Principal.WindowsIdentity]::GetCurrent().Name';

export interface SessionConfigurationFile {
  /** The endpoint name it is registered under (not a pssc key; used by Register-PSSessionConfiguration -Name). */
  name: string;
  schemaVersion: '2.0.0.0';
  sessionType: EndpointSpec['sessionType'];
  /** `DOMAIN\name` without the trailing `$`; never together with RunAsVirtualAccount. */
  groupManagedServiceAccount: string;
  roleDefinitions: Record<string, { roleCapabilities: string[] }>;
  transcriptDirectory: string;
  /** Carries the run's mark so that rollback removes only what this run registered. */
  description: string;
  visibleFunctions: string[];
  functionDefinitions: { name: string; scriptBlock: string }[];
  /** The request allowed a session type other than RestrictedRemoteServer (the pssc lint checks it). */
  allowUnrestrictedSessionType?: boolean;
}

export function buildSessionConfiguration(args: {
  endpoint: EndpointSpec;
  domainNetbios: string;
  gmsaName: string;
  mark: string;
}): SessionConfigurationFile {
  return {
    name: args.endpoint.name,
    schemaVersion: '2.0.0.0',
    sessionType: args.endpoint.sessionType,
    groupManagedServiceAccount: `${args.domainNetbios}\\${args.gmsaName}`,
    roleDefinitions: args.endpoint.roleDefinitions,
    transcriptDirectory: args.endpoint.transcriptDirectory,
    description: `Managed by gmsa-runbooks ${args.mark}`,
    visibleFunctions: [IDENTITY_PROBE_FUNCTION],
    functionDefinitions: [{ name: IDENTITY_PROBE_FUNCTION, scriptBlock: IDENTITY_PROBE_BODY }],
    allowUnrestrictedSessionType: args.endpoint.allowUnrestrictedSessionType,
  };
}

/** Compare gMSA names as Windows shows them: `LAB\svc$` and `lab\svc` are the same account (domain.md §1.9 #9). */
export function sameAccount(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const norm = (s: string) => s.trim().replace(/\$$/, '').toLowerCase();
  return norm(a) === norm(b);
}
