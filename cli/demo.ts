/**
 * `npm start`: the main job on the embedded lab. Brings the stack up, submits the sample request (the seed
 * article's scenario, done right), shows live progress, prints the verified identity and the UI link, then keeps
 * the stack up for the UI until Ctrl-C (with CI=true or --once it exits: 0 on success).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabAdminClient } from '../backends/lab/client';
import type { RunbookRequestInput } from '../runbook/request';
import { DEV_WEBHOOK_SECRETS } from '../ticketing/webhook/config';
import { standardWebhookHeaders } from '../ticketing/webhook/signatures';
import { workflowListUrl, workflowUrl } from '../client/ui-links';
import { watchRun } from '../client/watch';
import { connectClient } from './connect';
import { startDevStack } from './dev-stack';
import { printOutcome } from './report';

export const SAMPLE_REQUEST_FILE = join(__dirname, '..', '..', 'examples', 'testgmsa-remoting.json');

/** POST the ticket, signed with the dev stack's generic webhook secret; the answer names the run. */
async function deliverTicket(
  webhookUrl: string,
  request: RunbookRequestInput,
  log: (l: string) => void,
): Promise<string> {
  const body = JSON.stringify({ request });
  const secret = DEV_WEBHOOK_SECRETS.GMSA_GENERIC_WEBHOOK_SECRET;
  const response = await fetch(`${webhookUrl}/webhooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...standardWebhookHeaders(secret, body) },
    body,
  });
  const answer = (await response.json()) as { workflowId?: string; error?: string };
  if (response.status !== 202 && response.status !== 200) {
    throw new Error(`the webhook refused the sample ticket (${response.status}): ${JSON.stringify(answer)}`);
  }
  log(`Ticket ${request.ticket.key} delivered to ${webhookUrl}/webhooks/generic → ${response.status}`);
  return answer.workflowId ?? '';
}

export async function runDemo(opts: {
  stateDir: string;
  once: boolean;
  keepLab: boolean;
  timeScale?: number;
  directory?: 'lab' | 'samba';
}): Promise<number> {
  const log = (line: string) => console.log(line);
  log('Starting the embedded stack (Temporal dev server + UI, lab domain, worker)…');
  const stack = await startDevStack({ ...opts, log });
  const stop = async () => {
    await stack.stop();
  };
  try {
    if (!opts.keepLab) await new LabAdminClient(stack.labUrl).reset(); // each demo starts from the same lab

    const sample = JSON.parse(readFileSync(SAMPLE_REQUEST_FILE, 'utf8')) as RunbookRequestInput;
    sample.ticket.key = `DEMO-${Math.floor(Date.now() / 1000)}`;
    sample.ticket.system = 'generic';
    const { client, close } = await connectClient({ ...stack, address: stack.temporalAddress });
    try {
      // The way tickets arrive: a signed delivery to the webhook server (Standard Webhooks), not a direct start.
      const workflowId = await deliverTicket(stack.webhookUrl, sample, log);
      const handle = client.workflow.getHandle(workflowId);
      log(
        `Started ${workflowId}: gMSA ${sample.gmsa.name} → endpoint ${sample.endpoint.name} on ${sample.hosts.join(', ')}`,
      );
      if (stack.uiUrl) log(`Temporal UI: ${workflowUrl(stack.uiUrl, stack.namespace, workflowId)}`);
      const outcome = await watchRun(handle);
      printOutcome(outcome);
      if (stack.uiUrl) {
        log(`Temporal UI: ${workflowUrl(stack.uiUrl, stack.namespace, workflowId)}`);
        log(
          `All runs for this ticket: ${workflowListUrl(stack.uiUrl, stack.namespace, `TicketKey="${sample.ticket.key}"`)}`,
        );
      }
      log(`Ticket comments (log adapter): ${join(stack.stateDir, 'ticket-comments.log')}`);
      if (opts.once || process.env.CI === 'true') return outcome.ok ? 0 : 1;
      log('The stack stays up for the UI. Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      return outcome.ok ? 0 : 1;
    } finally {
      await close();
    }
  } finally {
    await stop();
  }
}
