/**
 * Jira Cloud (REST v3): a comment in Atlassian Document Format, then a workflow transition when the milestone has
 * one configured (ecosystem.md §4.2). Optionally a JSM internal note instead of a public comment.
 *
 * Transition ids differ per Jira workflow, so configuration names transitions and the id is looked up on the
 * issue each time. The lookup happens BEFORE the comment: if it fails (retryably), no comment has been made yet
 * and the activity's retry does not leave a duplicate behind.
 */
import { BackendError } from '../../backends/errors';
import { FailureType } from '../../runbook/failures';
import type { TicketMilestone, TicketUpdate } from '../../runbook/ticket';
import type { TicketPort, TicketUpdateContext } from '../port';
import {
  basicAuth,
  DEFAULT_HTTP_TIMEOUT_MS,
  isRecord,
  renderPlainText,
  requestJson,
  type HttpTarget,
  type TicketAdapterReport,
} from './shared';

export interface JiraAdapterConfig {
  /** `https://your-site.atlassian.net` */
  baseUrl: string;
  email: string;
  apiToken: string;
  /** Milestone → transition NAME (matched case-insensitively; ids differ per workflow). */
  transitions?: Partial<Record<TicketMilestone, string>>;
  /** Post JSM internal notes (`public: false`) instead of public comments on the issue. */
  internalNotes?: boolean;
  timeoutMs?: number;
  /** Where non-fatal problems go; by default one JSON line on stderr. */
  report?: (report: TicketAdapterReport) => void;
}

// ---- ADF (Atlassian Document Format), only the nodes we emit --------------------------------------------------

export interface AdfMark {
  type: 'strong' | 'code' | 'link';
  attrs?: { href: string };
}
export interface AdfText {
  type: 'text';
  text: string;
  marks?: AdfMark[];
}
export interface AdfBlock {
  type: 'paragraph' | 'codeBlock';
  content: AdfText[];
}
export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfBlock[];
}

const CODE_INDENT = '    ';
const FENCE = /^\s*```/;
const URL_PATTERN = /https?:\/\/[^\s<>"]+/g;

/**
 * Plain lines to ADF. ADF text is literal (no markdown; a URL is a link only with a link mark), so: the headline
 * is bold, URLs in a line become link marks, lines indented by four spaces (or between ``` fences) are grouped into
 * one codeBlock (logs, leftovers lists), and the run URL gets a link with a readable label. ADF rejects empty text
 * nodes, so blank lines outside code are dropped.
 */
export function toAdf(update: TicketUpdate, context: TicketUpdateContext): AdfDoc {
  const content: AdfBlock[] = [
    { type: 'paragraph', content: [{ type: 'text', text: update.headline, marks: [{ type: 'strong' }] }] },
  ];
  let code: string[] | null = null;
  let fenced = false;
  const flushCode = () => {
    if (code && code.length > 0)
      content.push({ type: 'codeBlock', content: [{ type: 'text', text: code.join('\n') }] });
    code = null;
  };
  for (const line of update.lines) {
    if (FENCE.test(line)) {
      if (fenced) flushCode();
      else {
        flushCode();
        code = [];
      }
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      (code ??= []).push(line);
      continue;
    }
    if (line.startsWith(CODE_INDENT)) {
      (code ??= []).push(line.slice(CODE_INDENT.length));
      continue;
    }
    flushCode();
    if (line.trim() === '') continue;
    content.push({ type: 'paragraph', content: linkify(line) });
  }
  flushCode();

  const footer: AdfText[] = [];
  if (context.runUrl) {
    footer.push({ type: 'text', text: 'Temporal run', marks: [{ type: 'link', attrs: { href: context.runUrl } }] });
    footer.push({ type: 'text', text: ' · ' });
  }
  footer.push({ type: 'text', text: 'step ' }, { type: 'text', text: update.step, marks: [{ type: 'code' }] });
  content.push({ type: 'paragraph', content: footer });
  return { type: 'doc', version: 1, content };
}

