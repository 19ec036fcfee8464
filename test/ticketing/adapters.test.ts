/**
 * Ticket adapters against real HTTP: small node:http servers on 127.0.0.1 stand in for Jira Cloud and a ServiceNow
 * instance. They record every request and answer the way the real APIs do (paths, status codes, body shapes,
 * 401 on wrong credentials, 429 + Retry-After), so what is asserted here is exactly what goes over the wire.
 */
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createTicketActivities } from '../../activities/tickets';
import { BackendError } from '../../backends/errors';
import { FailureType } from '../../runbook/failures';
import type { TicketUpdate } from '../../runbook/ticket';
import {
  createTicketPorts,
  JiraAdapter,
  LogAdapter,
  ServiceNowAdapter,
  tableForNumber,
  TicketConfigError,
  type TicketAdapterReport,
} from '../../ticketing/adapters';
import { startStandIn, type Handler, type StandIn } from '../support/http-stand-in';
import type { AdfDoc } from '../../ticketing/adapters/jira';

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

// ---- Jira stand-in ---------------------------------------------------------------------------------------------

const JIRA_EMAIL = 'bot@example.com';
const JIRA_TOKEN = 'jira-token-123';

/** Answers like Jira Cloud for one issue, OPS-123, whose workflow offers two transitions. */
function jiraLike(opts: { rateLimitOnce?: boolean } = {}): Handler {
  let limited = false;
  return (req) => {
    if (req.headers.authorization !== basic(JIRA_EMAIL, JIRA_TOKEN)) {
      return { status: 401, body: { errorMessages: ['You do not have the permission to see the specified issue.'] } };
    }
    if (opts.rateLimitOnce && !limited) {
      limited = true;
      return { status: 429, headers: { 'Retry-After': '7' }, body: { errorMessages: ['Rate limit exceeded.'] } };
    }
    const issue = /^\/rest\/api\/3\/issue\/([^/]+)\/(comment|transitions)$/.exec(req.url);
    const jsm = /^\/rest\/servicedeskapi\/request\/([^/]+)\/comment$/.exec(req.url);
    const key = issue?.[1] ?? jsm?.[1];
    if (key !== 'OPS-123') return { status: 404, body: { errorMessages: ['Issue does not exist'] } };
    if (jsm && req.method === 'POST') return { status: 201, body: { id: '1001', public: false } };
    if (issue?.[2] === 'comment' && req.method === 'POST') return { status: 201, body: { id: '10000' } };
    if (issue?.[2] === 'transitions' && req.method === 'GET') {
      return {
        status: 200,
        body: {
          expand: 'transitions',
          transitions: [
            { id: '21', name: 'Start Progress', to: { id: '3', name: 'In Progress' } },
            { id: '31', name: 'Done', to: { id: '10001', name: 'Done' } },
          ],
        },
      };
    }
    if (issue?.[2] === 'transitions' && req.method === 'POST') return { status: 204 };
    return { status: 405 };
  };
}

// ---- ServiceNow stand-in ---------------------------------------------------------------------------------------

const SNOW_USER = 'svc.gmsa';
const SNOW_PASSWORD = 'snow-pass-456';
const SYS_ID = '9d385017c611228701d22104cc95c371';

/** Answers like the Table API for one incident (INC0010001) and one requested item (RITM0010001). */
function serviceNowLike(): Handler {
  const records: Record<string, { table: string; sys_id: string; state: string }> = {
    INC0010001: { table: 'incident', sys_id: SYS_ID, state: '1' },
    RITM0010001: { table: 'sc_req_item', sys_id: 'b1a2c3', state: '1' },
  };
  return (req) => {
    if (req.headers.authorization !== basic(SNOW_USER, SNOW_PASSWORD)) {
      return {
        status: 401,
        body: {
          error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
          status: 'failure',
        },
      };
    }
    const url = new URL(req.url, 'http://x');
    const table = /^\/api\/now\/table\/([a-z_]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && table) {
      const number = /^number=(.+)$/.exec(url.searchParams.get('sysparm_query') ?? '')?.[1];
      const rec = number ? records[number] : undefined;
      // A query that matches nothing is 200 with an empty result, as on a real instance.
      const result = rec && rec.table === table ? [{ sys_id: rec.sys_id, number, state: rec.state }] : [];
      return { status: 200, body: { result } };
    }
    const patch = /^\/api\/now\/table\/([a-z_]+)\/([0-9a-f]+)$/.exec(url.pathname);
    if (req.method === 'PATCH' && patch) {
      const rec = Object.values(records).find((r) => r.table === patch[1] && r.sys_id === patch[2]);
      if (!rec) return { status: 404, body: { error: { message: 'No Record found' }, status: 'failure' } };
      return { status: 200, body: { result: { sys_id: rec.sys_id, ...(req.body as object) } } };
    }
    return { status: 400, body: { error: { message: 'Invalid request' } } };
  };
}

