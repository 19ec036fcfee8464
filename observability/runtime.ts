/**
 * Installs the process-wide Temporal runtime for a worker process: its log lines go to pino, and, when an address
 * is given, the SDK's Prometheus exporter serves `/metrics` there — the SDK's own metrics (task latencies,
 * schedule-to-start, slots, sticky cache…) and the project's, which workflows emit through `metricMeter`.
 */
import { Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { PinoTemporalLogger } from './temporal-logger';

export function installWorkerRuntime(opts: { logger: Logger; metricsAddress?: string }): void {
  Runtime.install({
    logger: new PinoTemporalLogger(opts.logger),
    telemetryOptions: {
      // Core's own log lines (connection trouble, poller errors) join the same JSON stream.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(opts.metricsAddress
        ? { metrics: { prometheus: { bindAddress: opts.metricsAddress, countersTotalSuffix: true } } }
        : {}),
    },
  });
}
