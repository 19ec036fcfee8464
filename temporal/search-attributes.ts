/**
 * Registers the project's custom search attributes on a namespace, idempotently.
 *
 * `temporal server start-dev --search-attribute` only takes effect when the dev server's DB file is first created
 * (for an existing namespace the sqlite schema's CreateNamespaces is a no-op), and an external server never sees
 * those flags at all. Upserting an unregistered attribute fails the workflow task forever, so every server the
 * project uses goes through this at start-up.
 */
import type { Connection } from '@temporalio/client';
// Not re-exported from the package index: the key type, and the SDK's own type → proto IndexedValueType mapping.
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
  type SearchAttributeType,
} from '@temporalio/common/lib/search-attributes';
import { SEARCH_ATTRIBUTES } from '../runbook/search-attributes';

type IndexedValueType = NonNullable<ReturnType<typeof encodeSearchAttributeIndexedValueType>>;
type AnySearchAttributeKey = SearchAttributeKey<SearchAttributeType>;

/**
 * `SearchAttributeType` → the type names `temporal server start-dev --search-attribute Name=Type` accepts, which are
 * also the names users see in the UI and `temporal operator search-attribute list`.
 */
export const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `--search-attribute` arguments for `temporal server start-dev`, so a fresh DB has them from the first moment. */
export function searchAttributeCliArgs(keys: readonly AnySearchAttributeKey[] = SEARCH_ATTRIBUTES): string[] {
  return keys.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`]);
}

/**
 * Adds whichever of `keys` (default: runbook/search-attributes.ts SEARCH_ATTRIBUTES) the namespace lacks and
 * returns the names it added (empty when all were there). Throws if a name exists with a different type, since
 * Temporal cannot change an attribute's type and the runbooks would then fail on upsert.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly AnySearchAttributeKey[] = SEARCH_ATTRIBUTES,
): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = customAttributes ?? {};
  const missing: AnySearchAttributeKey[] = [];
  for (const key of keys) {
    if (!(key.name in existing)) {
      missing.push(key);
      continue;
    }
    if (existing[key.name] !== encodeSearchAttributeIndexedValueType(key.type)) {
      const registered = (Object.keys(CLI_TYPE_NAMES) as SearchAttributeType[]).find(
        (type) => encodeSearchAttributeIndexedValueType(type) === existing[key.name],
      );
      throw new Error(
        `Search attribute ${key.name} is registered on namespace "${namespace}" as ${registered ?? 'an unknown type'}, ` +
          `but the runbooks need ${key.type}. Temporal cannot change a search attribute's type: use a fresh ` +
          'namespace or dev-server DB file.',
      );
    }
  }
  if (missing.length === 0) return [];

  const searchAttributes: Record<string, IndexedValueType> = {};
  for (const key of missing) {
    const type = encodeSearchAttributeIndexedValueType(key.type);
    if (type === undefined) throw new Error(`Search attribute ${key.name} has an unknown type ${key.type}`);
    searchAttributes[key.name] = type;
  }
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Two processes may race to register the same names; the loser gets ALREADY_EXISTS, which is the state we want.
    if (!isAlreadyExists(err)) throw err;
  }
  return missing.map((key) => key.name);
}

function isAlreadyExists(err: unknown): boolean {
  // gRPC status 6 = ALREADY_EXISTS.
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 6;
}
