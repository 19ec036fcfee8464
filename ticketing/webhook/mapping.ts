/**
 * Ticket payload → runbook request input, driven by configuration (config.ts `mapping`): which custom field holds
 * the gMSA name is a fact about one Jira site or one ServiceNow catalog item, not about this code.
 *
 * Mapping never rejects anything itself: a missing or malformed value is left for the request schema, which
 * reports every failing field at once. `sources` lets a 422 say which payload path fed a bad field. The one thing
 * the schema cannot see is a template that could not be filled in (a value no URL can carry): that is a problem of
 * the mapping's own, in `problems`.
 */
import type { RequestProblem } from '../../runbook/request';
import type { FieldSource, Mapping } from './config';

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a dot path (numeric segments index arrays), or undefined. Own properties only. */
export function readPath(payload: unknown, path: string): unknown {
  let cur: unknown = payload;
  for (const seg of path.split('.')) {
    if (FORBIDDEN.has(seg)) return undefined;
    if (Array.isArray(cur) && /^[0-9]+$/.test(seg)) cur = cur[Number(seg)];
    else if (isRecord(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = target;
  for (const seg of segs.slice(0, -1)) {
    if (FORBIDDEN.has(seg)) return;
    const next = cur[seg];
    if (!isRecord(next)) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  const last = segs[segs.length - 1];
  if (!FORBIDDEN.has(last)) cur[last] = value;
}

/** Jira select fields arrive as `{ value: "…" }`; ServiceNow references as `{ display_value, value }`. */
function scalar(v: unknown): unknown {
  if (isRecord(v)) {
    if (typeof v.value === 'string') return v.value;
    if (typeof v.name === 'string') return v.name;
  }
  return v;
}

/** Conversions are best-effort: a value that does not convert goes through as it is, and the schema names it. */
function convert(value: unknown, as: 'raw' | 'string' | 'list' | 'number' | 'boolean'): unknown {
  switch (as) {
    case 'raw':
      return value;
    case 'string': {
      const v = scalar(value);
      return typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    }
    case 'list':
      if (Array.isArray(value)) return value.map(scalar);
      if (typeof value === 'string') return value.split(/[\s,;]+/).filter(Boolean);
      return value;
    case 'number': {
      const v = scalar(value);
      return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    }
    case 'boolean': {
      const v = scalar(value);
      if (typeof v !== 'string') return v;
      const s = v.trim().toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(s)) return true;
      if (['false', 'no', '0', 'off', ''].includes(s)) return false;
      return v;
    }
  }
}

/** encodeURIComponent, or undefined for a string it cannot encode (an unpaired UTF-16 surrogate: URIError). */
function encodeComponent(text: string): string | undefined {
  try {
    return encodeURIComponent(text);
  } catch {
    return undefined;
  }
}

interface Resolved {
  value: unknown;
  from: string;
  /** Why the value could not be built (a template path whose value cannot be encoded). */
  unbuildable?: string;
}

function resolve(payload: unknown, source: FieldSource): Resolved {
  if (typeof source === 'string') return { value: readPath(payload, source), from: source };
  if ('template' in source) {
    let missing = false;
    let unbuildable: string | undefined;
    const value = source.template.replace(/\{([^}]*)\}/g, (_m, path: string) => {
      const v = scalar(readPath(payload, path));
      if (typeof v !== 'string' && typeof v !== 'number') {
        missing = true;
        return '';
      }
      // Templates build links: a payload value must not be able to change the URL's structure.
      const encoded = encodeComponent(String(v));
      if (encoded === undefined) {
        unbuildable ??=
          `could not be built from ${path}: it holds an unpaired UTF-16 surrogate, which cannot be encoded in a URL ` +
          `(${path} must be text that is valid Unicode)`;
        return '';
      }
      return encoded;
    });
    if (unbuildable !== undefined) return { value: undefined, from: source.template, unbuildable };
    return { value: missing ? undefined : value, from: source.template };
  }
  return { value: convert(readPath(payload, source.from), source.as), from: source.from };
}

export type SourcedProblem = RequestProblem & { source?: string };

export interface MappedRequest {
  /** Request input for parseRunbookRequest / startProvisioning. */
  input: Record<string, unknown>;
  /** Request field → the payload path (or template) it came from. */
  sources: Record<string, string>;
  /**
   * Fields the payload could not fill in at all (left out of `input`): the delivery is refused with these besides
   * whatever the schema finds in `input`.
   */
  problems: SourcedProblem[];
}

export function mapPayload(payload: unknown, mapping: Mapping): MappedRequest {
  // structuredClone: mapped fields must never write into the shared defaults object of the configuration.
  const input = structuredClone(mapping.defaults);
  const sources: Record<string, string> = {};
  const problems: SourcedProblem[] = [];
  for (const [target, source] of Object.entries(mapping.fields)) {
    const { value, from, unbuildable } = resolve(payload, source);
    sources[target] = from;
    if (unbuildable !== undefined) problems.push({ field: target, rule: unbuildable, source: from });
    // null and absent are the same to ticketing systems ("field not filled"): leave it to the schema's default
    // or its "required" rule rather than sending null into a string field.
    if (value !== undefined && value !== null) setPath(input, target, value);
  }
  return { input, sources, problems };
}

/** Adds `source` (the payload path) to problems on mapped fields: `hosts[1]` came from the `hosts` mapping. */
export function withSources(problems: RequestProblem[], sources: Record<string, string>): SourcedProblem[] {
  const targets = Object.keys(sources).sort((a, b) => b.length - a.length);
  return problems.map((p) => {
    const target = targets.find((t) => p.field === t || p.field.startsWith(`${t}.`) || p.field.startsWith(`${t}[`));
    return target ? { ...p, source: sources[target] } : p;
  });
}
