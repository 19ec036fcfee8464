/**
 * The webhook server's Prometheus metrics (prom-client): deliveries by source and HTTP status, runbooks it started,
 * request durations, and the Node process's own metrics. One registry per server, so several servers in one
 * process (tests) never share or double-register series.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface WebhookMetrics {
  readonly registry: Registry;
  delivery(source: string, status: number, seconds: number): void;
  runbookStarted(source: string): void;
}

export function createWebhookMetrics(): WebhookMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const deliveries = new Counter({
    name: 'gmsa_webhook_deliveries_total',
    help: 'Webhook deliveries by source and the HTTP status they were answered with',
    labelNames: ['source', 'status'] as const,
    registers: [registry],
  });
  const started = new Counter({
    name: 'gmsa_webhook_runbooks_started_total',
    help: 'Provisioning runbooks started by a webhook delivery (duplicates attach and are not counted)',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gmsa_webhook_request_duration_seconds',
    help: 'Time to answer a webhook delivery, including the Temporal calls it makes',
    labelNames: ['source'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    delivery(source, status, seconds) {
      deliveries.inc({ source, status: String(status) });
      duration.observe({ source }, seconds);
    },
    runbookStarted(source) {
      started.inc({ source });
    },
  };
}
