/**
 * Starting a provisioning run: validate first (nothing starts on a bad request), one run per ticket (the workflow
 * id is the idempotency key), searchable by ticket and gMSA in the UI.
 */
import { WorkflowIdConflictPolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import { parseRunbookRequest, provisionWorkflowId, type RunbookRequest } from '../runbook/request';
import { GmsaName, RunbookState, RunbookStep, TicketKey } from '../runbook/search-attributes';
import type { provisionGmsaRemoting } from '../workflows';

export interface StartOptions {
  taskQueue: string;
}

export interface StartedRun {
  request: RunbookRequest;
  handle: WorkflowHandle<typeof provisionGmsaRemoting>;
  /** False when a run for this ticket was already going and this call attached to it. */
  started: boolean;
}

/** Throws RunbookRequestError (every bad field) before talking to Temporal at all. */
export async function startProvisioning(client: Client, input: unknown, opts: StartOptions): Promise<StartedRun> {
  const request = parseRunbookRequest(input);
  const workflowId = provisionWorkflowId(request.ticket.key);
  const handle = await client.workflow.start('provisionGmsaRemoting', {
    taskQueue: opts.taskQueue,
    workflowId,
    args: [request],
    // A duplicate delivery of the same ticket attaches to the running run instead of starting a second one.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: [
      { key: TicketKey, value: request.ticket.key },
      { key: GmsaName, value: request.gmsa.name },
      { key: RunbookStep, value: 'queued' },
      { key: RunbookState, value: 'running' },
    ],
    staticSummary: `gMSA ${request.gmsa.name} → ${request.endpoint.name} on ${request.hosts.length} host(s) (${request.ticket.key})`,
    staticDetails: [
      `**Ticket** ${request.ticket.key}${request.ticket.url ? ` (${request.ticket.url})` : ''}`,
      `**gMSA** ${request.domain.netbios}\\${request.gmsa.name}$`,
      `**Endpoint** ${request.endpoint.name} (${request.endpoint.sessionType})`,
      `**Hosts** ${request.hosts.join(', ')}`,
      request.dryRun ? '**Dry run**: plan only' : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
  });
  const description = await handle.describe();
  const started = description.runId === handle.firstExecutionRunId;
  return { request, handle: client.workflow.getHandle(workflowId, description.runId), started };
}
