/**
 * Prepares an existing Temporal cluster (self-hosted or Temporal Cloud) for the runbooks: the namespace exists
 * (created on request), and the project's custom search attributes (runbook/search-attributes.ts) are registered in
 * it with the right types. Idempotent: a second run changes nothing and says so. A name that is already registered
 * with a different type is an error, since Temporal cannot change an attribute's type and the runbooks' upserts
 * would then fail their workflow tasks forever.
 */
import type { Connection } from '@temporalio/client';
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
  type SearchAttributeType,
} from '@temporalio/common/lib/search-attributes';
import { SEARCH_ATTRIBUTES } from '../runbook/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { CLI_TYPE_NAMES, ensureSearchAttributes } from './search-attributes';

type AnyKey = SearchAttributeKey<SearchAttributeType>;

/** The type names users see in the UI and `temporal operator search-attribute list`. */
const TYPE_NAMES = CLI_TYPE_NAMES;

export function searchAttributeTypeName(type: SearchAttributeType): string {
  return TYPE_NAMES[type];
}

/** A registered IndexedValueType number → its type name. */
function registeredTypeName(indexedValueType: number | null | undefined): string {
  const type = (Object.keys(TYPE_NAMES) as SearchAttributeType[]).find(
    (t) => encodeSearchAttributeIndexedValueType(t) === indexedValueType,
  );
  return type ? TYPE_NAMES[type] : `an unknown type (${String(indexedValueType)})`;
}

export interface SetupOptions {
  /** Register the namespace when it does not exist (self-hosted clusters; Temporal Cloud namespaces are made in Cloud). */
  createNamespace?: boolean;
  /** Retention of closed runs for a namespace this call creates, default 3 days (the `temporal` CLI's default). */
  retentionDays?: number;
  /** How long to keep retrying while the server is still starting or a new namespace is not served yet, default 0. */
  waitMs?: number;
  /** Default: runbook/search-attributes.ts SEARCH_ATTRIBUTES. */
  keys?: readonly AnyKey[];
  log?: (line: string) => void;
}

export interface SearchAttributeState {
  name: string;
  /** The type the runbooks need (Keyword, Datetime, …). */
  type: string;
}

export interface SetupReport {
  namespace: string;
  namespaceCreated: boolean;
  /** Registered by this call. */
  added: SearchAttributeState[];
  /** Were there already, with the right type. */
  present: SearchAttributeState[];
}

/** The cluster cannot be prepared as asked; the message says what is wrong and what to do. */
export class SetupError extends Error {
  override name = 'SetupError';
}

const GRPC = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, UNAVAILABLE: 14 };

function grpcCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  if ('code' in err && typeof err.code === 'number') return err.code;
  return 'cause' in err ? grpcCode(err.cause) : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Retries `fn` while it fails with a transient error (server starting, namespace just created) until `deadline`.
 * `transient` decides what counts; anything else is thrown at once.
 */
async function retrying<T>(
  deadline: number,
  what: string,
  log: (line: string) => void,
  fn: () => Promise<T>,
  transient: (err: unknown) => boolean,
): Promise<T> {
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!transient(err) || Date.now() >= deadline) throw err;
      // Short waits (a new namespace is usually served within a second or two) are not worth a line.
      if (!announced && Date.now() - started > 3_000) {
        log(`waiting for ${what} (${message(err).split('\n')[0]})…`);
        announced = true;
      }
      await sleep(500);
    }
  }
}

const serverStarting = (err: unknown) =>
  [GRPC.UNAVAILABLE, GRPC.DEADLINE_EXCEEDED].includes(grpcCode(err) ?? -1) ||
  /not enough hosts|unavailable/i.test(message(err));

