/**
 * Runs one fixed script in a fresh PowerShell process through node-powershell, and nothing else.
 *
 * node-powershell 5.0.1 is unmaintained and has traps (ecosystem.md §1); this wrapper is the only place that
 * touches it, and uses it in the one way that is safe:
 *   - a NEW process per run(): one shell per activity attempt, so no state (variables, $ErrorActionPreference,
 *     a stray command still running after a timeout) leaks from one call into the next;
 *   - no tagged-template helpers (`PowerShell.$`, `$$`, `command`): they splice values into script text and are an
 *     injection vector. The only text we send is a fixed setup line and protocol.ts's invocationLine(), whose
 *     values travel as base64;
 *   - `debug` stays off: it logs every command and its output through console.log;
 *   - its `invocationTimeout` is not used: it rejects but leaves the command running. Our own timer disposes the
 *     process instead;
 *   - `throwOnInvocationError: false`, because node-powershell calls any stderr output an error (a warning is
 *     enough), and then hands back stderr instead of stdout. The answer is the marked line on stdout either way.
 *
 * The executable can be replaced without touching this code: node-powershell itself spawns $NODE_POWERSHELL
 * instead of whatever it is given when that variable is set (dist/PowerShell.js setExecutable). Tests point it at
 * test/support/fake-pwsh/fake-pwsh.js.
 */
import { join } from 'node:path';
import { InvocationError, PowerShell, ProcessError, type InvocationResult } from 'node-powershell';
import { currentCallContext } from '../call-context';
import { BackendError } from '../errors';
import { FailureType } from '../../runbook/failures';
import { invocationLine, parseScriptOutput, type ScriptOutcome } from './protocol';

export interface PowerShellRunnerOptions {
  /** 'pwsh', 'powershell' (Windows PowerShell 5.1) or a full path; $NODE_POWERSHELL overrides it. */
  executable: string;
  /** Folder of the fixed .ps1 scripts on the machine that runs PowerShell. */
  scriptsDir: string;
  /** Budget for one run, process start included. */
  timeoutMs: number;
  /** Imported by the setup line before the script runs. Default: ActiveDirectory. */
  importModules?: string[];
  /** How often to heartbeat while a run is in flight. Default 5000 ms. */
  heartbeatEveryMs?: number;
  /**
   * Environment of the PowerShell process. Default: the worker's own (child_process's default). Tests pass theirs
   * explicitly: under jest, `process.env` in a test is a copy that child_process never sees.
   */
  env?: NodeJS.ProcessEnv;
}

/** Script names are file names in scriptsDir, never paths: nothing can point the runner elsewhere. */
const SCRIPT_NAME = /^[A-Za-z0-9-]+\.ps1$/;
/** Module names go into the setup line as bare words, so they are held to a strict shape too. */
const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** How long a disposed process gets to exit on SIGTERM before it is killed outright. */
const KILL_GRACE_MS = 2000;

export class PowerShellRunner {
  private readonly executable: string;
  private readonly scriptsDir: string;
  private readonly timeoutMs: number;
  private readonly heartbeatEveryMs: number;
  private readonly setupLine: string;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(opts: PowerShellRunnerOptions) {
    const modules = opts.importModules ?? ['ActiveDirectory'];
    for (const m of modules) {
      if (!MODULE_NAME.test(m)) throw new Error(`invalid PowerShell module name: ${JSON.stringify(m)}`);
    }
    if (!(opts.timeoutMs > 0)) throw new Error(`timeoutMs must be positive, got ${opts.timeoutMs}`);
    this.executable = opts.executable;
    this.scriptsDir = opts.scriptsDir;
    this.timeoutMs = opts.timeoutMs;
    this.heartbeatEveryMs = opts.heartbeatEveryMs ?? 5000;
    this.env = opts.env;
    // ONE line: `-Command -` reads stdin like a prompt, and a multi-line statement may wait for an empty line
    // (PowerShell/PowerShell#3223). Stop turns non-terminating errors into catchable ones; no progress bars
    // (they are slow and go to the host); UTF-8 output for any text that is not base64.
    this.setupLine = [
      "$ProgressPreference='SilentlyContinue'",
      "$ErrorActionPreference='Stop'",
      '[Console]::OutputEncoding=[Text.Encoding]::UTF8',
      ...modules.map((m) => `Import-Module ${m}`),
    ].join('; ');
  }

  /** What node-powershell will actually spawn (its own rule), for messages. */
  private effectiveExecutable(): string {
    return process.env.NODE_POWERSHELL || this.executable;
  }

