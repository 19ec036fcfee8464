/**
 * The lab over HTTP: a Backend (kind 'lab') for the activities, and LabAdminClient for tests and the CLI.
 * Error JSON becomes a BackendError of the same type, so retry decisions are made exactly as against a real
 * domain; a lab that cannot be reached (refused, timed out, garbage) is BackendUnavailable, which is retryable.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { FailureType, isFailureType } from '../../runbook/failures';
import type { KdsRootKey } from '../../runbook/kds';
import type { SessionConfigurationFile } from '../../runbook/session-configuration';
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
import type { LabFault, LabFaultSpec } from './faults';
import type { ComparableState, SeedServiceAccount } from './model';
import type { LabEvent, LabState } from './state';

export interface LabClientOptions {
  /** Per request; default 30 s (longer than any scaled latency or injected hang a test should use). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

interface ErrorBody {
  error?: { type?: unknown; message?: unknown; details?: unknown };
  result?: unknown;
}

/**
 * Kept-alive connections, one pool per protocol for the whole process. A worker makes a lab call for nearly every
 * step; over a pooled socket a call costs about a third of what fetch() costs (its per-request setup dominates on
 * loopback), in wall time and in the worker's CPU. Idle sockets are closed after 4 s, before the lab server's own
 * 5 s keep-alive timeout, so a request is not sent on a socket the server is closing; idle sockets never keep a
 * process alive (the agent unrefs them).
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4_000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4_000 }),
};

/** Status and body text of one HTTP exchange; rejects on a transport error or after `timeoutMs`. */
function exchange(url: URL, method: string, body: string | undefined, timeoutMs: number) {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method,
        agent: url.protocol === 'https:' ? agents['https:'] : agents['http:'],
        headers:
          body === undefined
            ? undefined
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new LabTimeout()), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(body);
  });
}

class LabTimeout extends Error {
  override name = 'TimeoutError';
}

/** One JSON request to the lab; every failure comes back as a BackendError. */
async function request<T>(baseUrl: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  const url = `${baseUrl.replace(/\/+$/, '')}${path}`;
  let res: { status: number; text: string };
  try {
    res = await exchange(new URL(url), method, body === undefined ? undefined : JSON.stringify(body), timeoutMs);
  } catch (err) {
    const timedOut = err instanceof LabTimeout;
    const cause = !timedOut && err instanceof Error ? `: ${err.message}` : '';
    const what = timedOut ? `timed out after ${timeoutMs} ms` : 'unreachable';
    throw new BackendError(FailureType.BackendUnavailable, `Lab at ${baseUrl} ${what} (${method} ${path})${cause}`, {
      url,
    });
  }
  let parsed: ErrorBody;
  try {
    parsed = JSON.parse(res.text) as ErrorBody;
  } catch {
    throw new BackendError(
      FailureType.BackendUnavailable,
      `Lab answered ${res.status} without JSON (${method} ${path})`,
    );
  }
  if (res.status >= 200 && res.status < 300) return (parsed.result ?? null) as T;
  const e = parsed.error;
  const type = e && isFailureType(e.type) ? e.type : FailureType.BackendUnavailable;
  const message = e && typeof e.message === 'string' ? e.message : `Lab answered ${res.status} (${method} ${path})`;
  const details =
    e && typeof e.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : undefined;
  throw new BackendError(type, message, details);
}

class LabDirectory implements DirectoryPort {
  constructor(private readonly call: <T>(port: string, method: string, args: unknown[]) => Promise<T>) {}

  private rpc<T>(method: keyof DirectoryPort, ...args: unknown[]): Promise<T> {
    return this.call<T>('directory', method, args);
  }

  getKdsRootKeys(dc: string): Promise<KdsRootKey[]> {
    return this.rpc('getKdsRootKeys', dc);
  }
  listDomainControllers(): Promise<DomainController[]> {
    return this.rpc('listDomainControllers');
  }
  findAccountsNamed(dc: string, name: string): Promise<DirectoryObjectRef[]> {
    return this.rpc('findAccountsNamed', dc, name);
  }
  getServiceAccount(dc: string, name: string): Promise<ServiceAccount | null> {
    return this.rpc('getServiceAccount', dc, name);
  }
  createServiceAccount(dc: string, spec: NewServiceAccount): Promise<ServiceAccount> {
    return this.rpc('createServiceAccount', dc, spec);
  }
  async removeServiceAccount(dc: string, objectGuid: string): Promise<void> {
    await this.rpc('removeServiceAccount', dc, objectGuid);
  }
  setServiceAccountPrincipals(dc: string, objectGuid: string, principals: string[]): Promise<ServiceAccount> {
    return this.rpc('setServiceAccountPrincipals', dc, objectGuid, principals);
  }
  getComputer(dc: string, hostName: string): Promise<ComputerAccount | null> {
    return this.rpc('getComputer', dc, hostName);
  }
  getGroupMembers(dc: string, group: string): Promise<string[]> {
    return this.rpc('getGroupMembers', dc, group);
  }
  async addGroupMember(dc: string, group: string, member: string): Promise<void> {
    await this.rpc('addGroupMember', dc, group, member);
  }
  async removeGroupMember(dc: string, group: string, member: string): Promise<void> {
    await this.rpc('removeGroupMember', dc, group, member);
  }
  async syncObject(sourceDc: string, destinationDc: string, objectGuid: string): Promise<void> {
    await this.rpc('syncObject', sourceDc, destinationDc, objectGuid);
  }
}

