/**
 * What the HTTP adapters (Jira, ServiceNow) share: one request helper that turns every way a ticket API can fail
 * into a typed BackendError, and the plain-text rendering of an update (ServiceNow work notes, JSM internal notes).
 *
 * Errors are BackendErrors so the activity layer treats them like any other backend failure: the type decides
 * whether Temporal retries (AccessDenied, ObjectNotFound, RequestInvalid: no; BackendUnavailable: yes), and a
 * server's Retry-After travels in `details.retryAfterMs` so the activity can ask for exactly that delay.
 */
import { currentCallContext } from '../../backends/call-context';
import { BackendError } from '../../backends/errors';
import { FailureType } from '../../runbook/failures';
import type { TicketUpdate } from '../../runbook/ticket';
import type { TicketUpdateContext } from '../port';

/**
 * Per request. Ticket APIs answer in well under a second; a long hang is a dead connection, and the activity
 * retries. An update makes up to three requests, and they must fit the activity's start-to-close timeout (30 s).
 */
export const DEFAULT_HTTP_TIMEOUT_MS = 8_000;

/** Response bodies can be whole HTML error pages; an error message needs the start of one, not all of it. */
const MAX_ERROR_BODY_CHARS = 500;

/** A non-2xx answer, or none at all, from a ticket API, already typed for the activity. */
export interface TicketHttpErrorDetails extends Record<string, unknown> {
  adapter: string;
  method: string;
  /** Path and query only: the base URL is configuration and credentials never appear in URLs here. */
  path: string;
  status: number | null;
  /** The server's Retry-After, in milliseconds, when it sent one (429, 503). */
  retryAfterMs?: number;
}

export interface HttpTarget {
  /** Names the adapter in errors ("jira", "servicenow"). */
  adapter: string;
  baseUrl: string;
  /** The full Authorization header value; kept out of every error and log line. */
  authorization: string;
  timeoutMs: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH';
  /** Starts with `/`; already URL-encoded where it carries values. */
  path: string;
  body?: unknown;
}

/** Something an adapter noticed that does not fail the update (a transition that is not available right now). */
export interface TicketAdapterReport {
  adapter: string;
  ticket: string;
  problem: 'transition-unavailable';
  message: string;
  /** Transition names offered by the issue at that moment, to help whoever fixes the configuration. */
  available?: string[];
}

export function basicAuth(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * One JSON request. Returns the parsed body (undefined for 204 or an empty body); throws a typed BackendError for
 * anything else. The activity's cancellation (via the call context) aborts the request as well as the timeout.
 */
export async function requestJson(target: HttpTarget, req: HttpRequest): Promise<unknown> {
  const callSignal = currentCallContext().signal;
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const signal = callSignal ? AbortSignal.any([callSignal, timeout]) : timeout;
  const base: TicketHttpErrorDetails = { adapter: target.adapter, method: req.method, path: req.path, status: null };
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: target.authorization };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';

  let res: Response;
  try {
    res = await fetch(`${target.baseUrl.replace(/\/+$/, '')}${req.path}`, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal,
      // A redirect from a ticket API is a login page or a moved instance, not the answer; see it as an error.
      redirect: 'manual',
    });
  } catch (err) {
    // Cancelled by Temporal: not the ticket system's fault, so leave the cancellation as it is.
    if (callSignal?.aborted) throw callSignal.reason;
    const why = timeout.aborted ? `no answer within ${target.timeoutMs} ms` : describeNetworkError(err);
    throw new BackendError(
      FailureType.BackendUnavailable,
      `${target.adapter}: ${req.method} ${req.path} failed: ${why}`,
      base,
    );
  }

  const text = await res.text();
  if (res.ok) {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // The write happened (2xx); an unreadable body is only a problem for callers that need data from it.
      return undefined;
    }
  }
  const details: TicketHttpErrorDetails = { ...base, status: res.status };
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  const message = `${target.adapter}: ${req.method} ${req.path} answered ${res.status}${summarizeErrorBody(text)}`;
  throw new BackendError(failureTypeForStatus(res.status), message, details);
}

/** Which failures are worth another attempt: rate limits and server trouble, never auth or a missing ticket. */
export function failureTypeForStatus(status: number): FailureType {
  if (status === 401 || status === 403) return FailureType.AccessDenied;
  if (status === 404) return FailureType.ObjectNotFound;
  if (status === 408 || status === 429 || status >= 500) return FailureType.BackendUnavailable;
  // 3xx (redirect: manual) and the remaining 4xx: our request is wrong, and sending it again will not fix it.
  return FailureType.RequestInvalid;
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici puts the useful part (ECONNREFUSED, ENOTFOUND) in `cause`; "fetch failed" alone says nothing.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** Jira answers `{errorMessages, errors}`, ServiceNow `{error: {message, detail}}`; otherwise the start of the text. */
function summarizeErrorBody(text: string): string {
  if (text.trim() === '') return '';
  try {
    const body = JSON.parse(text) as unknown;
    if (isRecord(body)) {
      const parts: string[] = [];
      if (Array.isArray(body.errorMessages)) parts.push(...body.errorMessages.map(String));
      if (isRecord(body.errors)) {
        parts.push(...Object.entries(body.errors).map(([field, msg]) => `${field}: ${String(msg)}`));
      }
      if (isRecord(body.error)) {
        parts.push(...[body.error.message, body.error.detail].filter((p) => typeof p === 'string'));
      }
      if (parts.length > 0) return `: ${parts.join('; ').slice(0, MAX_ERROR_BODY_CHARS)}`;
    }
  } catch {
    // Not JSON (an HTML error page from a proxy): fall through to the raw start.
  }
  return `: ${text.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_BODY_CHARS)}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The update as plain text: headline, lines, the step (so a duplicate after a retry is recognisable), and the run
 * URL on a line of its own (ServiceNow and JSM turn a bare URL into a link only when nothing else shares its line).
 */
export function renderPlainText(update: TicketUpdate, context: TicketUpdateContext): string {
  const out = [update.headline, ...update.lines, `Step: ${update.step}`];
  if (context.runUrl) out.push(context.runUrl);
  return out.join('\n');
}