  async run(script: string, payload: unknown): Promise<ScriptOutcome> {
    if (!SCRIPT_NAME.test(script)) throw new Error(`invalid script name: ${JSON.stringify(script)}`);
    // Built before spawning: it throws on an unsafe scriptsDir, and there is no point starting a process then.
    const line = invocationLine(join(this.scriptsDir, script), payload);
    const ctx = currentCallContext();
    if (ctx.signal?.aborted) throw cancelled(script);

    let shell: PowerShell;
    try {
      // The history of a node-powershell instance keeps every command and its output, forever. The instance
      // lives for this one run (two invokes), so that is bounded and dropped with it.
      shell = new PowerShell({
        executable: this.executable,
        executableOptions: { '-NoProfile': true, '-NonInteractive': true, '-ExecutionPolicy': 'Bypass' },
        spawnOptions: { windowsHide: true, ...(this.env ? { env: this.env } : {}) },
        throwOnInvocationError: false,
      });
    } catch (err) {
      throw this.spawnFailure(err);
    }

    const started = Date.now();
    let stopReason: BackendError | undefined;
    const cleanups: (() => void)[] = [];
    try {
      // Rejects when the run must stop early: cancellation or our own timeout. The process is killed first, so
      // nothing keeps running on the host after we have given up on it.
      const stopped = new Promise<never>((_, reject) => {
        const stop = (reason: BackendError): void => {
          if (stopReason) return;
          stopReason = reason;
          reject(reason);
        };
        const timer = setTimeout(
          () =>
            stop(
              new BackendError(
                FailureType.BackendUnavailable,
                `PowerShell script ${script} did not finish within ${this.timeoutMs} ms; the PowerShell process was stopped`,
                { script, timeoutMs: this.timeoutMs },
              ),
            ),
          this.timeoutMs,
        );
        cleanups.push(() => clearTimeout(timer));
        if (ctx.signal) {
          const signal = ctx.signal;
          const onAbort = (): void => stop(cancelled(script));
          signal.addEventListener('abort', onAbort, { once: true });
          cleanups.push(() => signal.removeEventListener('abort', onAbort));
        }
      });
      if (ctx.heartbeat) {
        const heartbeat = ctx.heartbeat;
        const beat = setInterval(() => {
          try {
            heartbeat({ script, elapsedMs: Date.now() - started });
          } catch {
            // Liveness reporting must never break the run; cancellation arrives through the signal instead.
          }
        }, this.heartbeatEveryMs);
        cleanups.push(() => clearInterval(beat));
      }

      const work = this.converse(shell, line);
      // The loser of the race settles later (an invoke resolves with empty output once the process is killed):
      // give it a handler so that is not an unhandled rejection.
      work.catch(() => undefined);
      const { setup, call } = await Promise.race([work, stopped]);
      const stdout = outputOf(call);
      const outcome = parseScriptOutput(stdout);
      if (outcome.kind !== 'missing') return outcome;
      // No marked line: the script did not run or died before answering (not found, parse error, killed).
      // Its stderr, and the setup's (a module that failed to import), is what explains it.
      const stderr = [setup.stderr, call.stderr].map((b) => b?.toString('utf8') ?? '').join('\n');
      return { kind: 'missing', output: [outcome.output, stderr.trim().slice(-2000)].filter(Boolean).join('\n') };
    } catch (err) {
      if (stopReason) throw stopReason;
      if (err instanceof BackendError) throw err;
      throw this.spawnFailure(err, script);
    } finally {
      for (const cleanup of cleanups) cleanup();
      // Always, also on success: a pwsh left behind keeps Node alive and holds a logon session on the host.
      await disposeShell(shell);
    }
  }

  /** The setup line, then exactly one invocation line. */
  private async converse(
    shell: PowerShell,
    line: string,
  ): Promise<{ setup: InvocationResult; call: InvocationResult }> {
    const setup = await shell.invoke(this.setupLine);
    const call = await shell.invoke(line);
    return { setup, call };
  }

  /** A process that could not start, or died under us, is an unavailable backend (retryable). */
  private spawnFailure(err: unknown, script?: string): BackendError {
    const exe = this.effectiveExecutable();
    const original = err instanceof ProcessError ? err.originalError : err;
    const code = errnoCode(original);
    if (code === 'ENOENT') {
      return new BackendError(
        FailureType.BackendUnavailable,
        `PowerShell executable not found: '${exe}' (spawn ENOENT). Install PowerShell or configure the executable path.`,
        { executable: exe, code },
      );
    }
    if (code === 'EACCES') {
      return new BackendError(
        FailureType.BackendUnavailable,
        `PowerShell executable '${exe}' cannot be started (spawn EACCES: not executable or no permission)`,
        { executable: exe, code },
      );
    }
    const what = script ? ` while running ${script}` : '';
    if (err instanceof ProcessError) {
      // Its message is "Shell process <pid> exited.\n<stderr, or the literal 'undefined'>": say it ourselves.
      const how = err.signalCode ? `signal ${err.signalCode}` : `exit code ${String(err.exitCode)}`;
      const detail = err.originalError?.message ? `: ${err.originalError.message}` : '';
      return new BackendError(
        FailureType.BackendUnavailable,
        `PowerShell process '${exe}' exited unexpectedly${what} (${how})${detail}`,
        { executable: exe, exitCode: err.exitCode, signal: err.signalCode },
      );
    }
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof InvocationError) {
      // 'invoke called after process exited': the process went away between the setup line and the script.
      return new BackendError(
        FailureType.BackendUnavailable,
        `PowerShell process '${exe}' exited unexpectedly${what}: ${message}`,
        { executable: exe },
      );
    }
    return new BackendError(FailureType.BackendUnavailable, `PowerShell '${exe}' failed${what}: ${message}`, {
      executable: exe,
    });
  }
}

function cancelled(script: string): BackendError {
  return new BackendError(FailureType.TransientFault, 'cancelled; the PowerShell process was stopped', { script });
}

/**
 * What the script printed on stdout. `raw` is stdout only when stderr was empty (node-powershell swaps in stderr
 * otherwise), so read the stdout buffer itself; it is absent when the process went away mid-invoke.
 */
function outputOf(result: InvocationResult): string {
  return result.stdout?.toString('utf8') ?? '';
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/**
 * dispose() sends SIGTERM and resolves when the process has exited; it rejects when the process never started or
 * exited badly, which no longer matters here. If SIGTERM is not enough in time (a process stuck in native code),
 * SIGKILL. On Windows both are TerminateProcess, and children the script started are not killed (ecosystem §1.2).
 */
async function disposeShell(shell: PowerShell): Promise<void> {
  let exited = false;
  const done = shell.dispose().then(
    () => {
      exited = true;
    },
    () => {
      exited = true;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, KILL_GRACE_MS);
  });
  await Promise.race([done, grace]);
  clearTimeout(timer);
  if (!exited) await shell.dispose('SIGKILL').catch(() => undefined);
}
