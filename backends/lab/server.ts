/**
 * The lab as an HTTP service (node:http, JSON): the port methods under /rpc, admin controls under /admin.
 * All rules live in LabDomain; this layer parses, waits (per-call latency, WinRM hangs) and maps errors to
 * status codes: 503 for retryable failure types, 422 for the rest, 400 for malformed admin input.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { FailureType, isRetryableFailure } from '../../runbook/failures';
import { BackendError } from '../errors';
import type { DirectoryPort } from '../ports';
import { LabDomain, LabHangError } from './model';
import { fetchExternalFacts } from './external-directory';
import { rpcHandler } from './rpc';
import { LabFileStore } from './store';
import { DEFAULT_TIME_SCALE, type LabTopology } from './topology';

export interface LabServerOptions {
  stateFile: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 127.0.0.1: the lab has no authentication, so it listens on loopback unless told otherwise. */
  host?: string;
  /** Multiplies every real-world latency; default 0.02. */
  timeScale?: number;
  /** Only used when the state file does not exist yet (and for reset). */
  topology?: LabTopology;
  /**
   * Hybrid configuration: a real directory the hosts retrieve gMSA passwords from, instead of the lab's DCs.
   * The runbook then writes to that directory (the ldap backend) and only the hosts are simulated.
   */
  directory?: DirectoryPort;
}

/** Host calls whose outcome depends on what the host's DC says about the gMSA. */
const DIRECTORY_DEPENDENT_HOST_CALLS = new Set(['testServiceAccount', 'invokeIdentityProbe', 'purgeKerberosTickets']);

export interface LabServer {
  url: string;
  domain: LabDomain;
  close(): Promise<void>;
}

const BODY_LIMIT = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

// ─── admin bodies ───

const dateInput = z
  .union([z.string(), z.number()])
  .refine((v) => !Number.isNaN(new Date(v).getTime()), 'must be an ISO date or epoch milliseconds')
  .transform((v) => new Date(v).toISOString());

const KdsKeyBody = z.object({ effectiveTime: dateInput, append: z.boolean().optional() });
const SeedServiceAccountBody = z.object({
  dc: z.string().min(1).optional(),
  name: z.string().min(1),
  principals: z.array(z.string().min(1)),
  description: z.string().optional(),
});
const SeedUserBody = z.object({ dc: z.string().min(1).optional(), name: z.string().min(1) });
const RpcBody = z.object({ args: z.array(z.unknown()).default([]) });

function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}

