/**
 * The default adapter (lab, tests, and any ticket system without credentials configured): one JSON line per
 * update, so the story a ticket would have told is still in the worker's log and can be grepped by ticket key.
 */
import type { TicketUpdate } from '../../runbook/ticket';
import type { TicketPort, TicketUpdateContext } from '../port';

/** Where the lines go: a stream (process.stdout by default) or a logger function taking one line. */
export type LogSink = { write(chunk: string): unknown } | ((line: string) => void);

export interface TicketLogLine {
  ts: string;
  event: 'ticket-update';
  system: string;
  ticket: string;
  milestone: string;
  step: string;
  headline: string;
  lines: string[];
  runUrl: string | null;
}

export class LogAdapter implements TicketPort {
  readonly name = 'log';

  constructor(
    private readonly sink: LogSink = process.stdout,
    private readonly now: () => Date = () => new Date(),
  ) {}

  postUpdate(update: TicketUpdate, context: TicketUpdateContext): Promise<void> {
    const entry: TicketLogLine = {
      ts: this.now().toISOString(),
      event: 'ticket-update',
      system: update.ticket.system,
      ticket: update.ticket.key,
      milestone: update.milestone,
      step: update.step,
      headline: update.headline,
      lines: update.lines,
      runUrl: context.runUrl,
    };
    // JSON.stringify escapes newlines inside values, so one update is always exactly one line.
    const line = JSON.stringify(entry);
    if (typeof this.sink === 'function') this.sink(line);
    else this.sink.write(`${line}\n`);
    return Promise.resolve();
  }
}
