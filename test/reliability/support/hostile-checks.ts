/**
 * The in-process checks of hostile-input.test.ts: one value through the CLI's file path, and through the webhook
 * server over HTTP, judged against the schema (runbook/request.ts) as the oracle. Each returns the violations it
 * saw, attributed to the field (or payload path) they concern; an empty list is a clean refusal or a verbatim
 * acceptance.
 *
 * Webhook deliveries come in two shapes:
 * - per field (the full run): the value in one field of an otherwise valid request or payload;
 * - batched (`npm test`): for each value, one delivery with it in every field that refuses it on its own (each of
 *   them must be named, every problem must be about one of them) and one with it in every field that accepts it on
 *   its own (each must hold it verbatim). The problems name their fields (and, for ticket payloads, the payload path
 *   they came from), so the batch stays attributable at a fifth of the deliveries.
 */
import { startProvisioning } from '../../../client/start';
import { RunbookRequestError } from '../../../runbook/request';
import type { WebhookConfig } from '../../../ticketing/webhook/config';
import { mapPayload } from '../../../ticketing/webhook/mapping';
import { describeHostile, type HostileValue } from '../../support/hostile-values';
import {
  acceptanceFlaws,
  expectedInRequest,
  JIRA_FIELDS,
  jsonCopy,
  judge,
  payloadVerdict,
  problemIsAbout,
  readRequestPath,
  refusalFlaws,
  REQUEST_FIELDS,
  ROLE_PRINCIPAL,
  SERVICENOW_FIELDS,
  setPayloadPath,
  terminalUnsafe,
  validRequest,
  type JsonObject,
  type PayloadField,
  type RequestField,
} from './hostile-fields';
import { explainedBy, policyFlaws, type EntryPoint, type KnownFinding } from './hostile-findings';
import {
  deliver,
  jiraPayload,
  mapLimit,
  serviceNowPayload,
  type Answer,
  type RecordingClient,
} from './hostile-webhook';

export interface Violation {
  /** Request field, or payload path for Jira and ServiceNow. */
  field: string;
  value: HostileValue;
  what: string;
}

const line = (v: Violation) => `${v.field} ← [${v.value.category}] ${v.value.label}: ${v.what}`;

/** The violations no known finding explains, printable. */
export function unexplained(entry: EntryPoint, violations: readonly Violation[]): string[] {
  return violations.filter((v) => !explainedBy(entry, v.field, v.what)).map(line);
}

/** The violations that are this finding, printable. */
export function ofFinding(finding: KnownFinding, violations: readonly Violation[]): string[] {
  return violations.filter((v) => finding.fields.includes(v.field) && finding.explains(v.what)).map(line);
}

let counter = 0;
/** Names of one delivery or file only: a ticket key, a gMSA (≤ 14 characters) and an endpoint. */
export function uniqueNames(prefix: string) {
  const n = `${process.pid % 1000}${counter++}`;
  return { key: `${prefix}-${n}`, gmsa: `h${prefix.toLowerCase()}${n}`.slice(0, 14), endpoint: `HostileEp${n}` };
}

// ── CLI file ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** One value in one field of a request file, through what `gmsa-runbook start --file` does with it. */
export async function cliCase(client: RecordingClient, f: RequestField, value: HostileValue): Promise<Violation[]> {
  client.clear();
  const request = validRequest(uniqueNames('CLI'));
  f.set(request, value.value);
  // cli/main.ts `start`: JSON.parse(readFileSync(file, 'utf8')). The file's bytes are the request's JSON in UTF-8
  // (what writeFileSync writes); the round trip is done in memory, since 7000 files would cost seconds on a busy
  // disk. hostile-input-e2e.test.ts writes real files for the real binary.
  const input: unknown = JSON.parse(Buffer.from(JSON.stringify(request), 'utf8').toString('utf8'));
  const flaws: string[] = [];
  try {
    const run = await startProvisioning(client.asClient(), input, { taskQueue: 'hostile-input' });
    flaws.push(...acceptanceFlaws(run.request, f, value.value), ...policyFlaws(f.field, value.value));
    if (client.starts.length !== 1) flaws.push(`accepted, ${client.starts.length} starts`);
    else if (JSON.stringify(client.starts[0].args) !== JSON.stringify([run.request])) {
      flaws.push('the workflow was started with something else than the validated request');
    }
  } catch (err) {
    if (!(err instanceof RunbookRequestError)) {
      flaws.push(`threw ${String(err)}`);
    } else {
      flaws.push(...refusalFlaws(err.problems, f));
      if (client.calls.length > 0) flaws.push(`refused only after talking to Temporal: ${client.calls.join(', ')}`);
      // cli/main.ts prints err.message to stderr (through printableLines, which must find nothing to escape or cut).
      if (terminalUnsafe(err.message)) flaws.push('the refusal printed on stderr carries control characters');
      if (err.message.length > 4096) flaws.push(`the refusal printed on stderr is ${err.message.length} characters`);
      for (const p of err.problems) {
        if (!err.message.includes(`  - ${p.field}: ${p.rule}`)) flaws.push(`the message does not list ${p.field}`);
      }
    }
  }
  return flaws.map((what) => ({ field: f.field, value, what }));
}