// ---- fixtures --------------------------------------------------------------------------------------------------

const RUN_URL = 'http://localhost:8233/namespaces/default/workflows/gmsa-provision-OPS-123';

function jiraUpdate(overrides: Partial<TicketUpdate> = {}): TicketUpdate {
  return {
    ticket: { system: 'jira', key: 'OPS-123' },
    milestone: 'started',
    headline: 'Provisioning gMSA svc-remote started',
    lines: ['Hosts: web01, web02', '    web01: pending', '    web02: pending', 'Docs: https://example.com/gmsa.'],
    step: 'preflight',
    ...overrides,
  };
}

function snowUpdate(overrides: Partial<TicketUpdate> = {}): TicketUpdate {
  return {
    ticket: { system: 'servicenow', key: 'INC0010001' },
    milestone: 'started',
    headline: 'Provisioning gMSA svc-remote started',
    lines: ['Hosts: web01, web02'],
    step: 'preflight',
    ...overrides,
  };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

// ---- Jira ------------------------------------------------------------------------------------------------------

describe('JiraAdapter', () => {
  let jira: StandIn;
  const reports: TicketAdapterReport[] = [];
  const adapter = (extra: Partial<ConstructorParameters<typeof JiraAdapter>[0]> = {}) =>
    new JiraAdapter({
      baseUrl: jira.url,
      email: JIRA_EMAIL,
      apiToken: JIRA_TOKEN,
      transitions: { started: 'start progress', succeeded: 'Done', failed: 'Reopen' },
      report: (r) => reports.push(r),
      ...extra,
    });

  beforeEach(async () => {
    reports.length = 0;
    jira = await startStandIn(jiraLike());
  });
  afterEach(() => jira.close());

  test('comments in ADF with Basic auth, then resolves the transition by name and posts its id', async () => {
    await adapter().postUpdate(jiraUpdate(), { runUrl: RUN_URL });

    expect(jira.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /rest/api/3/issue/OPS-123/transitions',
      'POST /rest/api/3/issue/OPS-123/comment',
      'POST /rest/api/3/issue/OPS-123/transitions',
    ]);
    for (const r of jira.requests) expect(r.headers.authorization).toBe(basic(JIRA_EMAIL, JIRA_TOKEN));

    const comment = jira.requests[1];
    expect(comment.headers['content-type']).toBe('application/json');
    const doc = (comment.body as { body: AdfDoc }).body;
    expect(doc.type).toBe('doc');
    expect(doc.version).toBe(1);
    expect(doc.content[0]).toEqual({
      type: 'paragraph',
      content: [{ type: 'text', text: 'Provisioning gMSA svc-remote started', marks: [{ type: 'strong' }] }],
    });
    expect(doc.content[1]).toEqual({ type: 'paragraph', content: [{ type: 'text', text: 'Hosts: web01, web02' }] });
    // Indented lines are grouped into one code block, indentation removed.
    expect(doc.content[2]).toEqual({
      type: 'codeBlock',
      content: [{ type: 'text', text: 'web01: pending\nweb02: pending' }],
    });
    // A URL inside a line becomes a link; the sentence's full stop stays text.
    expect(doc.content[3].content).toEqual([
      { type: 'text', text: 'Docs: ' },
      {
        type: 'text',
        text: 'https://example.com/gmsa',
        marks: [{ type: 'link', attrs: { href: 'https://example.com/gmsa' } }],
      },
      { type: 'text', text: '.' },
    ]);
    const footer = doc.content[doc.content.length - 1];
    expect(footer.type).toBe('paragraph');
    expect(footer.content).toContainEqual({
      type: 'text',
      text: 'Temporal run',
      marks: [{ type: 'link', attrs: { href: RUN_URL } }],
    });
    expect(footer.content).toContainEqual({ type: 'text', text: 'preflight', marks: [{ type: 'code' }] });

    // "start progress" matched "Start Progress" case-insensitively and was posted by its id.
    expect(jira.requests[2].body).toEqual({ transition: { id: '21' } });
    expect(reports).toEqual([]);
  });

  test('fenced lines become a code block; no run URL means no link, and no transition means no lookup', async () => {
    await adapter().postUpdate(
      jiraUpdate({
        milestone: 'needs-human',
        lines: ['Leftovers:', '```', 'gMSA svc-remote', '', 'endpoint on web02', '```'],
      }),
      { runUrl: null },
    );
    expect(jira.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /rest/api/3/issue/OPS-123/comment']);
    const doc = (jira.requests[0].body as { body: AdfDoc }).body;
    expect(doc.content).toContainEqual({
      type: 'codeBlock',
      content: [{ type: 'text', text: 'gMSA svc-remote\n\nendpoint on web02' }],
    });
    expect(JSON.stringify(doc)).not.toContain('"link"');
  });

  test('a transition the issue does not offer is reported, and the comment is still made', async () => {
    await adapter().postUpdate(jiraUpdate({ milestone: 'failed' }), { runUrl: RUN_URL });

    expect(jira.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /rest/api/3/issue/OPS-123/transitions',
      'POST /rest/api/3/issue/OPS-123/comment',
    ]);
    expect(reports).toEqual([
      expect.objectContaining({
        adapter: 'jira',
        ticket: 'OPS-123',
        problem: 'transition-unavailable',
        available: ['Start Progress', 'Done'],
      }),
    ]);
  });

  test('JSM internal notes go to the servicedesk API as plain text with public:false', async () => {
    await adapter({ internalNotes: true }).postUpdate(jiraUpdate({ milestone: 'succeeded' }), { runUrl: RUN_URL });

    expect(jira.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /rest/api/3/issue/OPS-123/transitions',
      'POST /rest/servicedeskapi/request/OPS-123/comment',
      'POST /rest/api/3/issue/OPS-123/transitions',
    ]);
    const note = jira.requests[1].body as { body: string; public: boolean };
    expect(note.public).toBe(false);
    expect(note.body.split('\n')).toContain(RUN_URL);
    expect(note.body.startsWith('Provisioning gMSA svc-remote started\n')).toBe(true);
    expect(jira.requests[2].body).toEqual({ transition: { id: '31' } });
  });

  test('wrong credentials: 401 becomes a non-retryable AccessDenied that does not carry the token', async () => {
    const err = await caught(adapter({ apiToken: 'wrong' }).postUpdate(jiraUpdate(), { runUrl: RUN_URL }));
    expect(err).toBeInstanceOf(BackendError);
    const be = err as BackendError;
    expect(be.type).toBe(FailureType.AccessDenied);
    expect(be.retryable).toBe(false);
    expect(be.details).toMatchObject({ status: 401, method: 'GET', path: '/rest/api/3/issue/OPS-123/transitions' });
    expect(JSON.stringify({ m: be.message, d: be.details })).not.toContain('wrong');
    // Failed at the lookup: nothing was written to the ticket.
    expect(jira.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  test('an unknown issue is ObjectNotFound', async () => {
    const err = await caught(
      adapter().postUpdate(jiraUpdate({ ticket: { system: 'jira', key: 'OPS-999' }, milestone: 'host-done' }), {
        runUrl: null,
      }),
    );
    expect(err).toMatchObject({ type: FailureType.ObjectNotFound, details: { status: 404 } });
  });

  test('429 with Retry-After is retryable and carries the delay; the next attempt goes through', async () => {
    jira.handle(jiraLike({ rateLimitOnce: true }));
    const err = await caught(adapter().postUpdate(jiraUpdate(), { runUrl: RUN_URL }));
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).retryable).toBe(true);
    expect((err as BackendError).details).toMatchObject({ status: 429, retryAfterMs: 7000 });

    await adapter().postUpdate(jiraUpdate(), { runUrl: RUN_URL });
    expect(jira.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  test('nothing listening is a retryable BackendUnavailable', async () => {
    const url = jira.url;
    await jira.close();
    jira = await startStandIn(jiraLike()); // afterEach closes this one
    const err = await caught(
      new JiraAdapter({ baseUrl: url, email: JIRA_EMAIL, apiToken: JIRA_TOKEN }).postUpdate(jiraUpdate(), {
        runUrl: null,
      }),
    );
    expect(err).toMatchObject({ type: FailureType.BackendUnavailable, details: { status: null } });
  });
});

// ---- ServiceNow ------------------------------------------------------------------------------------------------

describe('ServiceNowAdapter', () => {
  let snow: StandIn;
  const adapter = (extra: Partial<ConstructorParameters<typeof ServiceNowAdapter>[0]> = {}) =>
    new ServiceNowAdapter({
      instanceUrl: snow.url,
      user: SNOW_USER,
      password: SNOW_PASSWORD,
      states: { started: '2', succeeded: '6' },
      ...extra,
    });

  beforeEach(async () => {
    snow = await startStandIn(serviceNowLike());
  });
  afterEach(() => snow.close());

  test('finds the record by number, then PATCHes work_notes (URL on its own line) and the mapped state', async () => {
    await adapter().postUpdate(snowUpdate(), { runUrl: RUN_URL });

    expect(snow.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/now/table/incident?sysparm_query=number%3DINC0010001&sysparm_fields=sys_id,number,state&sysparm_limit=1',
      `PATCH /api/now/table/incident/${SYS_ID}`,
    ]);
    for (const r of snow.requests) {
      expect(r.headers.authorization).toBe(basic(SNOW_USER, SNOW_PASSWORD));
      expect(r.headers.accept).toBe('application/json');
    }
    expect(snow.requests[1].headers['content-type']).toBe('application/json');
    const body = snow.requests[1].body as { work_notes: string; state?: string };
    expect(body.state).toBe('2');
    const lines = body.work_notes.split('\n');
    expect(lines[0]).toBe('Provisioning gMSA svc-remote started');
    expect(lines).toContain('Hosts: web01, web02');
    expect(lines).toContain('Step: preflight');
    expect(lines[lines.length - 1]).toBe(RUN_URL);
  });

  test('the table follows the number prefix; an unmapped milestone leaves the state alone', async () => {
    await adapter().postUpdate(
      snowUpdate({ ticket: { system: 'servicenow', key: 'RITM0010001' }, milestone: 'host-done' }),
      {
        runUrl: null,
      },
    );
    expect(snow.requests[0].url.startsWith('/api/now/table/sc_req_item?')).toBe(true);
    expect(snow.requests[1].url).toBe('/api/now/table/sc_req_item/b1a2c3');
    expect(snow.requests[1].body).toEqual({
      work_notes: 'Provisioning gMSA svc-remote started\nHosts: web01, web02\nStep: preflight',
    });

    expect(tableForNumber('SCTASK0010001')).toBe('sc_task');
    expect(tableForNumber('INC0000042')).toBe('incident');
    expect(tableForNumber('X12', 'u_custom')).toBe('u_custom');
  });

  test('a number that matches nothing is ObjectNotFound, and nothing is patched', async () => {
    const err = await caught(
      adapter().postUpdate(snowUpdate({ ticket: { system: 'servicenow', key: 'INC0099999' } }), { runUrl: null }),
    );
    expect(err).toMatchObject({ type: FailureType.ObjectNotFound });
    expect(snow.requests.map((r) => r.method)).toEqual(['GET']);
  });

  test('a number carrying query syntax is refused before any request', async () => {
    const err = await caught(
      adapter().postUpdate(snowUpdate({ ticket: { system: 'servicenow', key: 'INC1^ORnumber=INC2' } }), {
        runUrl: null,
      }),
    );
    expect(err).toMatchObject({ type: FailureType.RequestInvalid });
    expect(snow.requests).toEqual([]);
  });

  test('wrong password: 401 becomes a non-retryable AccessDenied', async () => {
    const err = await caught(adapter({ password: 'nope' }).postUpdate(snowUpdate(), { runUrl: null }));
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).type).toBe(FailureType.AccessDenied);
    expect((err as BackendError).retryable).toBe(false);
    expect((err as BackendError).message).toContain('User Not Authenticated');
  });

  test('503 with an HTTP-date Retry-After is retryable with the delay', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    snow.handle(() => ({
      status: 503,
      headers: { 'Retry-After': at },
      body: { error: { message: 'Instance hibernating' } },
    }));
    const err = await caught(adapter().postUpdate(snowUpdate(), { runUrl: null }));
    expect(err).toMatchObject({ type: FailureType.BackendUnavailable, details: { status: 503 } });
    const delay = (err as BackendError).details?.retryAfterMs as number;
    expect(delay).toBeGreaterThan(20_000);
    expect(delay).toBeLessThanOrEqual(30_000);
  });
});

