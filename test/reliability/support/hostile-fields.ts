/**
 * Where hostile values go: every string field of a runbook request (what a CLI file, a generic webhook and a direct
 * workflow start carry), and every string field of the Jira and ServiceNow payloads with the request fields the
 * example configuration maps them to. Plus the judgement the hostile-input suites share: a value is either refused
 * with problems that name its field and a rule, or accepted and found verbatim (or with the documented
 * normalisation) where it belongs.
 */
import {
  parseRunbookRequest,
  RunbookRequestError,
  type RequestProblem,
  type RunbookRequest,
} from '../../../runbook/request';
import { describeHostile } from '../../support/hostile-values';

export type JsonObject = Record<string, unknown>;

/**
 * A deep copy through JSON. Not structuredClone: under jest its copies get the outer realm's Object.prototype, and
 * node:util isDeepStrictEqual (the lab invariants) then finds every copied object "changed".
 */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A nested object of a request under construction (the path exists in `validRequest`). */
function obj(root: JsonObject, ...path: string[]): JsonObject {
  let cur = root;
  for (const key of path) cur = cur[key] as JsonObject;
  return cur;
}

export interface RequestNames {
  key: string;
  gmsa: string;
  endpoint: string;
  /** Default server1.lab.local. */
  host?: string;
}

export const ROLE_PRINCIPAL = 'LAB\\JEA-Operators';
export const ROLE_CAPABILITY = 'GmsaRemotingOperator';
export const TRANSCRIPTS = 'C:\\ProgramData\\JEA\\Transcripts';

/**
 * A valid request with every optional string field present (so that each one can be replaced), its own ticket,
 * gMSA and endpoint names, one HQ host, and fast replication polling over the hosts' site only: a run takes about
 * a second on the lab. Verification schedules are off: the suite starts hundreds of runs and they are not the
 * subject here.
 */
export function validRequest(names: RequestNames): JsonObject {
  return {
    ticket: { key: names.key, system: 'cli', url: `https://tickets.lab.local/browse/${names.key}` },
    domain: { netbios: 'LAB', dns: 'lab.local' },
    gmsa: { name: names.gmsa, description: 'hostile-input baseline', kerberosEncryptionTypes: ['AES256'] },
    principals: { mode: 'hosts' },
    hosts: [names.host ?? 'server1.lab.local'],
    endpoint: {
      name: names.endpoint,
      sessionType: 'RestrictedRemoteServer',
      roleDefinitions: { [ROLE_PRINCIPAL]: { roleCapabilities: [ROLE_CAPABILITY] } },
      transcriptDirectory: TRANSCRIPTS,
    },
    replication: { pollIntervalSeconds: 0.1, timeoutSeconds: 60, scope: 'host-sites' },
    verification: { enabled: false },
    requestedBy: 'hostile-input suite',
  };
}

export type FieldKind = 'identifier' | 'enum' | 'free-text' | 'url' | 'path';

export interface RequestField {
  /** The field as the request's problems name it. */
  field: string;
  kind: FieldKind;
  /** Writes the value into a request built by validRequest. */
  set(request: JsonObject, value: string): void;
  /** Where the value is in the parsed request. */
  get(request: RunbookRequest): unknown;
  /** The schema's documented normalisation (case), if any. */
  normalise?(value: string): string;
  /** Fields a problem may name instead, through a cross-field rule (the domain's hosts must be in it). */
  related?: string[];
  /**
   * Refused for some values only by the request's cross-field rule (hosts must be in the domain), which zod skips
   * while another field has a type, enum or union problem: such a field is not batched with others.
   */
  crossField?: boolean;
}

const upper = (v: string) => v.toUpperCase();
const lower = (v: string) => v.toLowerCase();

