/**
 * The webhook server: signed ticket deliveries in, runbook starts and approval decisions out.
 *
 * Every signed route does the same things in the same order, so no route can skip a check:
 *   body limit (413) → raw bytes read → signature on those bytes (401) → delivery id not seen before (401) →
 *   JSON → mapping → request schema (422, every field) → Temporal (202 new run / 200 same ticket already running).
 * A delivery id is claimed only after its signature checks out (an unsigned caller cannot burn a legitimate id)
 * and released again when Temporal could not be reached (503), so the sender's retry is not refused as a replay.
 *
 * One run per ticket is Temporal's job (workflow id `gmsa-provision-<ticket>`, USE_EXISTING); the per-ticket lock
 * here only makes the 202/200 answer exact for concurrent deliveries to this process.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/common';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { startProvisioning } from '../../client/start';
import { workflowUrl } from '../../client/ui-links';
import { printable, quoted } from '../../runbook/printable';
import {
  listedProblems,
  parseRunbookRequest,
  provisionWorkflowId,
  RunbookRequestError,
  TICKET_KEY_PATTERN,
  type RequestProblem,
} from '../../runbook/request';
import { approveUpdate, progressQuery, rejectUpdate, type ApprovalInput } from '../../workflows/definitions';
import { DecommissionTargetMissing, startDecommission, targetFromRun } from '../../client/decommission';
import { silentLogger, type Logger } from '../../observability/logger';
import { createWebhookMetrics } from '../../observability/webhook-metrics';
import type { WebhookConfig } from './config';
import { mapPayload, readPath, withSources, type SourcedProblem } from './mapping';
import {
  verifyHubSignature,
  verifyServiceNow,
  verifyStandardWebhook,
  verifyStaticToken,
  type Verdict,
} from './signatures';

export interface WebhookServerOptions {
  client: Client;
  namespace: string;
  taskQueue: string;
  /** Temporal UI base URL for deep links in answers; null when there is no UI. */
  uiUrl: string | null;
  config: WebhookConfig;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** JSON log lines (one per delivery, naming ticket, workflow, run and step); silent when omitted. */
  logger?: Logger;
}

export interface WebhookServer {
  url: string;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

/** What one request's log line says beside its status: filled in as the request is understood. */
interface DeliveryLog {
  source?: 'generic' | 'jira' | 'servicenow';
  /** start, approve, reject, decommission, ignore, status */
  step?: string;
  ticket?: string;
  workflowId?: string;
  runId?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(typeof body.error === 'string' ? body.error : `HTTP ${status}`);
  }
}

// ── Seen delivery ids ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Delivery ids seen recently, bounded in memory (expired first, then oldest) and optionally mirrored to a JSON file
 * written before the delivery is acted on, so a restart does not reopen the replay window.
 */
export class ReplayStore {
  private readonly seen = new Map<string, number>();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: { ttlSeconds: number; maxEntries: number; file?: string },
    private readonly now: () => number = Date.now,
  ) {
    if (opts.file) this.load(opts.file);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // first start: nothing seen yet
    }
    // A corrupt store must not silently reopen the window: refuse to start instead.
    const parsed = JSON.parse(text) as { entries?: Record<string, number> };
    const now = this.now();
    for (const [key, expires] of Object.entries(parsed.entries ?? {})) {
      if (typeof expires === 'number' && expires > now) this.seen.set(key, expires);
    }
  }

  /** True when `key` was not seen (and is now recorded); false for a replay. Synchronous: no interleaving. */
  claim(key: string): boolean {
    const now = this.now();
    const expires = this.seen.get(key);
    if (expires !== undefined && expires > now) return false;
    this.seen.delete(key);
    this.evict(now);
    this.seen.set(key, now + this.opts.ttlSeconds * 1000);
    return true;
  }

  /** Forget a claim whose delivery was not acted on (Temporal unavailable), so the sender's retry is accepted. */
  release(key: string): Promise<void> {
    this.seen.delete(key);
    return this.persist();
  }

  private evict(now: number): void {
    for (const [key, expires] of this.seen) if (expires <= now) this.seen.delete(key);
    // Maps iterate in insertion order: the first keys are the oldest.
    for (const key of this.seen.keys()) {
      if (this.seen.size < this.opts.maxEntries) break;
      this.seen.delete(key);
    }
  }

  /** Writes are serialised; each waits for a write that includes its own change. */
  persist(): Promise<void> {
    const file = this.opts.file;
    if (!file) return Promise.resolve();
    const write = this.writes.then(() => {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: 1, entries: Object.fromEntries(this.seen) }));
      renameSync(tmp, file); // atomic: a crash mid-write leaves the previous file, never half a file
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  get size(): number {
    return this.seen.size;
  }
}

