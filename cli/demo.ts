/**
 * `npm start`: the main job on the embedded lab. Brings the stack up, submits the sample request (the seed
 * article's scenario, done right), shows live progress, prints the verified identity and the UI link, then keeps
 * the stack up for the UI until Ctrl-C (with CI=true or --once it exits: 0 on success).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabAdminClient } from '../backends/lab/client';
import { startProvisioning } from '../client/start';
import { workflowListUrl, workflowUrl } from '../client/ui-links';
import { watchRun } from '../client/watch';
import { connectClient } from './connect';
import { startDevStack } from './dev-stack';
import { printOutcome } from './report';

export const SAMPLE_REQUEST_FILE = join(__dirname, '..', '..', 'examples', 'testgmsa-remoting.json');

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

    const sample = JSON.parse(readFileSync(SAMPLE_REQUEST_FILE, 'utf8')) as { ticket: { key: string } };
    sample.ticket.key = `DEMO-${Math.floor(Date.now() / 1000)}`;
    const { client, close } = await connectClient({ ...stack, address: stack.temporalAddress });
    try {
      const run = await startProvisioning(client, sample, { taskQueue: stack.taskQueue });
      log(
        `Started ${run.handle.workflowId}: gMSA ${run.request.gmsa.name} → endpoint ${run.request.endpoint.name} on ${run.request.hosts.join(', ')}`,
      );
      if (stack.uiUrl) log(`Temporal UI: ${workflowUrl(stack.uiUrl, stack.namespace, run.handle.workflowId)}`);
      const outcome = await watchRun(run.handle);
      printOutcome(outcome);
      if (stack.uiUrl) {
        log(`Temporal UI: ${workflowUrl(stack.uiUrl, stack.namespace, run.handle.workflowId)}`);
        log(
          `All runs for this ticket: ${workflowListUrl(stack.uiUrl, stack.namespace, `TicketKey="${run.request.ticket.key}"`)}`,
        );
      }
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
