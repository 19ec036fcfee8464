/**
 * The .pssc (session configuration file) rendered from the typed object, never from user text, and a lint that
 * refuses what breaks a gMSA JEA endpoint (domain.md §1.5, §1.9, §1.10). Every string is a single-quoted
 * PowerShell literal with all five single-quote characters doubled, as PowerShell's own
 * CodeGeneration.EscapeSingleQuotedStringContent does.
 */
import {
  IDENTITY_PROBE_BODY,
  IDENTITY_PROBE_FUNCTION,
  type SessionConfigurationFile,
} from '../../runbook/session-configuration';

/** ' and the typographic single quotes U+2018–U+201B, which PowerShell also treats as quotes. */
const SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

export function psSingleQuoted(value: string): string {
  // A newline or other control character has no business in a pssc value; refuse rather than render it.
  if (/[\p{Cc}]/u.test(value)) throw new Error('a control character cannot go into a session configuration value');
  return `'${value.replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

const list = (values: string[]) => values.map(psSingleQuoted).join(', ');

/** Function bodies are code: only bodies this project defines may be rendered. */
const KNOWN_FUNCTION_BODIES: Record<string, string> = { [IDENTITY_PROBE_FUNCTION]: IDENTITY_PROBE_BODY };

export function renderPssc(cfg: SessionConfigurationFile): string {
  const roles = Object.entries(cfg.roleDefinitions)
    .map(
      ([principal, r]) =>
        `        ${psSingleQuoted(principal)} = @{ RoleCapabilities = @(${list(r.roleCapabilities)}) }`,
    )
    .join('\n');
  const functions = cfg.functionDefinitions
    .map((f) => {
      if (KNOWN_FUNCTION_BODIES[f.name] !== f.scriptBlock) {
        throw new Error(`function ${f.name}: only the project's own function bodies can be rendered`);
      }
      return `        @{ Name = ${psSingleQuoted(f.name)}; ScriptBlock = { ${f.scriptBlock} } }`;
    })
    .join('\n');
  return [
    '@{',
    `    SchemaVersion = ${psSingleQuoted(cfg.schemaVersion)}`,
    `    Description = ${psSingleQuoted(cfg.description)}`,
    `    SessionType = ${psSingleQuoted(cfg.sessionType)}`,
    `    GroupManagedServiceAccount = ${psSingleQuoted(cfg.groupManagedServiceAccount)}`,
    `    TranscriptDirectory = ${psSingleQuoted(cfg.transcriptDirectory)}`,
    '    RoleDefinitions = @{',
    roles,
    '    }',
    `    VisibleFunctions = @(${list(cfg.visibleFunctions)})`,
    '    FunctionDefinitions = @(',
    functions,
    '    )',
    '}',
    '',
  ].join('\n');
}

export interface PsscProblem {
  rule: string;
  message: string;
}

/**
 * What must never be registered: a virtual account or a RunAs credential next to the gMSA (not JEA-aware, or not
 * the gMSA at all), a built-in endpoint name, no transcripts, or an unrestricted session type unless the request
 * explicitly allowed it.
 */
export function lintSessionConfiguration(
  cfg: SessionConfigurationFile,
  rendered: string,
  opts: { allowUnrestrictedSessionType: boolean },
): PsscProblem[] {
  const problems: PsscProblem[] = [];
  if (/RunAsVirtualAccount/i.test(rendered)) {
    problems.push({ rule: 'no-virtual-account', message: 'RunAsVirtualAccount cannot be used with a gMSA' });
  }
  if (/RunAsCredential/i.test(rendered)) {
    problems.push({ rule: 'no-runas-credential', message: '-RunAsCredential makes the endpoint ignore JEA roles' });
  }
  if (/^microsoft\./i.test(cfg.name)) {
    problems.push({ rule: 'no-builtin-endpoint', message: `${cfg.name} is a built-in endpoint; use a dedicated name` });
  }
  if (!cfg.groupManagedServiceAccount.trim()) {
    problems.push({ rule: 'gmsa-required', message: 'GroupManagedServiceAccount is missing' });
  }
  if (!cfg.transcriptDirectory.trim()) {
    problems.push({
      rule: 'transcripts-required',
      message: 'TranscriptDirectory is missing: sessions would leave no record',
    });
  }
  if (cfg.sessionType !== 'RestrictedRemoteServer' && !opts.allowUnrestrictedSessionType) {
    problems.push({
      rule: 'restricted-session',
      message: `SessionType ${cfg.sessionType} is not RestrictedRemoteServer and the request did not allow it`,
    });
  }
  if (!cfg.visibleFunctions.includes(IDENTITY_PROBE_FUNCTION)) {
    problems.push({ rule: 'identity-probe', message: `${IDENTITY_PROBE_FUNCTION} must be visible for verification` });
  }
  return problems;
}
