/**
 * PowerShell syntax checks without PowerShell: the tree-sitter-powershell grammar, run as WASM in web-tree-sitter
 * (ecosystem.md §3). The native tree-sitter runtime does not load on this Debian (GLIBCXX), the WASM one needs no
 * compiling.
 *
 * Syntax only: the grammar does not know that PowerShell treats ‘ ’ ‚ ‛ “ ” „ as quotes, so it is never a safety
 * check on generated text (protocol.ts and psQuote are). On Windows, Test-PSSessionConfigurationFile and the real
 * parser remain the authority.
 *
 * Known false positive (tree-sitter-powershell 0.26.4): a command argument that is a comma list starting with a bare
 * word, `Get-ADObject -Properties cn, 'msKds-UseStartTime'` or `-Properties cn, sn`, is reported as an error
 * (`MISSING " "` or `ERROR`), although PowerShell accepts it. Quote every element (`-Properties 'cn', 'sn'`), which
 * parses here and means the same to PowerShell, or wrap it: `-Properties @('cn', 'sn')`.
 */
import { readFile } from 'node:fs/promises';
import { Language, Parser, type Node } from 'web-tree-sitter';

export interface SyntaxProblem {
  /** 1-based, like an editor and like PowerShell's own parse errors. */
  line: number;
  /** 1-based. */
  column: number;
  /** What is wrong: `ERROR near "…"` or `MISSING "}"`. */
  text: string;
}

export interface SyntaxReport {
  ok: boolean;
  errors: SyntaxProblem[];
}

let parserPromise: Promise<Parser> | undefined;

/** One parser for the whole test file: loading the runtime and the 1 MB grammar takes a while, parsing is fast. */
function getParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    // Resolve only the .wasm: the package's own entry point is ESM with top-level await and cannot be required.
    // Read the bytes ourselves: given a path, Language.load does `await import('fs/promises')`, which jest's CJS
    // runtime refuses without --experimental-vm-modules.
    const wasm = await readFile(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
    const language = await Language.load(wasm);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

/** Parse PowerShell source (a .ps1, a .psrc/.pssc hashtable) and list every ERROR and MISSING node. */
export async function parsePowerShell(text: string): Promise<SyntaxReport> {
  const parser = await getParser();
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree (parser has no language?)');
  try {
    const errors: SyntaxProblem[] = [];
    collect(tree.rootNode, errors);
    return { ok: errors.length === 0, errors };
  } finally {
    // Trees live in WASM memory, not in the JS heap: free them or every parse leaks.
    tree.delete();
  }
}

/** Only descend where tree-sitter says there is an error below; a clean subtree cannot hold one. */
function collect(node: Node, out: SyntaxProblem[]): void {
  if (node.isMissing) {
    out.push(problem(node, `MISSING ${JSON.stringify(node.type)}`));
    return;
  }
  if (node.isError) {
    out.push(problem(node, `ERROR near ${JSON.stringify(excerpt(node.text))}`));
    // An ERROR node can contain further MISSING/ERROR nodes; they are reported too, but usually the first is the cause.
  }
  if (!node.hasError) return;
  for (const child of node.children) collect(child, out);
}

function problem(node: Node, text: string): SyntaxProblem {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1, text };
}

function excerpt(text: string): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  return firstLine.length > 60 ? `${firstLine.slice(0, 60)}…` : firstLine;
}