/** Ensures the namespace and the search attributes; see the module comment. */
export async function setupTemporal(
  connection: Connection,
  namespace: string,
  options: SetupOptions = {},
): Promise<SetupReport> {
  const log = options.log ?? (() => undefined);
  const keys = options.keys ?? SEARCH_ATTRIBUTES;
  const deadline = Date.now() + (options.waitMs ?? 0);

  // 1. The namespace.
  let namespaceCreated = false;
  const exists = await retrying(
    deadline,
    'the Temporal server',
    log,
    async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } catch (err) {
        if (grpcCode(err) === GRPC.NOT_FOUND) return false;
        throw err;
      }
    },
    serverStarting,
  );
  if (!exists) {
    if (!options.createNamespace) {
      throw new SetupError(
        `namespace "${namespace}" does not exist on this server: create it (\`gmsa-runbook setup --create-namespace\`, ` +
          `or \`temporal operator namespace create -n ${namespace}\`; on Temporal Cloud, in the Cloud UI), or set ` +
          'TEMPORAL_NAMESPACE to an existing one',
      );
    }
    const days = options.retentionDays ?? 3;
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${days} days`),
        description: 'gmsa-runbooks',
      });
      namespaceCreated = true;
      log(`Created namespace ${namespace} (retention ${days} day${days === 1 ? '' : 's'})`);
    } catch (err) {
      // Another setup won the race: the namespace is there, which is what we want.
      if (grpcCode(err) !== GRPC.ALREADY_EXISTS) {
        throw new SetupError(`cannot create namespace "${namespace}": ${message(err)}`);
      }
    }
  }

  // 2. What is registered (a just-created namespace can take a moment to be served everywhere).
  const newNamespace = (err: unknown) => serverStarting(err) || grpcCode(err) === GRPC.NOT_FOUND;
  const listDeadline = namespaceCreated ? Math.max(deadline, Date.now() + 30_000) : deadline;
  const list = () =>
    retrying(
      listDeadline,
      `namespace ${namespace}`,
      log,
      async () => (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {},
      newNamespace,
    );
  const registered = await list();

  const present: SearchAttributeState[] = [];
  const missing: AnyKey[] = [];
  const conflicts: string[] = [];
  for (const key of keys) {
    const want = encodeSearchAttributeIndexedValueType(key.type);
    if (!(key.name in registered)) missing.push(key);
    else if (registered[key.name] === want) present.push({ name: key.name, type: TYPE_NAMES[key.type] });
    else {
      conflicts.push(
        `${key.name} is registered as ${registeredTypeName(registered[key.name])}, but the runbooks need ${TYPE_NAMES[key.type]}`,
      );
    }
  }
  if (conflicts.length > 0) {
    throw new SetupError(
      `search attributes on namespace "${namespace}" have the wrong type:\n` +
        conflicts.map((c) => `  - ${c}`).join('\n') +
        "\nTemporal cannot change a search attribute's type: remove it (`temporal operator search-attribute remove " +
        '--name <name>`, where the server allows it) or use another namespace.',
    );
  }

  // 3. Add what is missing; ensureSearchAttributes treats a concurrent registration (ALREADY_EXISTS) as success.
  let added: SearchAttributeState[] = [];
  if (missing.length > 0) {
    try {
      await retrying(
        listDeadline,
        `namespace ${namespace}`,
        log,
        () => ensureSearchAttributes(connection, namespace, missing),
        newNamespace,
      );
    } catch (err) {
      const hint =
        grpcCode(err) === GRPC.PERMISSION_DENIED
          ? ' (the credentials may not allow it; on Temporal Cloud, add them in the Cloud UI or with tcld)'
          : '';
      throw new SetupError(`cannot register search attributes on namespace "${namespace}": ${message(err)}${hint}`);
    }
    // Read back: what the server has now is the truth (another process may have registered some meanwhile).
    const after = await list();
    const stillMissing = missing.filter((k) => after[k.name] !== encodeSearchAttributeIndexedValueType(k.type));
    if (stillMissing.length > 0) {
      throw new SetupError(
        `registered ${missing.map((k) => k.name).join(', ')} on namespace "${namespace}", but the server does not ` +
          `list ${stillMissing.map((k) => k.name).join(', ')} with the right type afterwards`,
      );
    }
    added = missing.map((k) => ({ name: k.name, type: TYPE_NAMES[k.type] }));
  }
  return { namespace, namespaceCreated, added, present };
}

/** What `gmsa-runbook setup` prints: what was done, or that there was nothing to do. */
export function describeSetupReport(report: SetupReport): string[] {
  const list = (states: SearchAttributeState[]) => states.map((s) => `${s.name} (${s.type})`).join(', ');
  const lines: string[] = [];
  if (report.namespaceCreated) lines.push(`Created namespace ${report.namespace}.`);
  if (report.added.length > 0) {
    lines.push(
      `Added ${report.added.length} search attribute(s) to namespace ${report.namespace}: ${list(report.added)}.`,
    );
  }
  if (report.present.length > 0 && (report.added.length > 0 || report.namespaceCreated)) {
    lines.push(`Already registered with the right type: ${list(report.present)}.`);
  }
  if (lines.length === 0) {
    lines.push(
      `Nothing to do: namespace ${report.namespace} exists and has all ${report.present.length} search attributes ` +
        `with the right types (${list(report.present)}).`,
    );
  }
  return lines;
}
