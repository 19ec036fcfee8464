/**
 * Workflow interceptors (bundled into the workflow sandbox: no Node APIs). Each activity and local activity the
 * workflow schedules carries the run's ticket and current step in the `gmsa-log-context` header, read from the
 * TicketKey/RunbookStep search attributes the workflow keeps up to date; the activity side puts them on every log
 * line. Headers are not commands, so this changes no workflow's command sequence.
 */
import {
  workflowInfo,
  type ActivityInput,
  type LocalActivityInput,
  type Next,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { encodeLogContext, LOG_CONTEXT_HEADER, type LogContext } from '../observability/log-context';
import { RunbookStep, TicketKey } from '../runbook/search-attributes';

function currentLogContext(): LogContext {
  const attributes = workflowInfo().typedSearchAttributes;
  const ticket = attributes.get(TicketKey);
  const step = attributes.get(RunbookStep);
  return { ...(ticket ? { ticket } : {}), ...(step ? { step } : {}) };
}

class LogContextOutbound implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return next({
      ...input,
      headers: { ...input.headers, [LOG_CONTEXT_HEADER]: encodeLogContext(currentLogContext()) },
    });
  }

  scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return next({
      ...input,
      headers: { ...input.headers, [LOG_CONTEXT_HEADER]: encodeLogContext(currentLogContext()) },
    });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ outbound: [new LogContextOutbound()] });
