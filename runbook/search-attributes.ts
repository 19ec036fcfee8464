/**
 * Custom search attributes: how runbooks are found in the Temporal UI (`TicketKey = "OPS-123"`). Every server
 * the project uses registers these (temporal/search-attributes.ts); upserting an unregistered one would fail the
 * workflow task forever.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TicketKey = defineSearchAttributeKey('TicketKey', SearchAttributeType.KEYWORD);
export const GmsaName = defineSearchAttributeKey('GmsaName', SearchAttributeType.KEYWORD);
/** The step the runbook is on: preflight, create-gmsa, wait-replication, hosts, rollback, done. */
export const RunbookStep = defineSearchAttributeKey('RunbookStep', SearchAttributeType.KEYWORD);
/** running, succeeded, rolling-back, rolled-back, needs-human, planned. */
export const RunbookState = defineSearchAttributeKey('RunbookState', SearchAttributeType.KEYWORD);

/** Re-verification: ok, drift or unreachable, and when it last ran (list endpoints by them in the UI). */
export const DriftStatus = defineSearchAttributeKey('DriftStatus', SearchAttributeType.KEYWORD);
export const LastVerifiedAt = defineSearchAttributeKey('LastVerifiedAt', SearchAttributeType.DATETIME);

export const SEARCH_ATTRIBUTES = [TicketKey, GmsaName, RunbookStep, RunbookState, DriftStatus, LastVerifiedAt] as const;