// ── HTTP plumbing ─────────────────────────────────────────────────────────────────────────────────────────────────

function send(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The raw body, or 413 as soon as it is known to be too big (from Content-Length, or while streaming). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, { error: `body larger than ${limit} bytes` }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new HttpError(413, { error: `body larger than ${limit} bytes` }));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, { error: 'body is not JSON' });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ── What a delivery asks for ──────────────────────────────────────────────────────────────────────────────────────

type Action =
  | {
      kind: 'start';
      input: unknown;
      sources: Record<string, string>;
      system: 'jira' | 'servicenow' | 'generic';
      /** What the mapping itself could not do (a template it could not fill in). */
      problems?: SourcedProblem[];
    }
  | { kind: 'decide'; decision: 'approve' | 'reject'; ticketKey: string; approval: ApprovalInput }
  | { kind: 'decommission'; ticketKey: string; requestedBy: string }
  | { kind: 'ignore'; reason: string };

interface Verified {
  verdict: Verdict;
  /** The id to deduplicate on, when the scheme has one. */
  deliveryId?: string;
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const { client, config } = opts;
  const logger = opts.logger ?? silentLogger();
  const metrics = createWebhookMetrics();
  const replay = new ReplayStore({ ...config.replay, file: config.replayStoreFile });
  const ticketLocks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call for the same ticket has finished (in this process). */
  function withTicketLock<T>(ticket: string, fn: () => Promise<T>): Promise<T> {
    const previous = ticketLocks.get(ticket) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    ticketLocks.set(ticket, settled);
    void settled.then(() => {
      if (ticketLocks.get(ticket) === settled) ticketLocks.delete(ticket);
    });
    return next;
  }

  const runUrl = (workflowId: string, runId?: string) =>
    opts.uiUrl ? workflowUrl(opts.uiUrl, opts.namespace, workflowId, runId) : null;

  // ── sources ──