export const REQUEST_FIELDS: readonly RequestField[] = [
  {
    field: 'ticket.key',
    kind: 'identifier',
    set: (r, v) => (obj(r, 'ticket').key = v),
    get: (r) => r.ticket.key,
  },
  {
    field: 'ticket.system',
    kind: 'enum',
    set: (r, v) => (obj(r, 'ticket').system = v),
    get: (r) => r.ticket.system,
  },
  {
    field: 'ticket.url',
    kind: 'url',
    set: (r, v) => (obj(r, 'ticket').url = v),
    get: (r) => r.ticket.url,
  },
  {
    field: 'domain.netbios',
    kind: 'identifier',
    set: (r, v) => (obj(r, 'domain').netbios = v),
    get: (r) => r.domain.netbios,
    normalise: upper,
  },
  {
    field: 'domain.dns',
    kind: 'identifier',
    set: (r, v) => (obj(r, 'domain').dns = v),
    get: (r) => r.domain.dns,
    normalise: lower,
    related: ['hosts'],
    crossField: true,
  },
  {
    field: 'gmsa.name',
    kind: 'identifier',
    set: (r, v) => (obj(r, 'gmsa').name = v),
    get: (r) => r.gmsa.name,
  },
  {
    field: 'gmsa.description',
    kind: 'free-text',
    set: (r, v) => (obj(r, 'gmsa').description = v),
    get: (r) => r.gmsa.description,
  },
  {
    field: 'gmsa.kerberosEncryptionTypes[0]',
    kind: 'enum',
    set: (r, v) => (obj(r, 'gmsa').kerberosEncryptionTypes = [v]),
    get: (r) => r.gmsa.kerberosEncryptionTypes[0],
  },
  {
    field: 'principals.mode',
    kind: 'enum',
    set: (r, v) => (r.principals = { mode: v }),
    get: (r) => r.principals.mode,
    related: ['principals'],
  },
  {
    field: 'principals.group',
    kind: 'identifier',
    set: (r, v) => (r.principals = { mode: 'group', group: v }),
    get: (r) => (r.principals.mode === 'group' ? r.principals.group : undefined),
  },
  {
    field: 'hosts[0]',
    kind: 'identifier',
    set: (r, v) => (r.hosts = [v]),
    get: (r) => r.hosts[0],
    normalise: lower,
    crossField: true,
  },
  {
    field: 'endpoint.name',
    kind: 'identifier',
    set: (r, v) => (obj(r, 'endpoint').name = v),
    get: (r) => r.endpoint.name,
  },
  {
    field: 'endpoint.sessionType',
    kind: 'enum',
    set: (r, v) => (obj(r, 'endpoint').sessionType = v),
    get: (r) => r.endpoint.sessionType,
  },
  {
    field: 'endpoint.transcriptDirectory',
    kind: 'path',
    set: (r, v) => (obj(r, 'endpoint').transcriptDirectory = v),
    get: (r) => r.endpoint.transcriptDirectory,
  },
  {
    field: 'endpoint.roleDefinitions',
    kind: 'identifier',
    set: (r, v) => (obj(r, 'endpoint').roleDefinitions = { [v]: { roleCapabilities: [ROLE_CAPABILITY] } }),
    get: (r) => {
      const keys = Object.keys(r.endpoint.roleDefinitions);
      return keys.length === 1 ? keys[0] : keys;
    },
  },
  {
    field: `endpoint.roleDefinitions.${ROLE_PRINCIPAL}.roleCapabilities[0]`,
    kind: 'identifier',
    set: (r, v) => (obj(r, 'endpoint').roleDefinitions = { [ROLE_PRINCIPAL]: { roleCapabilities: [v] } }),
    get: (r) => r.endpoint.roleDefinitions[ROLE_PRINCIPAL]?.roleCapabilities[0],
  },
  {
    field: 'replication.scope',
    kind: 'enum',
    set: (r, v) => (obj(r, 'replication').scope = v),
    get: (r) => r.replication.scope,
  },
  {
    field: 'requestedBy',
    kind: 'free-text',
    set: (r, v) => (r.requestedBy = v),
    get: (r) => r.requestedBy,
  },
];

export function requestField(name: string): RequestField {
  const f = REQUEST_FIELDS.find((x) => x.field === name);
  if (!f) throw new Error(`no request field ${name}`);
  return f;
}

export type Outcome = { accepted: true; request: RunbookRequest } | { accepted: false; problems: RequestProblem[] };