function linkify(line: string): AdfText[] {
  const out: AdfText[] = [];
  let last = 0;
  for (const match of line.matchAll(URL_PATTERN)) {
    // Sentence punctuation right after a URL belongs to the sentence.
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const start = match.index;
    if (start > last) out.push({ type: 'text', text: line.slice(last, start) });
    out.push({ type: 'text', text: url, marks: [{ type: 'link', attrs: { href: url } }] });
    last = start + url.length;
  }
  if (last < line.length) out.push({ type: 'text', text: line.slice(last) });
  return out;
}

// ---- the adapter ------------------------------------------------------------------------------------------------

interface JiraTransition {
  id: string;
  name: string;
  toName?: string;
}

export class JiraAdapter implements TicketPort {
  readonly name = 'jira';
  private readonly target: HttpTarget;
  private readonly report: (report: TicketAdapterReport) => void;

  constructor(private readonly config: JiraAdapterConfig) {
    this.target = {
      adapter: 'jira',
      baseUrl: config.baseUrl,
      authorization: basicAuth(config.email, config.apiToken),
      timeoutMs: config.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS,
    };
    this.report = config.report ?? defaultReport;
  }

  async postUpdate(update: TicketUpdate, context: TicketUpdateContext): Promise<void> {
    const key = update.ticket.key;
    const issue = encodeURIComponent(key);
    const wanted = this.config.transitions?.[update.milestone];
    const transition = wanted ? await this.resolveTransition(key, wanted) : null;

    if (this.config.internalNotes) {
      await requestJson(this.target, {
        method: 'POST',
        path: `/rest/servicedeskapi/request/${issue}/comment`,
        body: { body: renderPlainText(update, context), public: false },
      });
    } else {
      await requestJson(this.target, {
        method: 'POST',
        path: `/rest/api/3/issue/${issue}/comment`,
        body: { body: toAdf(update, context) },
      });
    }

    if (transition) {
      await requestJson(this.target, {
        method: 'POST',
        path: `/rest/api/3/issue/${issue}/transitions`,
        body: { transition: { id: transition.id } },
      });
    }
  }

  /**
   * The transition's id on this issue, or null (reported) when the issue does not offer it now: wrong name in the
   * configuration, or the issue is already past that status. Neither should cost the ticket its comment.
   */
  private async resolveTransition(key: string, wanted: string): Promise<JiraTransition | null> {
    const body = await requestJson(this.target, {
      method: 'GET',
      path: `/rest/api/3/issue/${encodeURIComponent(key)}/transitions`,
    });
    const transitions = parseTransitions(body);
    const lower = wanted.trim().toLowerCase();
    // By transition name first; the target status name is a fallback because people often configure "In Progress"
    // when the transition itself is called "Start progress".
    const found =
      transitions.find((t) => t.name.toLowerCase() === lower) ??
      transitions.find((t) => t.toName?.toLowerCase() === lower);
    if (found) return found;
    this.report({
      adapter: 'jira',
      ticket: key,
      problem: 'transition-unavailable',
      message: `transition "${wanted}" is not available on ${key}; the comment is posted without it`,
      available: transitions.map((t) => t.name),
    });
    return null;
  }
}

function parseTransitions(body: unknown): JiraTransition[] {
  if (!isRecord(body) || !Array.isArray(body.transitions)) {
    throw new BackendError(FailureType.BackendUnavailable, 'jira: the transitions answer has no transitions list', {
      adapter: 'jira',
    });
  }
  const out: JiraTransition[] = [];
  for (const t of body.transitions as unknown[]) {
    if (!isRecord(t) || typeof t.name !== 'string' || (typeof t.id !== 'string' && typeof t.id !== 'number')) continue;
    const toName = isRecord(t.to) && typeof t.to.name === 'string' ? t.to.name : undefined;
    out.push({ id: String(t.id), name: t.name, toName });
  }
  return out;
}

function defaultReport(report: TicketAdapterReport): void {
  process.stderr.write(`${JSON.stringify({ level: 'warn', ...report })}\n`);
}
