/**
 * The RPC surface: every DirectoryPort/HostPort method, its argument tuple validated with zod (the lab is a
 * service; it must not trust what arrives), mapped onto the synchronous LabDomain method of the same name.
 * Typed against the port interfaces so a method added to a port without a lab route fails to compile.
 */
import { z } from 'zod';
import { SESSION_TYPES } from '../../runbook/request';
import type { DirectoryPort, HostPort } from '../ports';
import type { LabDomain } from './model';

export type RpcHandler = (domain: LabDomain, args: unknown) => unknown;

function method<A extends unknown[]>(schema: z.ZodType<A>, call: (domain: LabDomain, args: A) => unknown): RpcHandler {
  return (domain, args) => call(domain, schema.parse(args));
}

const name = z.string().min(1);

const NewServiceAccountSchema = z.object({
  name: z.string(),
  dnsHostName: z.string(),
  description: z.string(),
  principals: z.array(z.string()),
  kerberosEncryptionTypes: z.array(z.string()),
  managedPasswordIntervalInDays: z.number().int().positive(),
});

const SessionConfigurationFileSchema = z.object({
  name,
  schemaVersion: z.literal('2.0.0.0'),
  sessionType: z.enum(SESSION_TYPES),
  groupManagedServiceAccount: z.string(),
  roleDefinitions: z.record(z.string(), z.object({ roleCapabilities: z.array(z.string()) })),
  transcriptDirectory: z.string(),
  description: z.string(),
  visibleFunctions: z.array(z.string()),
  functionDefinitions: z.array(z.object({ name: z.string(), scriptBlock: z.string() })),
  allowUnrestrictedSessionType: z.boolean().optional(),
});

export const directoryRpc: Record<keyof DirectoryPort, RpcHandler> = {
  getKdsRootKeys: method(z.tuple([name]), (d, [dc]) => d.getKdsRootKeys(dc)),
  listDomainControllers: method(z.tuple([]), (d) => d.listDomainControllers()),
  findAccountsNamed: method(z.tuple([name, name]), (d, [dc, n]) => d.findAccountsNamed(dc, n)),
  getServiceAccount: method(z.tuple([name, name]), (d, [dc, n]) => d.getServiceAccount(dc, n)),
  createServiceAccount: method(z.tuple([name, NewServiceAccountSchema]), (d, [dc, spec]) =>
    d.createServiceAccount(dc, spec),
  ),
  removeServiceAccount: method(z.tuple([name, name]), (d, [dc, guid]) => d.removeServiceAccount(dc, guid)),
  setServiceAccountPrincipals: method(z.tuple([name, name, z.array(z.string())]), (d, [dc, guid, p]) =>
    d.setServiceAccountPrincipals(dc, guid, p),
  ),
  getComputer: method(z.tuple([name, name]), (d, [dc, host]) => d.getComputer(dc, host)),
  getGroupMembers: method(z.tuple([name, name]), (d, [dc, g]) => d.getGroupMembers(dc, g)),
  addGroupMember: method(z.tuple([name, name, name]), (d, [dc, g, m]) => d.addGroupMember(dc, g, m)),
  removeGroupMember: method(z.tuple([name, name, name]), (d, [dc, g, m]) => d.removeGroupMember(dc, g, m)),
  syncObject: method(z.tuple([name, name, name]), (d, [s, t, guid]) => d.syncObject(s, t, guid)),
};

export const hostRpc: Record<keyof HostPort, RpcHandler> = {
  probeHost: method(z.tuple([name]), (d, [h]) => d.probeHost(h)),
  testServiceAccount: method(z.tuple([name, name]), (d, [h, g]) => d.testServiceAccount(h, g)),
  purgeKerberosTickets: method(z.tuple([name]), (d, [h]) => d.purgeKerberosTickets(h)),
  getSessionConfiguration: method(z.tuple([name, name]), (d, [h, n]) => d.getSessionConfiguration(h, n)),
  startRegistration: method(z.tuple([name, SessionConfigurationFileSchema]), (d, [h, c]) => d.startRegistration(h, c)),
  startUnregistration: method(z.tuple([name, name]), (d, [h, n]) => d.startUnregistration(h, n)),
  invokeIdentityProbe: method(z.tuple([name, name, name]), (d, [h, e, f]) => d.invokeIdentityProbe(h, e, f)),
};

/** Own-property lookup only: `/rpc/directory/constructor` must be a 404, not a prototype method. */
export function rpcHandler(port: string, methodName: string): RpcHandler | undefined {
  const table: Record<string, RpcHandler> | undefined =
    port === 'directory' ? directoryRpc : port === 'hosts' ? hostRpc : undefined;
  return table && Object.prototype.hasOwnProperty.call(table, methodName) ? table[methodName] : undefined;
}