/** The schema's verdict, the way every entry point gets it (parseRunbookRequest). */
export function judge(input: unknown): Outcome {
  try {
    return { accepted: true, request: parseRunbookRequest(input) };
  } catch (err) {
    if (err instanceof RunbookRequestError) return { accepted: false, problems: err.problems };
    throw err;
  }
}

/** `problem` is about `field` (or a field below it, or a documented related field). */
export function problemIsAbout(problem: string, field: string, related: readonly string[] = []): boolean {
  return [field, ...related].some((f) => problem === f || problem.startsWith(`${f}.`) || problem.startsWith(`${f}[`));
}

/** zod's own messages that say something is wrong without saying which rule: not an error a requester can act on. */
const RULELESS = /^Invalid (key in record|input)$/;

/** Problems whose rule says nothing, as `field: no rule ("…")`. */
export function rulelessProblems(problems: readonly { field: string; rule: string }[]): string[] {
  return problems
    .filter((p) => !p.rule.trim() || RULELESS.test(p.rule))
    .map((p) => `${describeHostile(p.field, 80)}: no rule ("${p.rule}")`);
}

/**
 * What is wrong with a refusal: no problem at all, a problem about another field than the one that was changed, a
 * rule that is missing or says nothing. Empty when the refusal is a clear one.
 */
export function refusalFlaws(
  problems: readonly { field: string; rule: string }[],
  f: Pick<RequestField, 'field' | 'related'>,
): string[] {
  const flaws: string[] = [];
  if (problems.length === 0) flaws.push('refused without any problem');
  for (const p of problems) {
    if (!problemIsAbout(p.field, f.field, f.related)) {
      flaws.push(`names ${describeHostile(p.field, 80)} instead of ${f.field}`);
    }
    if (!p.rule.trim() || RULELESS.test(p.rule)) flaws.push(`${describeHostile(p.field, 80)}: no rule ("${p.rule}")`);
  }
  return flaws;
}

/** What is wrong with an acceptance: the value is not where it belongs, as it was sent (or as documented). */
export function acceptanceFlaws(request: RunbookRequest, f: RequestField, value: string): string[] {
  const got = f.get(request);
  const want = f.normalise ? f.normalise(value) : value;
  return got === want ? [] : [`accepted but ${f.field} holds ${describeHostile(String(got))}`];
}

/** Everything a refusal message is printed with must be safe on a terminal: no C0/C1 controls but the newline. */
export function terminalUnsafe(text: string): boolean {
  return /[^\P{Cc}\n]/u.test(text);
}

// ── Ticket payloads ───────────────────────────────────────────────────────────────────────────────────────────────

/** How the example configuration converts a payload value on its way into the request. */
export type Conversion = 'verbatim' | 'list' | 'boolean' | 'url-template' | 'none';

export interface PayloadField {
  /** Dot path into the payload. */
  path: string;
  /** The request fields the example configuration fills from it (empty: not mapped, must not matter). */
  targets: string[];
  conversion: Conversion;
  /** For url-template: the template of examples/webhook-config.json. */
  template?: string;
  /** Free text (a description, a requester, a link): whatever it holds, a run ends the same way. */
  free?: boolean;
}

export const JIRA_FIELDS: readonly PayloadField[] = [
  {
    path: 'issue.key',
    targets: ['ticket.key', 'ticket.url'],
    conversion: 'url-template',
    template: 'https://example.atlassian.net/browse/{issue.key}',
  },
  { path: 'issue.fields.summary', targets: ['gmsa.description'], conversion: 'verbatim', free: true },
  { path: 'issue.fields.customfield_10050', targets: ['gmsa.name'], conversion: 'verbatim' },
  { path: 'issue.fields.customfield_10051', targets: ['hosts'], conversion: 'list' },
  { path: 'issue.fields.reporter.emailAddress', targets: ['requestedBy'], conversion: 'verbatim', free: true },
  { path: 'issue.fields.issuetype.name', targets: [], conversion: 'none' },
  { path: 'issue.fields.status.name', targets: [], conversion: 'none' },
  { path: 'user.displayName', targets: [], conversion: 'none' },
  { path: 'issue.id', targets: [], conversion: 'none' },
];

