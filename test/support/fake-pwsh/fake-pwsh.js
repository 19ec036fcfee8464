#!/usr/bin/env node
/**
 * A stand-in for `pwsh -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -NoExit -Command -`, so the
 * PowerShell backend's plumbing (backends/powershell/shell.ts) can be tested on a machine without PowerShell.
 * Point node-powershell at it with NODE_POWERSHELL=<this file>; node-powershell then spawns it instead of pwsh.
 *
 * It understands exactly the three kinds of line our wrapper and node-powershell send, and nothing else:
 *   - node-powershell's framing: `[Console]::Out.WriteLine("<D>")` / `[Console]::Error.WriteLine("<D>")`
 *     → print <D> on stdout / stderr (node-powershell waits for each delimiter twice per invoke);
 *   - the setup line (`$ProgressPreference=...; Import-Module ...`) → nothing, like a successful setup;
 *   - `& '<script path>' -PayloadB64 '<base64>'` → the canned answer for the script's file name.
 * Anything else is written to stderr as an error, the way pwsh reports a command it cannot run; a test that
 * sends unexpected text therefore sees it (and the log shows it).
 *
 * Lines are handled one at a time, in order, like pwsh reading `-Command -`: while a script "runs" (delayMs), the
 * framing lines after it wait. That is what makes node-powershell's own timeout useless (ecosystem.md §1.4).
 *
 * Environment:
 *   FAKE_PWSH_SCENARIO  JSON file: { "<Script>.ps1": Step | Step[] , "$comment"?: string }
 *     Step = { result?: any; error?: ErrorRecord (backends/powershell/protocol.ts); delayMs?: number;
 *              stdoutNoise?: string[]; stderrNoise?: string[]; echoPayload?: boolean; times?: number;
 *              exitCode?: number }
 *     exitCode makes the process die after the noise and delay, without answering (pwsh crashing mid-script).
 *     An array is a sequence: each step answers `times` calls (default: all remaining), then the next one takes
 *     over; the last step answers every call after that. With echoPayload the result line carries
 *     { payload: <decoded payload>, result: <result ?? null> }, so tests can see what the script received.
 *   FAKE_PWSH_LOG  JSON-lines file; appended: {pid, event:'start', argv} once, then {pid, event:'line', line} for
 *     every line received. Call counts for `times` are taken from this log, so sequences span processes (the
 *     wrapper starts a fresh shell per run). Without a log, counts are per process.
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS program run by node, not a TS module */
/* global process, Buffer, setTimeout -- the lint config declares no Node globals for .js files */

const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const RESULT_MARKER = '@@RESULT@@';
const ERROR_MARKER = '@@ERROR@@';

const FRAMING = /^\[Console\]::(Out|Error)\.WriteLine\("([0-9A-Za-z]+)"\)$/;
const SETUP = /^\$ProgressPreference\s*=/;
// The only invocation shape the protocol produces: a single-quoted path and a base64 argument.
const INVOCATION = /^& '([^'\u2018-\u201b]+)' -PayloadB64 '([A-Za-z0-9+/]*={0,2})'$/;

const logFile = process.env.FAKE_PWSH_LOG;
const scenarioFile = process.env.FAKE_PWSH_SCENARIO;

function log(record) {
  if (!logFile) return;
  // Synchronous, so the log is complete at the moment the answer is printed (tests read it right after).
  fs.appendFileSync(logFile, JSON.stringify({ pid: process.pid, ...record }) + '\n');
}

function loadScenario() {
  if (!scenarioFile) return {};
  return JSON.parse(fs.readFileSync(scenarioFile, 'utf8'));
}

/** How many times `script` was invoked before this call, across every fake process sharing the log. */
function previousCalls(script) {
  if (!logFile || !fs.existsSync(logFile)) return localCalls.get(script) ?? 0;
  let count = 0;
  for (const text of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!text) continue;
    const entry = JSON.parse(text);
    const m = entry.event === 'line' ? INVOCATION.exec(entry.line) : null;
    if (m && path.win32.basename(m[1]) === script) count++;
  }
  // The current call is already logged.
  return count - 1;
}
const localCalls = new Map();

function pickStep(entry, callIndex) {
  const steps = Array.isArray(entry) ? entry : [entry];
  let remaining = callIndex;
  for (const step of steps) {
    if (step.times === undefined || remaining < step.times) return step;
    remaining -= step.times;
  }
  return steps[steps.length - 1];
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function b64json(value) {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** What pwsh prints for a script that is not there (CommandNotFoundException), on the error stream. */
function notFound(scriptPath) {
  return (
    `&: The term '${scriptPath}' is not recognized as a name of a cmdlet, function, script file, or executable ` +
    'program.\nCheck the spelling of the name, or if a path was included, verify that the path is correct and try again.'
  );
}

async function runScript(scriptPath, payloadB64) {
  const script = path.win32.basename(scriptPath); // handles both C:\dir\X.ps1 and /dir/X.ps1
  const scenario = loadScenario();
  const entry = scenario[script];
  if (entry === undefined) {
    process.stderr.write(notFound(scriptPath) + '\n');
    return;
  }
  const callIndex = previousCalls(script);
  localCalls.set(script, (localCalls.get(script) ?? 0) + 1);
  const step = pickStep(entry, callIndex);

  for (const noise of step.stdoutNoise ?? []) process.stdout.write(noise + '\n');
  for (const noise of step.stderrNoise ?? []) process.stderr.write(noise + '\n');
  if (step.delayMs) await sleep(step.delayMs);
  if (step.exitCode !== undefined) process.exit(step.exitCode);

  if (step.error) {
    process.stdout.write(ERROR_MARKER + b64json(step.error) + '\n');
    return;
  }
  let value = step.result ?? null;
  if (step.echoPayload) {
    const payload = JSON.parse(Buffer.from(payloadB64, 'base64').toString('utf8'));
    value = { payload, result: step.result ?? null };
  }
  process.stdout.write(RESULT_MARKER + b64json(value) + '\n');
}

async function handle(line) {
  const framing = FRAMING.exec(line);
  if (framing) {
    (framing[1] === 'Out' ? process.stdout : process.stderr).write(framing[2] + '\n');
    return;
  }
  if (SETUP.test(line)) return;
  const invocation = INVOCATION.exec(line);
  if (invocation) {
    await runScript(invocation[1], invocation[2]);
    return;
  }
  if (line.trim() === '') return; // pwsh ignores empty lines too
  process.stderr.write(`fake-pwsh: cannot interpret line: ${JSON.stringify(line.slice(0, 200))}\n`);
}

async function main() {
  log({ event: 'start', argv: process.argv.slice(2) });
  // crlfDelay: a CRLF is one line break (node-powershell sends os.EOL, which is CRLF on Windows).
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    log({ event: 'line', line });
    await handle(line);
  }
}

main().catch((err) => {
  process.stderr.write(`fake-pwsh crashed: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(70);
});
