/**
 * Webhook server configuration: which sources are on, how each one authenticates, how its payload maps to a
 * runbook request, which Jira statuses approve or reject. The file holds only the NAMES of environment variables
 * for secrets (`secretEnv`), so the file can be committed and secrets never reach workflow arguments or history.
 *
 * `loadWebhookConfig()` reads the file named by GMSA_WEBHOOK_CONFIG (or a path), validates it with zod and resolves
 * the secrets; every error names the field (`jira.auth[0].secretEnv: …`).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Dot paths into a payload: `issue.fields.customfield_10050`, `variables.gmsa_name`, `changelog.items.0`. */
const SOURCE_PATH = /^[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*$/;
/** Dot paths into the request: `gmsa.name`, `ticket.key`. No indexes: lists come whole (`as: "list"`). */
const TARGET_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Keys that would walk into Object.prototype when a path is followed or assigned. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);
const noForbiddenSegment = (p: string) => p.split('.').every((s) => !FORBIDDEN_SEGMENTS.has(s));

const sourcePath = z
  .string()
  .regex(SOURCE_PATH, 'must be a dot path into the payload, like issue.fields.customfield_10050')
  .refine(noForbiddenSegment, 'must not use __proto__, prototype or constructor');

/** Environment variable names only: a secret value pasted here would end up in the repository. */
const secretEnv = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable holding the secret, not the secret');

/** How a payload value becomes a request value (ticketing systems send most things as strings). */
export const FIELD_CONVERSIONS = ['raw', 'string', 'list', 'number', 'boolean'] as const;

export const FieldSourceSchema = z.union([
  sourcePath,
  z.strictObject({
    from: sourcePath,
    /** `list`: a string is split on commas, semicolons and whitespace (Jira text fields, ServiceNow variables). */
    as: z.enum(FIELD_CONVERSIONS).default('raw'),
  }),
  z.strictObject({
    /** `{dot.path}` placeholders, URL-encoded: for links such as `https://acme.atlassian.net/browse/{issue.key}`. */
    template: z
      .string()
      .min(1)
      .refine(
        (t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => SOURCE_PATH.test(m[1]) && noForbiddenSegment(m[1])),
        'placeholders must be {dot.path} into the payload',
      ),
  }),
]);

export const MappingSchema = z.strictObject({
  /** Request field (dot path) → where its value comes from in the payload. */
  fields: z.record(
    z
      .string()
      .regex(TARGET_PATH, 'must be a dot path into the request, like gmsa.name')
      .refine(noForbiddenSegment, 'must not use __proto__, prototype or constructor'),
    FieldSourceSchema,
  ),
  /** Constant parts of the request (domain, endpoint, replication…), overridden by mapped fields. */
  defaults: z.record(z.string(), z.unknown()).default({}),
});

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name')
  .transform((h) => h.toLowerCase());

const JiraAuthFileSchema = z.discriminatedUnion('mode', [
  /** Admin webhook (Settings → System → WebHooks) with a secret: `X-Hub-Signature: sha256=<hex>` of the body. */
  z.strictObject({ mode: z.literal('hub-signature'), secretEnv }),
  /** Automation "Send web request": it cannot sign, so a static secret header over HTTPS. */
  z.strictObject({ mode: z.literal('static-token'), header: headerName.default('x-runbook-token'), secretEnv }),
]);

const replayDefaults = { ttlSeconds: 7 * 24 * 3600, maxEntries: 10_000 };

export const WebhookConfigFileSchema = z.strictObject({
  /** Bodies above this are refused with 413 without reading them. */
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024, 'must be at least 1024')
    .max(16 * 1024 * 1024, 'must be at most 16 MiB')
    .default(64 * 1024),
  /** Seen delivery ids are kept here too, so a restart does not reopen the replay window. */
  replayStoreFile: z.string().min(1).optional(),
  replay: z
    .strictObject({
      /** How long a delivery id is remembered (Jira and ServiceNow ids have no timestamp to bound them). */
      ttlSeconds: z
        .number()
        .int()
        .min(600, 'must be at least 600 s (twice the Standard Webhooks tolerance)')
        .default(replayDefaults.ttlSeconds),
      /** Memory bound; the oldest ids go first when it is reached. */
      maxEntries: z.number().int().min(100).max(1_000_000).default(replayDefaults.maxEntries),
    })
    .default(replayDefaults),
  generic: z
    .strictObject({
      /** A `whsec_<base64>` secret (Standard Webhooks). */
      secretEnv,
      toleranceSeconds: z.number().int().min(1).max(3600).default(300),
    })
    .optional(),
  jira: z
    .strictObject({
      auth: z.array(JiraAuthFileSchema).min(1, 'must configure at least one mode: unsigned deliveries are refused'),
      /** `webhookEvent` values that start a run; deliveries without a webhookEvent (Automation) always do. */
      startEvents: z.array(z.string().min(1)).default(['jira:issue_created']),
      approval: z
        .strictObject({
          approvedStatus: z.string().min(1).optional(),
          rejectedStatus: z.string().min(1).optional(),
          /** Moving the ticket to this status decommissions what its provisioning run made. */
          decommissionStatus: z.string().min(1).optional(),
        })
        .default({}),
      mapping: MappingSchema,
    })
    .optional(),
  servicenow: z
    .strictObject({
      /** Holds base64 HMAC-SHA256 of the raw body (GlideCertificateEncryption.generateMac). */
      header: headerName.default('x-runbook-signature'),
      secretEnv,
      /** Payload paths whose values together identify one delivery (a record update). */
      deliveryId: z.array(sourcePath).min(1).default(['sys_id', 'sys_updated_on']),
      mapping: MappingSchema,
    })
    .optional(),
});