  function verifyGeneric(req: IncomingMessage, raw: Buffer): Verified {
    const generic = config.generic;
    if (!generic) throw new HttpError(404, { error: 'the generic webhook is not configured' });
    const id = header(req, 'webhook-id');
    const verdict = verifyStandardWebhook(
      generic.secret,
      { id, timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') },
      raw,
      { toleranceSeconds: generic.toleranceSeconds },
    );
    return { verdict, deliveryId: id };
  }

  function interpretGeneric(payload: unknown): Action {
    // Either the request itself or { request: {...} } (room for envelope fields later).
    const body = isRecord(payload) && isRecord(payload.request) ? payload.request : payload;
    return { kind: 'start', input: body, sources: {}, system: 'generic' };
  }

  function verifyJira(req: IncomingMessage, raw: Buffer): Verified {
    const jira = config.jira;
    if (!jira) throw new HttpError(404, { error: 'the jira webhook is not configured' });
    const hub = jira.auth.find((a) => a.mode === 'hub-signature');
    const hubHeader = header(req, 'x-hub-signature');
    // A delivery that carries a hub signature is judged on it alone: a bad signature never falls through to a
    // token check, and neither is ever skipped (no unsigned mode exists).
    if (hubHeader !== undefined) {
      if (!hub) return { verdict: { ok: false, reason: 'X-Hub-Signature deliveries are not enabled' } };
      const id = header(req, 'x-atlassian-webhook-identifier');
      return { verdict: verifyHubSignature(hub.secret, hubHeader, raw), deliveryId: id };
    }
    for (const auth of jira.auth) {
      if (auth.mode !== 'static-token') continue;
      const token = header(req, auth.header);
      if (token !== undefined) return { verdict: verifyStaticToken(auth.secret, token) };
    }
    return { verdict: { ok: false, reason: 'missing signature or token' } };
  }

  function interpretJira(payload: unknown): Action {
    const jira = config.jira!;
    const event = readPath(payload, 'webhookEvent');
    if (event === 'jira:issue_updated') {
      const decision = jiraDecision(payload);
      if (decision) return decision;
    }
    if (typeof event === 'string' && !jira.startEvents.includes(event)) {
      return { kind: 'ignore', reason: `${quoted(event)} does not start a run and is not an approval transition` };
    }
    const { input, sources, problems } = mapPayload(payload, jira.mapping);
    return { kind: 'start', input, sources, system: 'jira', problems };
  }

  /** A changelog moving the status to the approval (or rejection) status is a decision on the ticket's run. */
  function jiraDecision(payload: unknown): Action | null {
    const { approvedStatus, rejectedStatus, decommissionStatus } = config.jira!.approval;
    const items = readPath(payload, 'changelog.items');
    if (!Array.isArray(items)) return null;
    const same = (a: unknown, b: string | undefined) =>
      typeof a === 'string' && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
    const change: unknown = items.find((i) => isRecord(i) && i.field === 'status');
    if (!change) return null;
    // readPath reads own properties only: a missing `toString` must not resolve to Object.prototype.toString.
    const to = readPath(change, 'toString');
    const fromStatus = readPath(change, 'fromString');
    const decision = same(to, approvedStatus)
      ? 'approve'
      : same(to, rejectedStatus)
        ? 'reject'
        : same(to, decommissionStatus)
          ? 'decommission'
          : null;
    if (!decision) return null;
    const keySource = config.jira!.mapping.fields['ticket.key'];
    const keyPath = typeof keySource === 'string' ? keySource : 'from' in keySource ? keySource.from : 'issue.key';
    const ticketKey = readPath(payload, keyPath);
    if (typeof ticketKey !== 'string' || !TICKET_KEY_PATTERN.test(ticketKey)) {
      throw new HttpError(422, {
        error: 'the transition does not name a ticket',
        problems: [{ field: 'ticket.key', rule: 'must be a ticket key like OPS-123', source: keyPath }],
      });
    }
    const who = readPath(payload, 'user.displayName') ?? readPath(payload, 'user.accountId');
    if (typeof who !== 'string' || !who.trim()) {
      throw new HttpError(422, {
        error: 'the transition does not say who made it',
        problems: [{ field: 'approver', rule: 'must be the Jira user who moved the ticket', source: 'user' }],
      });
    }
    if (decision === 'decommission') return { kind: 'decommission', ticketKey, requestedBy: who.slice(0, 128) };
    const from = typeof fromStatus === 'string' ? fromStatus : '?';
    return {
      kind: 'decide',
      decision,
      ticketKey,
      approval: { approver: who.slice(0, 128), comment: `Jira ${ticketKey}: ${from} → ${String(to)}` },
    };
  }

  function verifyServiceNowDelivery(req: IncomingMessage, raw: Buffer): Verified {
    const sn = config.servicenow;
    if (!sn) throw new HttpError(404, { error: 'the servicenow webhook is not configured' });
    const verdict = verifyServiceNow(sn.secret, header(req, sn.header), raw);
    if (!verdict.ok) return { verdict };
    // The id lives in the (now authenticated) body: parse just enough to read it.
    const payload = parseJson(raw);
    const parts = sn.deliveryId.map((p) => readPath(payload, p));
    if (parts.some((p) => typeof p !== 'string' && typeof p !== 'number')) {
      throw new HttpError(400, { error: `the payload lacks the delivery id fields ${sn.deliveryId.join(', ')}` });
    }
    return { verdict, deliveryId: parts.map(String).join('|') };
  }

  function interpretServiceNow(payload: unknown): Action {
    const { input, sources, problems } = mapPayload(payload, config.servicenow!.mapping);
    return { kind: 'start', input, sources, system: 'servicenow', problems };
  }

  // ── actions ──

  async function start(
    action: Extract<Action, { kind: 'start' }>,
    delivery: DeliveryLog,
  ): Promise<{ status: number; body: Json }> {
    const input = action.input;
    if (!isRecord(input)) throw new HttpError(400, { error: 'the payload is not a JSON object' });
    // The route decides the system unless the payload or mapping already did.
    const ticket = isRecord(input.ticket) ? input.ticket : {};
    input.ticket = { system: action.system, ...ticket };
    let problems: RequestProblem[] = [];
    let ticketKey = '';
    try {
      ticketKey = parseRunbookRequest(input).ticket.key;
    } catch (err) {
      // Anything validation throws is about the payload: a retry would get the same answer, so never a 503.
      problems =
        err instanceof RunbookRequestError
          ? err.problems
          : [{ field: '(request)', rule: `could not be validated: ${String(err)}` }];
    }
    const all = [...(action.problems ?? []), ...withSources(problems, action.sources)];
    if (all.length) {
      // Printable and bounded: the answer may be shown or logged by the sender as it is.
      const listed = listedProblems(all);
      throw new HttpError(422, {
        error: 'invalid runbook request',
        problems: listed.problems,
        ...(listed.omitted > 0 ? { omittedProblems: listed.omitted } : {}),
      });
    }
    delivery.ticket = ticketKey;
    const workflowId = provisionWorkflowId(ticketKey);
    return withTicketLock(ticketKey, async () => {
      // USE_EXISTING returns the running run's id, so "did this call start it" is answered by comparing with
      // what was there before (a closed earlier run for the ticket does not count: a new one starts).
      const before = await describeRunId(workflowId);
      const run = await startProvisioning(client, input, { taskQueue: opts.taskQueue });
      const runId = (await run.handle.describe()).runId;
      const started = run.started && before?.runId !== runId;
      return {
        status: started ? 202 : 200,
        body: { workflowId, runId, uiUrl: runUrl(workflowId, runId), ...(started ? {} : { duplicate: true }) },
      };
    });
  }

  async function describeRunId(workflowId: string): Promise<{ runId: string; status: string } | null> {
    try {
      const d = await client.workflow.getHandle(workflowId).describe();
      return { runId: d.runId, status: d.status.name };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  /**
   * Decommission what the ticket's provisioning run made: its result carries the target and what it owns. Only a
   * completed run has one; one decommission per gMSA runs at a time (a repeat attaches to it).
   */
  async function decommission(
    action: Extract<Action, { kind: 'decommission' }>,
  ): Promise<{ status: number; body: Json }> {
    const provisioning = provisionWorkflowId(action.ticketKey);
    const run = await describeRunId(provisioning);
    if (!run) throw new HttpError(404, { error: `no run for ${action.ticketKey}`, workflowId: provisioning });
    if (run.status !== 'COMPLETED') {
      throw new HttpError(409, {
        error: `${provisioning} is ${run.status}: only a completed run can be decommissioned`,
      });
    }
    let target;
    try {
      target = await targetFromRun(client, provisioning);
    } catch (err) {
      if (err instanceof DecommissionTargetMissing) throw new HttpError(409, { error: err.message });
      throw err;
    }
    const handle = await startDecommission(client, target, { taskQueue: opts.taskQueue });
    logger.info(
      { ticket: action.ticketKey, workflowId: handle.workflowId, step: 'decommission', gmsa: target.gmsaName },
      `decommission requested by ${action.requestedBy}`,
    );
    return { status: 202, body: { workflowId: handle.workflowId, uiUrl: runUrl(handle.workflowId) } };
  }

  async function decide(action: Extract<Action, { kind: 'decide' }>): Promise<{ status: number; body: Json }> {
    const workflowId = provisionWorkflowId(action.ticketKey);
    const handle = client.workflow.getHandle(workflowId);
    try {
      const outcome = await handle.executeUpdate(action.decision === 'approve' ? approveUpdate : rejectUpdate, {
        args: [action.approval],
      });
      return { status: 200, body: { workflowId, ...outcome, uiUrl: runUrl(workflowId) } };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new HttpError(404, { error: `no run for ${action.ticketKey}`, workflowId });
      }
      // The validator refused it (the run is not waiting for approval, or already decided): nothing happened.
      if (err instanceof WorkflowUpdateFailedError) {
        const why = err.cause instanceof Error ? err.cause.message : err.message;
        throw new HttpError(409, { error: `the run did not take the ${action.decision}: ${why}`, workflowId });
      }
      throw err;
    }
  }

  // ── routes ──

  async function signedRoute(
    req: IncomingMessage,
    res: ServerResponse,
    delivery: DeliveryLog,
    source: 'generic' | 'jira' | 'servicenow',
    verify: (req: IncomingMessage, raw: Buffer) => Verified,
    interpret: (payload: unknown) => Action,
  ): Promise<void> {
    delivery.source = source;
    const raw = await readBody(req, config.bodyLimitBytes);
    const { verdict, deliveryId } = verify(req, raw);
    if (!verdict.ok) throw new HttpError(401, { error: `unauthorized: ${verdict.reason}` });
    const replayKey = deliveryId ? `${source}:${deliveryId}` : undefined;
    if (replayKey) {
      if (!replay.claim(replayKey)) throw new HttpError(401, { error: 'unauthorized: delivery id already seen' });
      await replay.persist();
    }
    try {
      const action = interpretPayload(interpret, parseJson(raw));
      delivery.step = action.kind === 'decide' ? action.decision : action.kind;
      if (action.kind !== 'start' && action.kind !== 'ignore') delivery.ticket = action.ticketKey;
      const result =
        action.kind === 'start'
          ? await start(action, delivery)
          : action.kind === 'decide'
            ? await decide(action)
            : action.kind === 'decommission'
              ? await decommission(action)
              : { status: 200, body: { ignored: action.reason } };
      if (typeof result.body.workflowId === 'string') delivery.workflowId = result.body.workflowId;
      if (typeof result.body.runId === 'string') delivery.runId = result.body.runId;
      if (action.kind === 'start' && result.status === 202) metrics.runbookStarted(source);
      send(res, result.status, result.body);
    } catch (err) {
      // Only a delivery that was not acted on for a transient reason may come again under the same id.
      if (replayKey && !(err instanceof HttpError)) await replay.release(replayKey).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The delivery's action. Reading a payload is about the payload alone: whatever it throws (a value the mapping
   * cannot handle) is answered 422, never 503, which would have the sender retry the same bad ticket forever.
   */
  function interpretPayload(interpret: (payload: unknown) => Action, payload: unknown): Action {
    try {
      return interpret(payload);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(422, {
        error: 'the payload could not be mapped to a runbook request',
        problems: [{ field: '(payload)', rule: printable(`could not be read: ${String(err)}`, 500) }],
      });
    }
  }

  async function runbookStatus(res: ServerResponse, ticketKey: string): Promise<void> {
    if (!TICKET_KEY_PATTERN.test(ticketKey)) throw new HttpError(404, { error: 'not a ticket key' });
    const workflowId = provisionWorkflowId(ticketKey);
    const handle = client.workflow.getHandle(workflowId);
    let status: string;
    let runId: string;
    try {
      const d = await handle.describe();
      status = d.status.name;
      runId = d.runId;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, { error: `no run for ${ticketKey}` });
      throw err;
    }
    let progress: unknown = null;
    let progressError: string | undefined;
    try {
      // A query needs a worker; without one it would hang until the server's own timeout.
      progress = await client.workflow.withDeadline(Date.now() + 5000, () => handle.query(progressQuery));
    } catch (err) {
      progressError = err instanceof Error ? err.message : String(err);
    }
    send(res, 200, {
      workflowId,
      runId,
      status,
      progress,
      ...(progressError ? { progressError } : {}),
      uiUrl: runUrl(workflowId, runId),
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, delivery: DeliveryLog): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    const only = (allowed: string) => {
      if (method !== allowed) throw new HttpError(405, { error: `use ${allowed}` });
    };
    if (path === '/healthz') {
      only('GET');
      return send(res, 200, { status: 'ok' });
    }
    if (path === '/metrics') {
      only('GET');
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    const runbook = /^\/runbooks\/([^/]+)$/.exec(path);
    if (runbook) {
      only('GET');
      delivery.step = 'status';
      let ticketKey: string;
      try {
        ticketKey = decodeURIComponent(runbook[1]);
      } catch {
        throw new HttpError(404, { error: 'not a ticket key' }); // malformed percent-encoding (URIError)
      }
      if (!TICKET_KEY_PATTERN.test(ticketKey)) throw new HttpError(404, { error: 'not a ticket key' });
      delivery.ticket = ticketKey;
      return runbookStatus(res, ticketKey);
    }
    switch (path) {
      case '/webhooks/generic':
        only('POST');
        return signedRoute(req, res, delivery, 'generic', verifyGeneric, interpretGeneric);
      case '/webhooks/jira':
        only('POST');
        return signedRoute(req, res, delivery, 'jira', verifyJira, interpretJira);
      case '/webhooks/servicenow':
        only('POST');
        return signedRoute(req, res, delivery, 'servicenow', verifyServiceNowDelivery, interpretServiceNow);
    }
    throw new HttpError(404, { error: 'not found' });
  }

  const server = createServer((req, res) => {
    const delivery: DeliveryLog = {};
    const startedAt = performance.now();
    let failure: string | undefined;
    res.once('finish', () => {
      const seconds = (performance.now() - startedAt) / 1000;
      if (delivery.source) metrics.delivery(delivery.source, res.statusCode, seconds);
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/healthz' || path === '/metrics') return; // probes and scrapes would drown the deliveries
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      logger[level](
        { ...delivery, method: req.method, path, status: res.statusCode, durationMs: Math.round(seconds * 1000) },
        failure ?? 'request answered',
      );
    });
    route(req, res, delivery).catch((err: unknown) => {
      if (res.headersSent) return;
      if (err instanceof HttpError) {
        failure = err.message;
        // 413: the rest of the body is not read; closing the connection is the only way not to.
        const headers: Record<string, string> = err.status === 413 ? { connection: 'close' } : {};
        if (err.status === 405) headers.allow = err.message.replace(/^use /, '');
        return send(res, err.status, err.body, headers);
      }
      // Temporal unreachable or another unexpected failure: the sender should retry later. The message may
      // name the server but never a secret (none is ever passed to Temporal or formatted into errors).
      failure = err instanceof Error ? err.message : String(err);
      send(res, 503, { error: 'could not reach the workflow service; retry later' }, { 'retry-after': '30' });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
