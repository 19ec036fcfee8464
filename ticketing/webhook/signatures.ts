/**
 * Signing and verifying each scheme the webhook server accepts (../shared/reference/ecosystem.md §4.4). Pure
 * functions over the RAW body bytes: re-serialised JSON would not match what the sender signed. The server, the
 * tests and the demo all sign and verify with these, so the two sides cannot drift apart.
 *
 * Every comparison is constant-time (`timingSafeEqual` after a length check) so a caller cannot learn a valid
 * signature byte by byte from response times. Failure reasons never include the expected value.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export type Verdict = { ok: true } | { ok: false; reason: string };

const OK: Verdict = { ok: true };
const fail = (reason: string): Verdict => ({ ok: false, reason });

type Body = Buffer | string;

function hmac(key: Buffer | string, data: Body | Body[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of Array.isArray(data) ? data : [data]) mac.update(part);
  return mac.digest();
}

/** Constant-time equality; unequal lengths are rejected first (timingSafeEqual throws on them). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// ── Standard Webhooks (standardwebhooks.com) ────────────────────────────────────────────────────────────────────

/** `whsec_<base64>` (or bare base64) → key bytes, as the reference libraries decode it. */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: Body): string {
  return `v1,${hmac(standardWebhooksKey(secret), [`${id}.${timestamp}.`, body]).toString('base64')}`;
}

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three headers for a delivery (a fresh id and the current time unless given). */
export function standardWebhookHeaders(
  secret: string,
  body: Body,
  opts: { id?: string; timestamp?: number } = {},
): StandardWebhookHeaders {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(secret, id, timestamp, body),
  };
}

/**
 * Checks the signature list (any `v1` entry may match: senders list several while rotating secrets) and the
 * timestamp window. Replay of the id is the caller's check: it needs state.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: { id?: string; timestamp?: string; signature?: string },
  body: Buffer,
  opts: { toleranceSeconds: number; nowSeconds?: number },
): Verdict {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return fail('missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^[0-9]{1,12}$/.test(timestamp)) return fail('webhook-timestamp must be unix seconds');
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > opts.toleranceSeconds) return fail('webhook-timestamp outside tolerance');
  const expected = hmac(standardWebhooksKey(secret), [`${id}.${timestamp}.`, body]);
  // Check every entry (no early exit) so timing does not reveal which position matched.
  let matched = false;
  for (const entry of signature.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    if (safeEqual(Buffer.from(value, 'base64'), expected)) matched = true;
  }
  return matched ? OK : fail('signature does not match');
}

// ── Jira admin webhooks: X-Hub-Signature: sha256=<hex> (WebSub style) ─────────────────────────────────────────────

export function signHubSignature(secret: string, body: Body): string {
  return `sha256=${hmac(secret, body).toString('hex')}`;
}

export function verifyHubSignature(secret: string, header: string | undefined, body: Buffer): Verdict {
  if (!header) return fail('missing X-Hub-Signature');
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return fail('X-Hub-Signature must be sha256=<hex>');
  return safeEqual(Buffer.from(m[1], 'hex'), hmac(secret, body)) ? OK : fail('signature does not match');
}

// ── Static secret header (Jira Automation "Send web request" cannot compute an HMAC) ──────────────────────────────

/**
 * Both sides are hashed first: the digests have equal length, so neither the comparison nor the length check
 * tells a caller how long the token is.
 */
export function verifyStaticToken(expected: string, provided: string | undefined): Verdict {
  if (!provided) return fail('missing token header');
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  const value = provided.replace(/^Bearer\s+/i, '');
  return safeEqual(digest(value), digest(expected)) ? OK : fail('token does not match');
}

// ── ServiceNow outbound REST message: base64 HMAC-SHA256 (GlideCertificateEncryption.generateMac) ─────────────────

export function signServiceNow(secret: string, body: Body): string {
  return hmac(secret, body).toString('base64');
}

export function verifyServiceNow(secret: string, header: string | undefined, body: Buffer): Verdict {
  if (!header) return fail('missing signature header');
  const value = header.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return fail('signature must be base64');
  return safeEqual(Buffer.from(value, 'base64'), hmac(secret, body)) ? OK : fail('signature does not match');
}