export const SERVICENOW_FIELDS: readonly PayloadField[] = [
  { path: 'number', targets: ['ticket.key'], conversion: 'verbatim' },
  {
    path: 'sys_id',
    targets: ['ticket.url'],
    conversion: 'url-template',
    template: 'https://example.service-now.com/sc_req_item.do?sys_id={sys_id}',
    free: true,
  },
  { path: 'short_description', targets: ['gmsa.description'], conversion: 'verbatim', free: true },
  { path: 'variables.gmsa_name', targets: ['gmsa.name'], conversion: 'verbatim' },
  { path: 'variables.hosts', targets: ['hosts'], conversion: 'list' },
  { path: 'variables.dry_run', targets: ['dryRun'], conversion: 'boolean' },
  { path: 'requested_for.email', targets: ['requestedBy'], conversion: 'verbatim', free: true },
  { path: 'sys_updated_on', targets: [], conversion: 'none' },
  { path: 'cat_item', targets: [], conversion: 'none' },
  { path: 'requested_for.user_name', targets: [], conversion: 'none' },
];

/** Sets a dot path in a payload (creating objects on the way). */
export function setPayloadPath(payload: JsonObject, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = payload;
  for (const seg of segs.slice(0, -1)) {
    if (typeof cur[seg] !== 'object' || cur[seg] === null) cur[seg] = {};
    cur = cur[seg] as JsonObject;
  }
  cur[segs[segs.length - 1]] = value;
}

/** The documented `as: "boolean"` conversion (ticketing/webhook/mapping.ts): anything else goes through as text. */
export function asBoolean(value: string): boolean | string {
  const s = value.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(s)) return true;
  if (['false', 'no', '0', 'off', ''].includes(s)) return false;
  return value;
}

/** The documented `as: "list"` conversion: split on commas, semicolons and whitespace. */
export function asList(value: string): string[] {
  return value.split(/[\s,;]+/).filter(Boolean);
}

/**
 * What the example configuration puts into each target request field for a payload value, before the schema sees
 * it. Throws where the conversion cannot be done (a template cannot encode an unpaired surrogate).
 */
export function mappedInput(f: PayloadField, value: string): Record<string, unknown> {
  switch (f.conversion) {
    case 'verbatim':
      return { [f.targets[0]]: value };
    case 'list':
      return { [f.targets[0]]: asList(value) };
    case 'boolean':
      return { [f.targets[0]]: asBoolean(value) };
    case 'url-template': {
      const url = f.template!.replace(/\{[^}]*\}/, encodeURIComponent(value));
      return f.targets.length === 2 ? { [f.targets[0]]: value, [f.targets[1]]: url } : { [f.targets[0]]: url };
    }
    case 'none':
      return {};
  }
}

/** Where a payload value must sit in the started (validated) request: mappedInput with the schema's normalisation. */
export function expectedInRequest(f: PayloadField, value: string): Record<string, unknown> {
  const input = mappedInput(f, value);
  if (f.conversion === 'list') return { [f.targets[0]]: (input[f.targets[0]] as string[]).map(lower) };
  return input;
}

/** Sets a request's value at a dot path (`gmsa.description`, `dryRun`). */
export function setRequestPath(request: JsonObject, path: string, value: unknown): void {
  setPayloadPath(request, path, value);
}

/**
 * Whether the schema accepts a payload value at `f` on its own, judged on the request fields it maps to (not by
 * the mapping code): `unencodable` when the configured conversion cannot even be done.
 */
export function payloadVerdict(f: PayloadField, value: string, system: string): 'accepted' | 'refused' | 'unencodable' {
  let input: Record<string, unknown>;
  try {
    input = mappedInput(f, value);
  } catch {
    return 'unencodable';
  }
  const request = validRequest({ key: 'VERDICT-1', gmsa: 'verdict', endpoint: 'Verdict' });
  (request.ticket as JsonObject).system = system;
  for (const [target, v] of Object.entries(input)) setRequestPath(request, target, v);
  return judge(request).accepted ? 'accepted' : 'refused';
}

/** A request's value at a dot path (`ticket.key`, `hosts`). */
export function readRequestPath(request: unknown, path: string): unknown {
  let cur: unknown = request;
  for (const seg of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as JsonObject)[seg];
  }
  return cur;
}
