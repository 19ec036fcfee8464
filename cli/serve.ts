/**
 * `gmsa-runbook serve`: the webhook server on its own, against whatever Temporal the environment or a running dev
 * stack names. Secrets come from the environment variables the configuration file names.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createLogger } from '../observability/logger';
import { loadWebhookConfig } from '../ticketing/webhook/config';
import { startWebhookServer } from '../ticketing/webhook/server';
import { connectClient, resolveTarget } from './connect';

export const DEFAULT_WEBHOOK_PORT = 8788;

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0 = any)');
  return n;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('the webhook server: signed Jira, ServiceNow and Standard Webhooks deliveries start runbooks')
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', port, DEFAULT_WEBHOOK_PORT)
    .option('--host <address>', 'address to listen on (put a TLS proxy in front of anything but loopback)', '127.0.0.1')
    .option('-c, --config <file>', 'webhook configuration JSON (default: $GMSA_WEBHOOK_CONFIG)')
    .action(async (o: { port: number; host: string; config?: string }) => {
      // Configuration first: a missing secret should fail before anything connects or listens.
      const config = loadWebhookConfig(o.config);
      const logger = createLogger({ service: 'gmsa-webhook' });
      const target = resolveTarget();
      const { client, close } = await connectClient(target);
      const server = await startWebhookServer({
        client,
        namespace: target.namespace,
        taskQueue: target.taskQueue,
        uiUrl: target.uiUrl,
        config,
        port: o.port,
        host: o.host,
        logger,
      });
      const routes = [config.generic && 'generic', config.jira && 'jira', config.servicenow && 'servicenow'];
      logger.info(
        {
          url: server.url,
          routes: routes.filter(Boolean),
          temporal: target.address,
          namespace: target.namespace,
          taskQueue: target.taskQueue,
        },
        `webhooks on ${server.url}/webhooks/{${routes.filter(Boolean).join(',')}}, metrics on ${server.url}/metrics`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      await close();
    });
}
