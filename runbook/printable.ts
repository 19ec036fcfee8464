/**
 * Text that came from a request (or a payload) on its way to a terminal, a log line, an HTTP answer or a workflow
 * failure: characters a terminal or a reader would act on are escaped, and the length is bounded, so a refused
 * value can neither rewrite the operator's screen nor make a megabyte error.
 *
 * Pure TypeScript: imported by workflow code (through runbook/request.ts).
 */

/**
 * One character that is never printed as it is: C0 and C1 controls and DEL (ESC/CSI sequences, CR, BEL), format
 * characters (bidi overrides, zero-width characters, the byte order mark), the line and paragraph separators, and
 * an unpaired UTF-16 surrogate (no UTF-8 writer can carry it: it would come out as U+FFFD).
 */
const UNSAFE = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]$/u;

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(ch: string): string {
  const short = SHORT_ESCAPES[ch];
  if (short) return short;
  // JSON's spelling: one \uXXXX per UTF-16 unit (an astral format character is two).
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

function bounded(text: string, max: number, piece: (ch: string) => string): { out: string; cut: boolean } {
  let out = '';
  // for…of walks code points: a surrogate pair stays whole, an unpaired surrogate comes alone.
  for (const ch of text) {
    const p = piece(ch);
    if (out.length + p.length > max) return { out, cut: true };
    out += p;
  }
  return { out, cut: false };
}

/**
 * `text` with every unsafe character escaped (`\u001b`, `\n`, `\ud800`) and at most about `max` characters: a
 * longer text is cut and says how long it was. Text without unsafe characters and within `max` is returned as it is.
 */
export function printable(text: string, max = 1024): string {
  const { out, cut } = bounded(text, max, (ch) => (UNSAFE.test(ch) ? escapeChar(ch) : ch));
  return cut ? `${out}… (${text.length} characters)` : out;
}

/**
 * `text` quoted the way JSON spells a string (also `\\` and `\"` escaped, so the quoted form is unambiguous), with
 * the unsafe characters escaped and at most `max` characters of it shown: for naming a refused value in a rule.
 */
export function quoted(text: string, max = 64): string {
  const { out, cut } = bounded(text, max, (ch) =>
    ch === '\\' || ch === '"' ? `\\${ch}` : UNSAFE.test(ch) ? escapeChar(ch) : ch,
  );
  return cut ? `"${out}…" (${text.length} characters)` : `"${out}"`;
}

/** Whether `text` holds a character `printable` would escape. */
export function hasUnsafeCharacters(text: string): boolean {
  for (const ch of text) if (UNSAFE.test(ch)) return true;
  return false;
}

/**
 * Every line of `text` made printable on its own (the newlines between them kept), each at most about `maxLine`
 * characters, at most `maxLines` lines (then how many more there were).
 */
export function printableLines(text: string, maxLine = 4096, maxLines = 1000): string {
  const lines = text.split('\n');
  const shown = lines.slice(0, maxLines).map((line) => printable(line, maxLine));
  if (lines.length > maxLines) shown.push(`… (${lines.length - maxLines} more lines)`);
  return shown.join('\n');
}
