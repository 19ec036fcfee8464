/**
 * Activity interceptors: every activity log line carries the ticket and step from the workflow's log-context
 * header, and each execution logs one line when it starts and one when it ends (with its duration and, on failure,
 * the failure type), which is what an operator greps for first.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptors,
  ActivityInterceptorsFactory,
  GetLogAttributesInput,
  Next,
  ActivityOutboundCallsInterceptor,
} from '@temporalio/worker';
import { decodeLogContext, LOG_CONTEXT_HEADER, type LogContext } from './log-context';

class LogContextInbound implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly context: { value: LogContext },
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    this.context.value = decodeLogContext(input.headers[LOG_CONTEXT_HEADER]);
    const started = Date.now();
    this.ctx.log.info('activity started');
    try {
      const result = await next(input);
      this.ctx.log.info('activity completed', { durationMs: Date.now() - started });
      return result;
    } catch (err) {
      const failureType = err instanceof ApplicationFailure ? err.type : err instanceof Error ? err.name : 'unknown';
      this.ctx.log.warn('activity failed', {
        durationMs: Date.now() - started,
        failureType,
        error: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
  }
}

class LogContextOutbound implements ActivityOutboundCallsInterceptor {
  constructor(private readonly context: { value: LogContext }) {}

  getLogAttributes(
    input: GetLogAttributesInput,
    next: Next<ActivityOutboundCallsInterceptor, 'getLogAttributes'>,
  ): Record<string, unknown> {
    return next({ ...input, ...this.context.value });
  }
}

export const activityLogContextInterceptor: ActivityInterceptorsFactory = (ctx): ActivityInterceptors => {
  const context = { value: {} as LogContext };
  return { inbound: new LogContextInbound(ctx, context), outbound: new LogContextOutbound(context) };
};