class LabHosts implements HostPort {
  constructor(private readonly call: <T>(port: string, method: string, args: unknown[]) => Promise<T>) {}

  private rpc<T>(method: keyof HostPort, ...args: unknown[]): Promise<T> {
    return this.call<T>('hosts', method, args);
  }

  probeHost(host: string): Promise<HostFacts> {
    return this.rpc('probeHost', host);
  }
  testServiceAccount(host: string, gmsaName: string): Promise<boolean> {
    return this.rpc('testServiceAccount', host, gmsaName);
  }
  async purgeKerberosTickets(host: string): Promise<void> {
    await this.rpc('purgeKerberosTickets', host);
  }
  getSessionConfiguration(host: string, name: string): Promise<RegisteredSessionConfiguration | null> {
    return this.rpc('getSessionConfiguration', host, name);
  }
  async startRegistration(host: string, configuration: SessionConfigurationFile): Promise<void> {
    await this.rpc('startRegistration', host, configuration);
  }
  async startUnregistration(host: string, name: string): Promise<void> {
    await this.rpc('startUnregistration', host, name);
  }
  invokeIdentityProbe(host: string, endpoint: string, probeFunction: string): Promise<string> {
    return this.rpc('invokeIdentityProbe', host, endpoint, probeFunction);
  }
}

/** The lab as the activities' Backend. Stateless over HTTP: nothing to close. */
export function createLabBackend(url: string, opts: LabClientOptions = {}): Backend {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const call = <T>(port: string, method: string, args: unknown[]): Promise<T> =>
    request<T>(url, 'POST', `/rpc/${port}/${method}`, { args }, timeoutMs);
  return {
    kind: 'lab',
    directory: new LabDirectory(call),
    hosts: new LabHosts(call),
  };
}

/** Typed access to the lab's /admin routes (tests, the demo CLI). Errors are BackendErrors like the ports'. */
export class LabAdminClient {
  private readonly timeoutMs: number;

  constructor(
    readonly url: string,
    opts: LabClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private req<T>(method: string, path: string, body?: unknown): Promise<T> {
    return request<T>(this.url, method, path, body, this.timeoutMs);
  }

  healthy(): Promise<{ ok: boolean }> {
    return this.req('GET', '/healthz');
  }
  state(): Promise<LabState> {
    return this.req('GET', '/admin/state');
  }
  comparableState(): Promise<ComparableState> {
    return this.req('GET', '/admin/comparable-state');
  }
  events(): Promise<LabEvent[]> {
    return this.req('GET', '/admin/events');
  }
  async reset(): Promise<void> {
    await this.req('POST', '/admin/reset');
  }
  /** Returns the fault's id (for removeFault). */
  async addFault(fault: LabFaultSpec): Promise<string> {
    return (await this.req<{ id: string }>('POST', '/admin/faults', fault)).id;
  }
  listFaults(): Promise<LabFault[]> {
    return this.req('GET', '/admin/faults');
  }
  async clearFaults(): Promise<void> {
    await this.req('DELETE', '/admin/faults');
  }
  async removeFault(id: string): Promise<void> {
    await this.req('DELETE', `/admin/faults/${encodeURIComponent(id)}`);
  }
  /** Replace the KDS root keys with one effective at `effectiveTime` (`append` keeps the others). */
  setKdsRootKey(effectiveTime: string | Date, opts: { append?: boolean } = {}): Promise<KdsRootKey> {
    const iso = effectiveTime instanceof Date ? effectiveTime.toISOString() : effectiveTime;
    return this.req('POST', '/admin/kds-root-keys', { effectiveTime: iso, append: opts.append ?? false });
  }
  async clearKdsRootKeys(): Promise<void> {
    await this.req('DELETE', '/admin/kds-root-keys');
  }
  seedServiceAccount(seed: SeedServiceAccount): Promise<ServiceAccount> {
    return this.req('POST', '/admin/seed/service-account', seed);
  }
  seedUser(seed: { dc?: string; name: string }): Promise<DirectoryObjectRef> {
    return this.req('POST', '/admin/seed/user', seed);
  }
  /** Returns how many pending deliveries were applied. */
  async replicateNow(): Promise<number> {
    return (await this.req<{ applied: number }>('POST', '/admin/replicate-now')).applied;
  }
}