// ---- log adapter -----------------------------------------------------------------------------------------------

describe('LogAdapter', () => {
  test('writes exactly one JSON line per update, to a function or a stream', async () => {
    const lines: string[] = [];
    await new LogAdapter(
      (l) => lines.push(l),
      () => new Date('2026-01-02T03:04:05Z'),
    ).postUpdate(jiraUpdate({ lines: ['first\nsecond'] }), { runUrl: RUN_URL });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(JSON.parse(lines[0])).toEqual({
      ts: '2026-01-02T03:04:05.000Z',
      event: 'ticket-update',
      system: 'jira',
      ticket: 'OPS-123',
      milestone: 'started',
      step: 'preflight',
      headline: 'Provisioning gMSA svc-remote started',
      lines: ['first\nsecond'],
      runUrl: RUN_URL,
    });

    const written: string[] = [];
    await new LogAdapter({ write: (chunk: string) => written.push(chunk) }).postUpdate(jiraUpdate(), { runUrl: null });
    expect(written).toHaveLength(1);
    expect(written[0].endsWith('\n')).toBe(true);
    expect(written[0].slice(0, -1)).not.toContain('\n');
  });
});

// ---- choosing adapters -----------------------------------------------------------------------------------------

describe('createTicketPorts', () => {
  const jiraEnv = {
    GMSA_JIRA_BASE_URL: 'https://example.atlassian.net',
    GMSA_JIRA_EMAIL: 'a@b.c',
    GMSA_JIRA_API_TOKEN: 't',
  };
  const snowEnv = {
    GMSA_SNOW_INSTANCE_URL: 'https://dev1.service-now.com',
    GMSA_SNOW_USER: 'u',
    GMSA_SNOW_PASSWORD: 'p',
  };

  test('with nothing configured every system gets the log adapter, and links are off', () => {
    const ports = createTicketPorts({});
    expect(ports.forTicket({ system: 'jira', key: 'OPS-1' })).toBeInstanceOf(LogAdapter);
    expect(ports.forTicket({ system: 'servicenow', key: 'INC1' })).toBeInstanceOf(LogAdapter);
    expect(ports.links).toEqual({ uiUrl: null, namespace: 'default' });
  });

  test('picks Jira and ServiceNow by system when their variables are set', () => {
    const ports = createTicketPorts({
      ...jiraEnv,
      ...snowEnv,
      GMSA_JIRA_TRANSITIONS: '{"started":"Start Progress","succeeded":"Done"}',
      GMSA_SNOW_STATES: '{"started":2,"succeeded":"6"}',
      GMSA_TEMPORAL_UI_URL: 'http://localhost:8233',
      TEMPORAL_NAMESPACE: 'runbooks',
    });
    expect(ports.forTicket({ system: 'jira', key: 'OPS-1' })).toBeInstanceOf(JiraAdapter);
    expect(ports.forTicket({ system: 'servicenow', key: 'INC1' })).toBeInstanceOf(ServiceNowAdapter);
    expect(ports.forTicket({ system: 'generic', key: 'X-1' })).toBeInstanceOf(LogAdapter);
    expect(ports.forTicket({ system: 'cli', key: 'X-1' })).toBeInstanceOf(LogAdapter);
    expect(ports.links).toEqual({ uiUrl: 'http://localhost:8233', namespace: 'runbooks' });
    expect(ports.describe()).toEqual({ jira: 'jira', servicenow: 'servicenow', generic: 'log', cli: 'log' });
  });

  test('the configured maps reach the adapters (against the stand-ins)', async () => {
    const jira = await startStandIn(jiraLike());
    const snow = await startStandIn(serviceNowLike());
    try {
      const ports = createTicketPorts({
        GMSA_JIRA_BASE_URL: jira.url,
        GMSA_JIRA_EMAIL: JIRA_EMAIL,
        GMSA_JIRA_API_TOKEN: JIRA_TOKEN,
        GMSA_JIRA_TRANSITIONS: '{"succeeded":"done"}',
        GMSA_SNOW_INSTANCE_URL: snow.url,
        GMSA_SNOW_USER: SNOW_USER,
        GMSA_SNOW_PASSWORD: SNOW_PASSWORD,
        GMSA_SNOW_STATES: '{"succeeded":6}',
      });
      await ports
        .forTicket({ system: 'jira', key: 'OPS-123' })
        .postUpdate(jiraUpdate({ milestone: 'succeeded' }), { runUrl: null });
      await ports
        .forTicket({ system: 'servicenow', key: 'INC0010001' })
        .postUpdate(snowUpdate({ milestone: 'succeeded' }), { runUrl: null });
      expect(jira.requests[2].body).toEqual({ transition: { id: '31' } });
      expect(snow.requests[1].body).toMatchObject({ state: '6' });
    } finally {
      await jira.close();
      await snow.close();
    }
  });

  test.each([
    [{ ...jiraEnv, GMSA_JIRA_TRANSITIONS: '{not json' }, 'GMSA_JIRA_TRANSITIONS'],
    [{ ...jiraEnv, GMSA_JIRA_TRANSITIONS: '{"finished":"Done"}' }, 'GMSA_JIRA_TRANSITIONS'],
    [{ ...jiraEnv, GMSA_JIRA_TRANSITIONS: '{"started":""}' }, 'GMSA_JIRA_TRANSITIONS'],
    [{ ...snowEnv, GMSA_SNOW_STATES: '{"started":{"value":2}}' }, 'GMSA_SNOW_STATES'],
    [{ ...snowEnv, GMSA_SNOW_TABLE: 'Incident; drop' }, 'GMSA_SNOW_TABLE'],
    [{ ...jiraEnv, GMSA_JIRA_BASE_URL: 'ftp://example.com' }, 'GMSA_JIRA_BASE_URL'],
    [{ ...jiraEnv, GMSA_JIRA_INTERNAL_NOTES: 'yes' }, 'GMSA_JIRA_INTERNAL_NOTES'],
    [{ GMSA_TEMPORAL_UI_URL: 'localhost:8233' }, 'GMSA_TEMPORAL_UI_URL'],
    [{ GMSA_JIRA_BASE_URL: 'https://example.atlassian.net', GMSA_JIRA_EMAIL: 'a@b.c' }, 'GMSA_JIRA_API_TOKEN'],
    [{ GMSA_SNOW_PASSWORD: 'secret-value' }, 'GMSA_SNOW_INSTANCE_URL'],
  ])('a bad or incomplete configuration names the variable (%#)', (env, variable) => {
    let err: unknown;
    try {
      createTicketPorts(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TicketConfigError);
    expect((err as TicketConfigError).variable).toBe(variable);
    expect((err as Error).message.startsWith(`${variable}: `)).toBe(true);
    expect((err as Error).message).not.toContain('secret-value');
  });
});

// ---- the activity ----------------------------------------------------------------------------------------------

describe('postTicketUpdate activity', () => {
  /**
   * The activity reads its workflow id from the activity context. @temporalio/testing (MockActivityEnvironment)
   * is not a dependency, so the test provides the context the same way the worker does: through the activity
   * package's AsyncLocalStorage, with only the fields the activity reads.
   */
  function inActivity<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
    const context = {
      info: { workflowExecution: { workflowId, runId: 'run-1' } },
      cancellationSignal: new AbortController().signal,
      heartbeat: () => undefined,
    } as unknown as Context;
    return asyncLocalStorage.run(context, fn);
  }

  test('posts with a deep link built from its own workflow id', async () => {
    const seen: Array<string | null> = [];
    const acts = createTicketActivities(
      { forTicket: () => ({ name: 'spy', postUpdate: (_u, ctx) => Promise.resolve(void seen.push(ctx.runUrl)) }) },
      { uiUrl: 'http://localhost:8233/', namespace: 'default' },
    );
    await expect(inActivity('gmsa-provision-OPS-123', () => acts.postTicketUpdate(jiraUpdate()))).resolves.toEqual({
      delivered: true,
    });
    expect(seen).toEqual([RUN_URL]);

    const noUi = createTicketActivities(
      { forTicket: () => ({ name: 'spy', postUpdate: (_u, ctx) => Promise.resolve(void seen.push(ctx.runUrl)) }) },
      { uiUrl: null, namespace: 'default' },
    );
    await inActivity('gmsa-provision-OPS-123', () => noUi.postTicketUpdate(jiraUpdate()));
    expect(seen[1]).toBeNull();
  });

  test('401 → non-retryable AccessDenied; 429 → retryable with nextRetryDelay from Retry-After', async () => {
    const jira = await startStandIn(jiraLike({ rateLimitOnce: true }));
    try {
      const ports = createTicketPorts({
        GMSA_JIRA_BASE_URL: jira.url,
        GMSA_JIRA_EMAIL: JIRA_EMAIL,
        GMSA_JIRA_API_TOKEN: JIRA_TOKEN,
      });
      const acts = createTicketActivities(ports, { uiUrl: 'http://localhost:8233', namespace: 'default' });
      const limited = await caught(
        inActivity('gmsa-provision-OPS-123', () => acts.postTicketUpdate(jiraUpdate({ milestone: 'host-done' }))),
      );
      expect(limited).toBeInstanceOf(ApplicationFailure);
      expect(limited).toMatchObject({
        type: FailureType.BackendUnavailable,
        nonRetryable: false,
        nextRetryDelay: 7000,
      });

      const denied = createTicketActivities(
        createTicketPorts({ GMSA_JIRA_BASE_URL: jira.url, GMSA_JIRA_EMAIL: JIRA_EMAIL, GMSA_JIRA_API_TOKEN: 'bad' }),
        { uiUrl: null, namespace: 'default' },
      );
      const err = await caught(inActivity('gmsa-provision-OPS-123', () => denied.postTicketUpdate(jiraUpdate())));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: FailureType.AccessDenied, nonRetryable: true });
      expect((err as ApplicationFailure).details?.[0]).toMatchObject({ adapter: 'jira', status: 401 });
    } finally {
      await jira.close();
    }
  });

  test('a very long Retry-After is cut to the configured maximum', async () => {
    const acts = createTicketActivities(
      {
        forTicket: () => ({
          name: 'slow',
          postUpdate: () =>
            Promise.reject(
              new BackendError(FailureType.BackendUnavailable, 'rate limited', {
                status: 429,
                retryAfterMs: 3_600_000,
              }),
            ),
        }),
      },
      { uiUrl: null, namespace: 'default', maxRetryDelayMs: 45_000 },
    );
    const err = await caught(inActivity('wf', () => acts.postTicketUpdate(jiraUpdate())));
    expect(err).toMatchObject({ nextRetryDelay: 45_000, nonRetryable: false });
  });
});
