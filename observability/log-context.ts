/**
 * The ticket and step a workflow is at, carried to its activities in a Temporal header so that every activity log
 * line names them. Shared by the workflow interceptor (sandbox: no Node APIs here) and the activity interceptor.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

export const LOG_CONTEXT_HEADER = 'gmsa-log-context';

export interface LogContext {
  ticket?: string;
  step?: string;
}

export function encodeLogContext(context: LogContext): Payload {
  return defaultPayloadConverter.toPayload(context);
}

/** A missing or unreadable header is an empty context: logging must never fail an activity. */
export function decodeLogContext(payload: Payload | undefined): LogContext {
  if (!payload) return {};
  try {
    const value: unknown = defaultPayloadConverter.fromPayload(payload);
    if (typeof value !== 'object' || value === null) return {};
    const { ticket, step } = value as Record<string, unknown>;
    return {
      ...(typeof ticket === 'string' ? { ticket } : {}),
      ...(typeof step === 'string' ? { step } : {}),
    };
  } catch {
    return {};
  }
}
