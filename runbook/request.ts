/**
 * The provisioning request: what a ticket, a file or a caller asks for. One zod schema is the contract for the
 * CLI, the webhook, the workflow and the activities; a bad request is refused before anything starts, with every
 * failing field and its rule in one message.
 *
 * Rules come from ../shared/reference/domain.md (sources there). Pure TypeScript: imported by workflow code.
 */
import { z } from 'zod';
import { printable, quoted } from './printable';

/** gMSA sAMAccountName is at most 15 characters including the `$` Windows appends: 14 usable. */
export const GMSA_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,13}$/;
/** NetBIOS domain names: at most 15 characters, no dots. */
export const NETBIOS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,14}$/;
/** A DNS name of at least two labels; each label 1..63 of letters, digits, inner hyphens. */
export const FQDN_PATTERN =
  /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Endpoint (session configuration) names: letters, digits, `.`, `_`, `-`. */
export const ENDPOINT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** `DOMAIN\Group` or `Group`: the principal a JEA role is granted to. */
export const ROLE_PRINCIPAL_PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9-]{0,14}\\)?[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
/** Role capability names (a .psrc file in a module's RoleCapabilities folder). */
export const ROLE_CAPABILITY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * An absolute local Windows path without wildcards: `C:\ProgramData\...`; no empty segment. Each segment is
 * followed by a `\` or the end, so a string is split one way only (linear time, whatever it holds). Device names
 * are WIN32_DEVICE_SEGMENT's rule.
 */
export const WINDOWS_PATH_PATTERN = /^[A-Za-z]:\\(?:[A-Za-z0-9 ._()-]+\\)*[A-Za-z0-9 ._()-]*$/;
/**
 * A path segment Win32 opens as a device in any directory: CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and with the
 * superscript digits ¹²³), CONIN$, CONOUT$; also with trailing spaces, trailing dots or an extension (`NUL.txt`,
 * `CON .log`): Win32 compares the part before the first dot, trailing spaces dropped.
 */
export const WIN32_DEVICE_SEGMENT =
  /^(?:CON|PRN|AUX|NUL|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3]|CONIN\$|CONOUT\$) *(?:\.[\s\S]*)?$/i;
/** Ticket keys as the ticketing systems spell them: `OPS-123`, `RITM0010001`, `INC42`. */
export const TICKET_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,31}-?[0-9]{1,12}$/;
/** Security group sAMAccountNames (group principal mode). */
export const GROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
/** Free text that ends up in AD attributes and comments: printable, no control characters. */
const PRINTABLE_TEXT = /^[^\p{Cc}]*$/u;

/** The first segment of a Windows path that is a Win32 device name, if any. */
export function win32DeviceSegment(path: string): string | undefined {
  return path.split(/[\\/]/).find((segment) => WIN32_DEVICE_SEGMENT.test(segment));
}

export const SESSION_TYPES = ['RestrictedRemoteServer', 'Default', 'Empty'] as const;
export const KERBEROS_ENCRYPTION_TYPES = ['AES128', 'AES256', 'RC4'] as const;

const ROLE_PRINCIPAL_RULE = 'must be a principal like LAB\\JEA-Operators';

/**
 * zod writes `lastIndex` on the patterns it checks with, so the schemas get their own copies: the exported patterns
 * may be frozen (the workflow sandbox deep-freezes modules it shares between runs, workflows/shared-modules.ts).
 */
const fresh = (pattern: RegExp): RegExp => new RegExp(pattern.source, pattern.flags);

/** Every schema of the request, built anew on each call (nothing is shared with another call's schemas). */
function buildRequestSchemas() {
  const fqdn = (what: string) =>
    z
      .string()
      .regex(fresh(FQDN_PATTERN), `must be a fully qualified DNS name (${what}), like server1.lab.local`)
      .transform((s) => s.toLowerCase());

  const RoleDefinitionSchema = z.object({
    roleCapabilities: z
      .array(z.string().regex(fresh(ROLE_CAPABILITY_PATTERN), 'must be a role capability name: letters, digits, . _ -'))
      .min(1, 'must name at least one role capability'),
  });

  const EndpointSchema = z
    .object({
      name: z
        .string()
        .regex(
          fresh(ENDPOINT_NAME_PATTERN),
          'must be 1-64 characters of letters, digits, . _ - starting with a letter or digit',
        )
        .refine((n) => !/^microsoft\./i.test(n), 'must not be a built-in endpoint name (Microsoft.*)'),
      sessionType: z.enum(SESSION_TYPES).default('RestrictedRemoteServer'),
      /** Only with this flag may an endpoint be anything but RestrictedRemoteServer (NoLanguage, a fixed command set). */
      allowUnrestrictedSessionType: z.boolean().default(false),
      roleDefinitions: z
        .record(z.string().regex(fresh(ROLE_PRINCIPAL_PATTERN), ROLE_PRINCIPAL_RULE), RoleDefinitionSchema, {
          // zod's own text for a key that breaks the key schema is "Invalid key in record": say the rule instead.
          error: (issue) => (issue.code === 'invalid_key' ? ROLE_PRINCIPAL_RULE : undefined),
        })
        .refine((r) => Object.keys(r).length > 0, 'must map at least one principal to its roles'),
      transcriptDirectory: z
        .string()
        .regex(
          fresh(WINDOWS_PATH_PATTERN),
          'must be an absolute local Windows path like C:\\ProgramData\\JEA\\Transcripts',
        )
        // A transcript "directory" such as C:\NUL or C:\Logs\CON.txt is a device: the audit trail would be discarded.
        .refine(
          (p) => win32DeviceSegment(p) === undefined,
          'must not contain a Win32 device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$, CONOUT$, also with an extension) as a folder or file name',
        ),
    })
    .superRefine((e, ctx) => {
      if (e.sessionType !== 'RestrictedRemoteServer' && !e.allowUnrestrictedSessionType) {
        ctx.addIssue({
          code: 'custom',
          path: ['sessionType'],
          message: `must be RestrictedRemoteServer unless allowUnrestrictedSessionType is true (got ${e.sessionType})`,
        });
      }
    });

  const PrincipalsSchema = z.discriminatedUnion('mode', [
    /** Each host's computer account (`HOST$`) is listed in PrincipalsAllowedToRetrieveManagedPassword. */
    z.object({ mode: z.literal('hosts') }),
    /** One security group is listed; hosts join it and must refresh their Kerberos tickets. */
    z.object({
      mode: z.literal('group'),
      group: z.string().regex(fresh(GROUP_NAME_PATTERN), 'must be a group name: letters, digits, space . _ -'),
    }),
  ]);

  const ReplicationPolicySchema = z.object({
    /** How long to wait between asking every DC for the object. */
    pollIntervalSeconds: z.number().min(0.1, 'must be at least 0.1 s').max(3600, 'must be at most 3600 s').default(15),
    /** Give up (ReplicationTimeout, then roll back) when not every DC has it by then. */
    timeoutSeconds: z
      .number()
      .min(1, 'must be at least 1 s')
      .max(7 * 24 * 3600, 'must be at most 7 days')
      .default(1800),
    /** `all`: every DC in the domain; `host-sites`: the DCs in the sites of the target hosts. */
    scope: z.enum(['all', 'host-sites']).default('all'),
    /** Ask AD to replicate the object right away (Sync-ADObject) instead of waiting for the schedule. */
    syncObject: z.boolean().default(false),
  });

  const RunbookRequestSchema = z
    .object({
      ticket: z.object({
        key: z.string().regex(fresh(TICKET_KEY_PATTERN), 'must be a ticket key like OPS-123 or RITM0010001'),
        system: z.enum(['jira', 'servicenow', 'generic', 'cli']).default('cli'),
        url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
      }),
      domain: z.object({
        netbios: z
          .string()
          .regex(fresh(NETBIOS_PATTERN), 'must be a NetBIOS domain name: 1-15 letters, digits or -')
          .transform((s) => s.toUpperCase()),
        dns: fqdn('the AD domain'),
      }),
      gmsa: z.object({
        name: z
          .string()
          .regex(
            fresh(GMSA_NAME_PATTERN),
            'must be 1-14 characters of letters, digits and -, starting with a letter or digit (sAMAccountName with $ is at most 15)',
          ),
        description: z
          .string()
          .max(200, 'must be at most 200 characters')
          .regex(fresh(PRINTABLE_TEXT), 'must not contain control characters')
          .optional(),
        kerberosEncryptionTypes: z
          .array(z.enum(KERBEROS_ENCRYPTION_TYPES))
          .min(1, 'must list at least one encryption type')
          .default(['AES128', 'AES256']),
        /** Settable only at creation (domain.md §1.2). */
        managedPasswordIntervalInDays: z.number().int().min(1).max(3650).default(30),
      }),
      principals: PrincipalsSchema.default({ mode: 'hosts' }),
      hosts: z
        .array(fqdn('a target host'))
        .min(1, 'must name at least one host')
        .max(500, 'must name at most 500 hosts')
        .refine((h) => new Set(h).size === h.length, 'must not name a host twice'),
      endpoint: EndpointSchema,
      replication: ReplicationPolicySchema.default(ReplicationPolicySchema.parse({})),
      /**
       * A human approves the plan before anything changes (the `approve` / `reject` updates, from the CLI or a ticket
       * transition). Rejected or not decided in time: the run ends with nothing changed.
       */
      approval: z
        .object({
          required: z.boolean().default(false),
          timeoutSeconds: z
            .number()
            .int()
            .min(1, 'must be at least 1 s')
            .max(30 * 24 * 3600, 'must be at most 30 days')
            .default(86_400),
        })
        .default({ required: false, timeoutSeconds: 86_400 }),
      /** Re-verification after a successful run: a Temporal Schedule `gmsa-verify-<gmsa>`. */
      verification: z
        .object({
          enabled: z.boolean().default(true),
          everyHours: z
            .number()
            .min(0.01, 'must be at least 0.01 h')
            .max(24 * 30, 'must be at most 30 days')
            .default(24),
          /** On drift, re-run the failed steps idempotently and verify again. */
          remediate: z.boolean().default(false),
        })
        .default({ enabled: true, everyHours: 24, remediate: false }),
      /** At most this many hosts are worked on at once. */
      maxParallelHosts: z.number().int().min(1, 'must be at least 1').max(64, 'must be at most 64').default(4),
      /** Run the read-only preflight, return the plan, change nothing. */
      dryRun: z.boolean().default(false),
      requestedBy: z.string().max(128).regex(fresh(PRINTABLE_TEXT), 'must not contain control characters').optional(),
    })
    .superRefine((r, ctx) => {
      // Test-ADServiceAccount and password retrieval are same-domain only (domain.md §1.4, §1.9 #11). Checked against
      // a valid domain only: a refused domain.dns is its own problem (and must not be echoed into the hosts' rule).
      if (!FQDN_PATTERN.test(r.domain.dns)) return;
      r.hosts.forEach((h, i) => {
        if (FQDN_PATTERN.test(h) && !h.endsWith(`.${r.domain.dns}`)) {
          ctx.addIssue({
            code: 'custom',
            path: ['hosts', i],
            message: `must be a host in the domain ${r.domain.dns} (got ${h})`,
          });
        }
      });
    });

  return { RoleDefinitionSchema, EndpointSchema, PrincipalsSchema, ReplicationPolicySchema, RunbookRequestSchema };
}

export type RequestSchemas = ReturnType<typeof buildRequestSchemas>;

let schemas: RequestSchemas | undefined;

/**
 * The request's schemas, built on first use and kept in this module, never exported as values: zod caches lazily
 * on schema objects, and the workflow sandbox deep-freezes what a shared module exports. Kept here instead, one
 * set of schemas serves every workflow run of a worker thread (built and compiled once, not once per run).
 */
export function requestSchemas(): RequestSchemas {
  return (schemas ??= buildRequestSchemas());
}

/** What callers write (defaults may be left out). */
export type RunbookRequestInput = z.input<RequestSchemas['RunbookRequestSchema']>;
/** What the workflow runs on (every default filled in, names normalised). */
export type RunbookRequest = z.output<RequestSchemas['RunbookRequestSchema']>;
export type EndpointSpec = RunbookRequest['endpoint'];
export type PrincipalsSpec = RunbookRequest['principals'];

export interface RequestProblem {
  field: string;
  rule: string;
}

/** Bounds of what a refusal shows: the characters of a field name and of a rule, the problems listed. */
export const PROBLEM_FIELD_MAX = 256;
export const PROBLEM_RULE_MAX = 1024;
export const PROBLEMS_LISTED_MAX = 100;

/**
 * The problems as they may be shown anywhere (a terminal, an HTTP answer, a workflow failure): each field and rule
 * printable (control and format characters, unpaired surrogates escaped) and bounded, at most PROBLEMS_LISTED_MAX
 * of them (`omitted` says how many more). Problems from requestProblems are that already: then only the count can
 * change. Other properties (a webhook's `source`) are kept.
 */
export function listedProblems<P extends RequestProblem>(problems: readonly P[]): { problems: P[]; omitted: number } {
  return {
    problems: problems.slice(0, PROBLEMS_LISTED_MAX).map((p) => ({
      ...p,
      field: printable(p.field, PROBLEM_FIELD_MAX),
      rule: printable(p.rule, PROBLEM_RULE_MAX),
    })),
    omitted: Math.max(0, problems.length - PROBLEMS_LISTED_MAX),
  };
}

/** `invalid runbook request:` and a `  - field: rule` line per problem (listedProblems: printable, bounded). */
export function problemsMessage(problems: readonly RequestProblem[]): string {
  const listed = listedProblems(problems);
  const lines = listed.problems.map((p) => `  - ${p.field}: ${p.rule}`);
  if (listed.omitted > 0) lines.push(`  … and ${listed.omitted} more problems`);
  return `invalid runbook request:\n${lines.join('\n')}`;
}

/** Thrown by parseRunbookRequest: the message lists every failing field and rule. */
export class RunbookRequestError extends Error {
  readonly type = 'RequestInvalid';
  constructor(readonly problems: RequestProblem[]) {
    super(problemsMessage(problems));
    this.name = 'RunbookRequestError';
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  return (
    path.reduce<string>((acc, key) => {
      if (typeof key === 'number') return `${acc}[${key}]`;
      // Keys of records reach a path only once their key rule accepted them; escaped all the same.
      const name = printable(String(key), 100);
      return acc ? `${acc}.${name}` : name;
    }, '') || '(request)'
  );
}

/**
 * One problem per issue, naming the field and the rule. A record key that breaks its rule (a role principal) is not
 * a field: the problem names the record, and the rule shows the key quoted, escaped and cut short. Every field and
 * rule is printable and bounded (a refused value can be a megabyte of terminal escape sequences).
 */
export function requestProblems(error: z.ZodError): RequestProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === 'invalid_key' && issue.path.length > 0) {
      const key = issue.path[issue.path.length - 1];
      return {
        field: printable(fieldName(issue.path.slice(0, -1)), PROBLEM_FIELD_MAX),
        rule: printable(`${issue.message} (got ${quoted(String(key))})`, PROBLEM_RULE_MAX),
      };
    }
    return {
      field: printable(fieldName(issue.path), PROBLEM_FIELD_MAX),
      rule: printable(issue.message, PROBLEM_RULE_MAX),
    };
  });
}

/** Validate and normalise a request. Throws RunbookRequestError naming every bad field. */
export function parseRunbookRequest(input: unknown): RunbookRequest {
  const result = requestSchemas().RunbookRequestSchema.safeParse(input);
  if (!result.success) throw new RunbookRequestError(requestProblems(result.error));
  return result.data;
}

/** The identity a session through the endpoint must report: `LAB\svc-remote$`. */
export function expectedIdentity(request: Pick<RunbookRequest, 'domain' | 'gmsa'>): string {
  return `${request.domain.netbios}\\${request.gmsa.name}$`;
}

/** The workflow id for a ticket: one run per ticket. */
export function provisionWorkflowId(ticketKey: string): string {
  return `gmsa-provision-${ticketKey}`;
}
