/**
 * Values an attacker (or an unlucky copy-paste from a ticket) puts in string fields: every PowerShell quote
 * character, subexpressions, escapes, statement separators, here-string terminators, control characters and
 * sheer length. Tests feed them to every entry point.
 */
const QUOTES = ["'", '"', '\u2018', '\u2019', '\u201a', '\u201b', '\u201c', '\u201d', '\u201e'];

export const HOSTILE_VALUES: string[] = [
  ...QUOTES.map((q) => `a${q}b`),
  ...QUOTES.map((q) => `x${q}; Remove-Item C:\\ -Recurse; ${q}`),
  '$(Remove-Item C:\\ -Recurse)',
  '$env:COMPUTERNAME',
  '${function:Get-Item}',
  '`$(whoami)',
  'a`nb',
  'a; Stop-Computer -Force',
  'a | Out-File C:\\pwned.txt',
  'a && calc.exe',
  'line1\nline2',
  'line1\r\nInvoke-Expression evil',
  "'@\nRemove-Item C:\\\n@'",
  '"@\nRemove-Item C:\\\n@"',
  'nul\u0000byte',
  '<#comment#>',
  '#requires -RunAsAdministrator',
  '-WhatIf:$false',
  '@{a=1}',
  'x'.repeat(100_000),
];