export async function cliViolations(
  client: RecordingClient,
  fields: readonly RequestField[],
  values: readonly HostileValue[],
): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const f of fields) for (const value of values) out.push(...(await cliCase(client, f, value)));
  return out;
}

// ── Webhooks ──────────────────────────────────────────────────────────────────────────────────────────────────────

export interface WebhookContext {
  url: string;
  config: WebhookConfig;
  client: RecordingClient;
}

/** The route decides the system unless the request says (ticketing/webhook/server.ts `start`). */
function withSystem(input: JsonObject, system: string): JsonObject {
  const ticket = typeof input.ticket === 'object' && input.ticket !== null ? (input.ticket as JsonObject) : {};
  return { ...input, ticket: { system, ...ticket } };
}

type Problem = { field: string; rule: string; source?: string };

interface Delivery {
  value: HostileValue;
  /** The fields (or payload paths) the value was put in. */
  fields: string[];
  answer: Answer;
  bodyBytes: number;
  /** Judges a 422's problems / a 202's started request; returns [field, flaw] pairs. */
  refused(problems: Problem[]): [string, string][];
  started(request: JsonObject): [string, string][];
  /** What the schema says of the whole delivery. */
  expect: 'refused' | 'accepted';
}

/** Turns answers into violations; every start must belong to one 202 answer (nothing refused started anything). */
function judgeDeliveries(ctx: WebhookContext, deliveries: Delivery[]): Violation[] {
  const out: Violation[] = [];
  const starts = new Map(ctx.client.starts.map((s) => [s.workflowId, s.args]));
  const all = (d: Delivery, what: string) => d.fields.forEach((field) => out.push({ field, value: d.value, what }));
  for (const d of deliveries) {
    const { answer } = d;
    if (d.bodyBytes > ctx.config.bodyLimitBytes) {
      if (answer.status !== 413) all(d, `a ${d.bodyBytes}-byte body answered ${answer.status}, not 413`);
      continue;
    }
    if (answer.status === 422 && Array.isArray(answer.body.problems)) {
      if (d.expect === 'accepted') {
        all(d, `accepted by the schema, refused: ${JSON.stringify(answer.body.problems).slice(0, 300)}`);
      }
      for (const [field, what] of d.refused(answer.body.problems as Problem[]))
        out.push({ field, value: d.value, what });
    } else if (answer.status === 202) {
      const args = starts.get(String(answer.body.workflowId));
      if (d.expect === 'refused') all(d, 'refused by the schema, started');
      if (!args) all(d, `202 for ${String(answer.body.workflowId)}, which was never started`);
      else for (const [field, what] of d.started(args[0] as JsonObject)) out.push({ field, value: d.value, what });
    } else {
      all(d, `answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
  }
  const accepted = deliveries.filter((d) => d.answer.status === 202).length;
  if (ctx.client.starts.length !== accepted && deliveries.length > 0) {
    const d = deliveries[0];
    all(d, `${ctx.client.starts.length} workflows started for ${accepted} deliveries answered 202`);
  }
  return out;
}

/** Every problem about one of the fields; every field named by some problem; every rule a rule. */
function refusalAttribution(
  problems: Problem[],
  fields: readonly Pick<RequestField, 'field' | 'related'>[],
  expected: Problem[] | null,
): [string, string][] {
  const out: [string, string][] = [];
  if (expected && JSON.stringify(problems) !== JSON.stringify(expected)) {
    for (const f of fields)
      out.push([f.field, `problems ${JSON.stringify(problems).slice(0, 300)} are not the schema's`]);
  }
  for (const p of problems) {
    const owners = fields.filter((f) => problemIsAbout(p.field, f.field, f.related));
    if (owners.length === 0)
      for (const f of fields) out.push([f.field, `names ${describeHostile(p.field, 80)}, not it`]);
    for (const f of owners) out.push(...refusalFlaws([p], f).map((what): [string, string] => [f.field, what]));
  }
  for (const f of fields) {
    if (!problems.some((p) => problemIsAbout(p.field, f.field, f.related)))
      out.push([f.field, 'refused without naming it']);
  }
  return out;
}

/** A whole request (the generic route's `{ request }` envelope) with the value in `fields`. */
async function genericDelivery(
  ctx: WebhookContext,
  value: HostileValue,
  fields: readonly RequestField[],
): Promise<Delivery> {
  const request = validRequest(uniqueNames('GEN'));
  delete (request.ticket as JsonObject).system; // the route's own, unless the field under test is the system
  for (const f of fields) f.set(request, value.value);
  const oracle = judge(withSystem(request, 'generic'));
  const body = JSON.stringify({ request });
  return {
    value,
    fields: fields.map((f) => f.field),
    answer: await deliver(ctx.url, 'generic', body),
    bodyBytes: Buffer.byteLength(body),
    expect: oracle.accepted ? 'accepted' : 'refused',
    refused: (problems) => refusalAttribution(problems, fields, oracle.accepted ? null : oracle.problems),
    started: (started) => {
      if (!oracle.accepted) return [];
      const out: [string, string][] = [];
      for (const f of fields) {
        const flaws = [...acceptanceFlaws(oracle.request, f, value.value), ...policyFlaws(f.field, value.value)];
        out.push(...flaws.map((what): [string, string] => [f.field, what]));
      }
      if (JSON.stringify(started) !== JSON.stringify(oracle.request)) {
        for (const f of fields) out.push([f.field, 'started with another request than the validated one']);
      }
      return out;
    },
  };
}

/** Generic route, one delivery per value and field. */
export async function genericPerField(
  ctx: WebhookContext,
  f: RequestField,
  values: readonly HostileValue[],
): Promise<Violation[]> {
  ctx.client.clear();
  return judgeDeliveries(ctx, await mapLimit(values, 8, (value) => genericDelivery(ctx, value, [f])));
}

/**
 * Fields that cannot carry a value at the same time (they write the same object): principals.mode and
 * principals.group, a role principal key and a role capability.
 */
export const SECOND_GROUP: ReadonlySet<string> = new Set([
  'principals.group',
  `endpoint.roleDefinitions.${ROLE_PRINCIPAL}.roleCapabilities[0]`,
]);
const FIELD_GROUPS = [
  REQUEST_FIELDS.filter((f) => !SECOND_GROUP.has(f.field)),
  REQUEST_FIELDS.filter((f) => SECOND_GROUP.has(f.field)),
];

/** Whether the field accepts the value on its own (the generic route's request: its system is the route's). */
export function fieldVerdict(f: RequestField, value: string): boolean {
  const request = validRequest({ key: 'VERDICT-1', gmsa: 'verdict', endpoint: 'Verdict' });
  delete (request.ticket as JsonObject).system;
  f.set(request, value);
  return judge(withSystem(request, 'generic')).accepted;
}

/**
 * How one value is batched into requests: the fields that refuse it on their own, together per field group (a
 * field refused only by the cross-field rule apart), and the fields that accept it, together per group.
 */
export function requestPlans(value: string): { refusing: RequestField[][]; accepting: RequestField[][] } {
  const refusing: RequestField[][] = [];
  const accepting: RequestField[][] = [];
  for (const group of FIELD_GROUPS) {
    const yes = group.filter((f) => fieldVerdict(f, value));
    const no = group.filter((f) => !yes.includes(f));
    const together = no.filter((f) => !f.crossField);
    const alone = no.filter((f) => f.crossField);
    if (together.length) refusing.push(together);
    if (alone.length) refusing.push(alone);
    if (yes.length) accepting.push(yes);
  }
  return { refusing, accepting };
}

/** Generic route, batched: per value and field group, the refusing fields together and the accepting ones together. */
export async function genericBatched(ctx: WebhookContext, values: readonly HostileValue[]): Promise<Violation[]> {
  ctx.client.clear();
  const plans: { value: HostileValue; fields: RequestField[] }[] = [];
  for (const value of values) {
    const { refusing, accepting } = requestPlans(value.value);
    for (const fields of [...refusing, ...accepting]) plans.push({ value, fields });
  }
  const deliveries = await mapLimit(plans, 8, (p) => genericDelivery(ctx, p.value, p.fields));
  return judgeDeliveries(ctx, deliveries);
}

// ── Jira and ServiceNow ───────────────────────────────────────────────────────────────────────────────────────────

type TicketSource = 'jira' | 'servicenow';

function ticketBaseline(source: TicketSource): JsonObject {
  const n = uniqueNames(source === 'jira' ? 'JIR' : 'SNW');
  return source === 'jira' ? jiraPayload(n.key, n.gmsa) : serviceNowPayload(`RITM${n.key.replace(/\D/g, '')}`, n.gmsa);
}

/** A payload with the value at `paths`: refused about exactly those paths' fields, or mapped as documented. */
async function ticketDelivery(
  ctx: WebhookContext,
  source: TicketSource,
  value: HostileValue,
  fields: readonly PayloadField[],
): Promise<Delivery> {
  const mapping = source === 'jira' ? ctx.config.jira!.mapping : ctx.config.servicenow!.mapping;
  const baseline = ticketBaseline(source);
  const payload = jsonCopy(baseline);
  for (const f of fields) setPayloadPath(payload, f.path, value.value);
  const verdicts = fields.map((f) => payloadVerdict(f, value.value, source));
  const body = JSON.stringify(payload);
  return {
    value,
    fields: fields.map((f) => f.path),
    answer: await deliver(ctx.url, source, body),
    bodyBytes: Buffer.byteLength(body),
    expect: verdicts.every((v) => v === 'accepted') ? 'accepted' : 'refused',
    refused: (problems) => {
      const out: [string, string][] = [];
      const mapped = fields.filter((f) => f.targets.length > 0);
      for (const p of problems) {
        const owner = mapped.find((f) => p.source === f.path || (f.template !== undefined && p.source === f.template));
        if (!owner) {
          for (const f of fields) out.push([f.path, `a problem from ${String(p.source)} (${p.field})`]);
          continue;
        }
        if (!owner.targets.some((t) => problemIsAbout(p.field, t))) {
          out.push([owner.path, `names ${describeHostile(p.field, 80)}, not ${owner.targets.join(' or ')}`]);
        }
        out.push(...refusalFlaws([p], { field: p.field }).map((what): [string, string] => [owner.path, what]));
      }
      fields.forEach((f, i) => {
        const named = problems.some(
          (p) => p.source === f.path || (f.template !== undefined && p.source === f.template),
        );
        if (verdicts[i] !== 'accepted' && !named) out.push([f.path, 'refused without naming it']);
        if (verdicts[i] === 'accepted' && named) out.push([f.path, 'named in a refusal, though its fields accept it']);
      });
      return out;
    },
    started: (started) => {
      const out: [string, string][] = [];
      for (const f of fields) {
        for (const [target, want] of Object.entries(expectedInRequest(f, value.value))) {
          const got = readRequestPath(started, target);
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            out.push([
              f.path,
              `${target} holds ${describeHostile(JSON.stringify(got))}, not ${describeHostile(JSON.stringify(want))}`,
            ]);
          }
        }
      }
      // Unmapped paths must not matter: the request is the one the payload maps to without them.
      const without = jsonCopy(baseline);
      for (const f of fields) if (f.targets.length > 0) setPayloadPath(without, f.path, value.value);
      const expected = judge(withSystem(mapPayload(without, mapping).input, source));
      if (!expected.accepted || JSON.stringify(started) !== JSON.stringify(expected.request)) {
        for (const f of fields) out.push([f.path, 'started with another request than its mapped fields make']);
      }
      return out;
    },
  };
}

function ticketFields(source: TicketSource): readonly PayloadField[] {
  return source === 'jira' ? JIRA_FIELDS : SERVICENOW_FIELDS;
}

/** One delivery per value and payload path. */
export async function ticketPerField(
  ctx: WebhookContext,
  source: TicketSource,
  f: PayloadField,
  values: readonly HostileValue[],
): Promise<Violation[]> {
  ctx.client.clear();
  return judgeDeliveries(ctx, await mapLimit(values, 8, (value) => ticketDelivery(ctx, source, value, [f])));
}

/**
 * Batched: per value, the paths whose fields refuse it together, the ones that accept it together (with every
 * unmapped path), and a value a template cannot encode on its own (it must not hide the other paths' answers).
 */
export async function ticketBatched(
  ctx: WebhookContext,
  source: TicketSource,
  values: readonly HostileValue[],
): Promise<Violation[]> {
  ctx.client.clear();
  const plans: { value: HostileValue; fields: PayloadField[] }[] = [];
  for (const value of values) {
    const verdicts = ticketFields(source).map((f) => ({ f, verdict: payloadVerdict(f, value.value, source) }));
    const refusing = verdicts.filter((v) => v.verdict === 'refused').map((v) => v.f);
    const accepting = verdicts.filter((v) => v.verdict === 'accepted').map((v) => v.f);
    // Hosts out of the domain are refused by the cross-field rule, which another field's type problem (dryRun)
    // would skip: the host list goes on its own.
    const together = refusing.filter((f) => f.conversion !== 'list');
    const alone = refusing.filter((f) => f.conversion === 'list');
    if (together.length) plans.push({ value, fields: together });
    if (alone.length) plans.push({ value, fields: alone });
    if (accepting.length) plans.push({ value, fields: accepting });
    for (const v of verdicts) if (v.verdict === 'unencodable') plans.push({ value, fields: [v.f] });
  }
  const deliveries = await mapLimit(plans, 8, (p) => ticketDelivery(ctx, source, p.value, p.fields));
  return judgeDeliveries(ctx, deliveries);
}