export type WebhookConfigFile = z.input<typeof WebhookConfigFileSchema>;
type ParsedFile = z.output<typeof WebhookConfigFileSchema>;
export type Mapping = z.output<typeof MappingSchema>;
export type FieldSource = z.output<typeof FieldSourceSchema>;

export type JiraAuth =
  { mode: 'hub-signature'; secret: string } | { mode: 'static-token'; header: string; secret: string };

/** The configuration the server runs on: the file, validated, with secret VALUES resolved from the environment. */
export interface WebhookConfig {
  bodyLimitBytes: number;
  replayStoreFile?: string;
  replay: { ttlSeconds: number; maxEntries: number };
  generic?: { secret: string; toleranceSeconds: number };
  jira?: {
    auth: JiraAuth[];
    startEvents: string[];
    approval: { approvedStatus?: string; rejectedStatus?: string; decommissionStatus?: string };
    mapping: Mapping;
  };
  servicenow?: { header: string; secret: string; deliveryId: string[]; mapping: Mapping };
}

export class WebhookConfigError extends Error {
  constructor(readonly problems: { field: string; rule: string }[]) {
    super(`invalid webhook configuration:\n${problems.map((p) => `  - ${p.field}: ${p.rule}`).join('\n')}`);
    this.name = 'WebhookConfigError';
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  return (
    path.reduce<string>((acc, key) => {
      if (typeof key === 'number') return `${acc}[${key}]`;
      return acc ? `${acc}.${String(key)}` : String(key);
    }, '') || '(config)'
  );
}

/** Validate a parsed config file and resolve its secrets from `env`. Throws WebhookConfigError naming every field. */
export function resolveWebhookConfig(file: unknown, env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const parsed = WebhookConfigFileSchema.safeParse(file);
  if (!parsed.success) {
    throw new WebhookConfigError(parsed.error.issues.map((i) => ({ field: fieldName(i.path), rule: i.message })));
  }
  const f: ParsedFile = parsed.data;
  const problems: { field: string; rule: string }[] = [];
  // The message names the variable, never its value.
  const secret = (field: string, name: string, check?: (value: string) => string | null): string => {
    const value = env[name];
    if (!value) {
      problems.push({ field, rule: `environment variable ${name} is not set` });
      return '';
    }
    const bad = check?.(value);
    if (bad) problems.push({ field, rule: `environment variable ${name} ${bad}` });
    return value;
  };
  const config: WebhookConfig = {
    bodyLimitBytes: f.bodyLimitBytes,
    replayStoreFile: f.replayStoreFile,
    replay: f.replay,
  };
  if (f.generic) {
    config.generic = {
      secret: secret('generic.secretEnv', f.generic.secretEnv, standardWebhooksSecretProblem),
      toleranceSeconds: f.generic.toleranceSeconds,
    };
  }
  if (f.jira) {
    const modes = f.jira.auth.map((a) => a.mode);
    if (new Set(modes).size !== modes.length) problems.push({ field: 'jira.auth', rule: 'must list each mode once' });
    config.jira = {
      auth: f.jira.auth.map((a, i): JiraAuth => {
        const value = secret(`jira.auth[${i}].secretEnv`, a.secretEnv, minLength(16));
        return a.mode === 'hub-signature'
          ? { mode: a.mode, secret: value }
          : { mode: a.mode, header: a.header, secret: value };
      }),
      startEvents: f.jira.startEvents,
      approval: f.jira.approval,
      mapping: f.jira.mapping,
    };
  }
  if (f.servicenow) {
    config.servicenow = {
      header: f.servicenow.header,
      secret: secret('servicenow.secretEnv', f.servicenow.secretEnv, minLength(16)),
      deliveryId: f.servicenow.deliveryId,
      mapping: f.servicenow.mapping,
    };
  }
  if (!config.generic && !config.jira && !config.servicenow) {
    problems.push({ field: '(config)', rule: 'must configure at least one of generic, jira, servicenow' });
  }
  if (problems.length) throw new WebhookConfigError(problems);
  return config;
}

/** A guessable secret makes the signature worthless; 16 characters is a floor, not a recommendation. */
function minLength(n: number) {
  return (value: string) => (value.length < n ? `must be at least ${n} characters` : null);
}

function standardWebhooksSecretProblem(value: string): string | null {
  const b64 = value.startsWith('whsec_') ? value.slice('whsec_'.length) : value;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'must be whsec_<base64>';
  const bytes = Buffer.from(b64, 'base64').length;
  return bytes < 24 || bytes > 64 ? 'must decode to 24-64 bytes (Standard Webhooks)' : null;
}

/** Reads the JSON file named by `path` or by GMSA_WEBHOOK_CONFIG. */
export function loadWebhookConfig(path?: string, env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const file = path ?? env.GMSA_WEBHOOK_CONFIG;
  if (!file) {
    throw new Error('no webhook configuration: pass --config FILE or set GMSA_WEBHOOK_CONFIG (see examples/)');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read webhook configuration ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`webhook configuration ${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return resolveWebhookConfig(json, env);
}

/** The lab's fixed request parts: what a ticket does not say (domain, endpoint, replication). */
const LAB_DEFAULTS = {
  domain: { netbios: 'LAB', dns: 'lab.local' },
  endpoint: {
    name: 'GmsaRemoting',
    roleDefinitions: { 'LAB\\JEA-Operators': { roleCapabilities: ['GmsaRemotingOperator'] } },
    transcriptDirectory: 'C:\\ProgramData\\JEA\\Transcripts',
  },
};

/** The file form of the sample configuration: examples/webhook-config.json is this, as JSON. */
export function sampleWebhookConfigFile(): WebhookConfigFile {
  return {
    bodyLimitBytes: 65536,
    replayStoreFile: '.state/webhooks/replay.json',
    generic: { secretEnv: 'GMSA_GENERIC_WEBHOOK_SECRET', toleranceSeconds: 300 },
    jira: {
      auth: [
        { mode: 'hub-signature', secretEnv: 'GMSA_JIRA_WEBHOOK_SECRET' },
        { mode: 'static-token', header: 'X-Runbook-Token', secretEnv: 'GMSA_JIRA_AUTOMATION_TOKEN' },
      ],
      startEvents: ['jira:issue_created'],
      approval: { approvedStatus: 'Approved', rejectedStatus: 'Rejected', decommissionStatus: 'Decommission' },
      mapping: {
        fields: {
          'ticket.key': 'issue.key',
          'ticket.url': { template: 'https://example.atlassian.net/browse/{issue.key}' },
          'gmsa.name': 'issue.fields.customfield_10050',
          'gmsa.description': 'issue.fields.summary',
          hosts: { from: 'issue.fields.customfield_10051', as: 'list' },
          requestedBy: 'issue.fields.reporter.emailAddress',
        },
        defaults: { ticket: { system: 'jira' }, ...LAB_DEFAULTS },
      },
    },
    servicenow: {
      header: 'X-Runbook-Signature',
      secretEnv: 'GMSA_SERVICENOW_WEBHOOK_SECRET',
      deliveryId: ['sys_id', 'sys_updated_on'],
      mapping: {
        fields: {
          'ticket.key': 'number',
          'ticket.url': { template: 'https://example.service-now.com/sc_req_item.do?sys_id={sys_id}' },
          'gmsa.name': 'variables.gmsa_name',
          'gmsa.description': 'short_description',
          hosts: { from: 'variables.hosts', as: 'list' },
          dryRun: { from: 'variables.dry_run', as: 'boolean' },
          requestedBy: 'requested_for.email',
        },
        defaults: { ticket: { system: 'servicenow' }, ...LAB_DEFAULTS },
      },
    },
  };
}

/**
 * Development-only secrets for the dev stack, the demo and tests. Never use these anywhere reachable: they are in
 * the repository. Production sets the variables the config file names.
 */
export const DEV_WEBHOOK_SECRETS: Readonly<Record<string, string>> = {
  GMSA_GENERIC_WEBHOOK_SECRET: `whsec_${Buffer.from('gmsa-runbooks dev generic secret!!').toString('base64')}`,
  GMSA_JIRA_WEBHOOK_SECRET: 'gmsa-runbooks-dev-jira-webhook-secret',
  GMSA_JIRA_AUTOMATION_TOKEN: 'gmsa-runbooks-dev-jira-automation-token',
  GMSA_SERVICENOW_WEBHOOK_SECRET: 'gmsa-runbooks-dev-servicenow-secret',
};

/**
 * The sample configuration, resolved with DEV_WEBHOOK_SECRETS (or `env`). Seen delivery ids stay in memory unless
 * `replayStoreFile` is given: the example file's relative path would land in whatever the working directory is.
 */
export function sampleWebhookConfig(opts: { env?: NodeJS.ProcessEnv; replayStoreFile?: string } = {}): WebhookConfig {
  const file = { ...sampleWebhookConfigFile(), replayStoreFile: opts.replayStoreFile };
  return resolveWebhookConfig(file, opts.env ?? DEV_WEBHOOK_SECRETS);
}