export async function startLabServer(opts: LabServerOptions): Promise<LabServer> {
  const domain = new LabDomain({
    store: new LabFileStore(opts.stateFile),
    timeScale: opts.timeScale ?? DEFAULT_TIME_SCALE,
    topology: opts.topology,
  });
  // Cancels in-flight waits on close so a hung call does not keep the process (or jest) alive.
  const closing = new AbortController();
  const wait = async (ms: number): Promise<void> => {
    if (ms <= 0) return;
    await sleep(ms, undefined, { signal: closing.signal }).catch(() => undefined);
  };

  async function rpc(port: string, methodName: string, req: IncomingMessage): Promise<unknown> {
    const handler = rpcHandler(port, methodName);
    if (!handler) throw new HttpError(404, FailureType.RequestInvalid, `No such method: ${port}.${methodName}`);
    const body = RpcBody.safeParse((await readJson(req)) ?? {});
    if (!body.success) throw new HttpError(400, FailureType.RequestInvalid, zodMessage(body.error));
    await wait(domain.perCallLatencyMs());
    try {
      if (opts.directory && port === 'hosts' && DIRECTORY_DEPENDENT_HOST_CALLS.has(methodName)) {
        return await withRealDirectory(opts.directory, methodName, body.data.args, () =>
          handler(domain, body.data.args),
        );
      }
      return handler(domain, body.data.args);
    } catch (err) {
      if (err instanceof LabHangError) await wait(err.hangMs);
      if (err instanceof z.ZodError) {
        throw new BackendError(FailureType.RequestInvalid, `Invalid arguments for ${methodName}: ${zodMessage(err)}`);
      }
      throw err;
    }
  }

  async function withRealDirectory(
    directory: DirectoryPort,
    methodName: string,
    args: unknown[],
    call: () => unknown,
  ): Promise<unknown> {
    const [host, second] = args.map((a) => (typeof a === 'string' ? a : ''));
    const context = domain.hostDirectoryContext(host, methodName === 'invokeIdentityProbe' ? second : undefined);
    if (!context) return call(); // unknown host: the lab's own answer (HostUnreachable) is the right one
    const account =
      methodName === 'testServiceAccount'
        ? second
        : methodName === 'invokeIdentityProbe'
          ? context.endpointAccount
          : null;
    const facts = await fetchExternalFacts(directory, context, account);
    return domain.withExternalDirectory(facts, call);
  }

  async function admin(method: string, path: string, req: IncomingMessage): Promise<unknown> {
    const route = `${method} ${path}`;
    const parse = async <T>(schema: z.ZodType<T>): Promise<T> => {
      const r = schema.safeParse(await readJson(req));
      if (!r.success) throw new HttpError(400, FailureType.RequestInvalid, zodMessage(r.error));
      return r.data;
    };
    switch (route) {
      case 'GET /admin/state':
        return domain.snapshot();
      case 'GET /admin/comparable-state':
        return domain.comparableState();
      case 'GET /admin/events':
        return domain.events();
      case 'POST /admin/reset':
        domain.reset();
        return null;
      case 'GET /admin/faults':
        return domain.listFaults();
      case 'POST /admin/faults': {
        const body = await readJson(req);
        try {
          return { id: domain.addFault(body as Parameters<LabDomain['addFault']>[0]) };
        } catch (err) {
          if (err instanceof z.ZodError) throw new HttpError(400, FailureType.RequestInvalid, zodMessage(err));
          throw err;
        }
      }
      case 'DELETE /admin/faults':
        domain.clearFaults();
        return null;
      case 'POST /admin/kds-root-keys': {
        const body = await parse(KdsKeyBody);
        return domain.setKdsRootKey(body.effectiveTime, body.append ?? false);
      }
      case 'DELETE /admin/kds-root-keys':
        domain.clearKdsRootKeys();
        return null;
      case 'POST /admin/seed/service-account':
        return domain.seedServiceAccount(await parse(SeedServiceAccountBody));
      case 'POST /admin/seed/user':
        return domain.seedUser(await parse(SeedUserBody));
      case 'POST /admin/replicate-now':
        return { applied: domain.replicateNow() };
    }
    const faultId = /^\/admin\/faults\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && faultId) {
      const id = decodeURIComponent(faultId[1]);
      if (!domain.removeFault(id)) throw new HttpError(404, FailureType.ObjectNotFound, `No fault ${id}`);
      return { removed: id };
    }
    throw new HttpError(404, FailureType.RequestInvalid, `No such route: ${route}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://lab').pathname;
    try {
      let result: unknown;
      const rpcRoute = /^\/rpc\/(directory|hosts)\/([A-Za-z]+)$/.exec(path);
      if (method === 'GET' && path === '/healthz') result = { ok: true };
      else if (rpcRoute && method === 'POST') result = await rpc(rpcRoute[1], rpcRoute[2], req);
      else if (path.startsWith('/admin/')) result = await admin(method, path, req);
      else throw new HttpError(404, FailureType.RequestInvalid, `No such route: ${method} ${path}`);
      send(res, 200, { result: result === undefined ? null : result });
    } catch (err) {
      if (err instanceof HttpError) {
        send(res, err.status, { error: { type: err.type, message: err.message, details: err.details } });
      } else if (err instanceof BackendError) {
        const status = isRetryableFailure(err.type) ? 503 : 422;
        send(res, status, { error: { type: err.type, message: err.message, details: err.details } });
      } else {
        // A lab bug: report it as the backend failing, which the caller may retry.
        const message = err instanceof Error ? err.message : String(err);
        send(res, 500, { error: { type: FailureType.BackendUnavailable, message: `Lab internal error: ${message}` } });
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostForUrl}:${address.port}`,
    domain,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The JSON body (undefined when empty); over 1 MB → 413, not JSON → 400. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > BODY_LIMIT) throw new HttpError(413, FailureType.RequestInvalid, 'Request body exceeds 1 MB');
    chunks.push(buf);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, FailureType.RequestInvalid, 'Request body is not valid JSON');
  }
}
