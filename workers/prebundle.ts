/**
 * Workflow code bundled before the worker starts, in a short-lived child process (workers/bundle-main.ts), instead
 * of inside Worker.create. Bundling loads webpack into the process that runs it, and the memory it takes stays with
 * that process: a worker that bundles for itself sits at about 300 MB resident before it runs anything, one that
 * loads a finished bundle at about 185 MB. The bundle is built from exactly the options the worker would have
 * bundled with (workflow interceptor modules, preloaded and ignored modules, converters), so nothing differs but
 * where webpack ran.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

const BUNDLER = join(__dirname, 'bundle-main.js');

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`bundling the workflows failed (${code ?? signal}):\n${stderr}`)),
    );
  });
}

/**
 * `options` with `workflowsPath` replaced by a bundle built out of process, plus a cleanup for the bundle file
 * (call it once Worker.create has read it). Options that already carry a bundle, or code that runs from TypeScript
 * sources without the compiled bundler next to it (jest), are returned as they are.
 */
export async function withPrebuiltWorkflowBundle(
  options: WorkerOptions,
): Promise<{ options: WorkerOptions; cleanup: () => void }> {
  const { workflowsPath, ...rest } = options;
  // A webpack config hook is a function: it cannot cross a process boundary, so such a worker bundles for itself.
  const inProcess =
    !workflowsPath || options.workflowBundle || options.bundlerOptions?.webpackConfigHook || !existsSync(BUNDLER);
  if (inProcess) return { options, cleanup: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'gmsa-workflow-bundle-'));
  const codePath = join(dir, 'workflow-bundle.js');
  const args = ['--workflows', workflowsPath, '--out', codePath];
  for (const m of options.interceptors?.workflowModules ?? []) args.push('--interceptor', m);
  for (const m of options.bundlerOptions?.preloadModules ?? []) args.push('--preload', m);
  for (const m of options.bundlerOptions?.ignoreModules ?? []) args.push('--ignore', m);
  const converter = options.dataConverter;
  if (converter?.payloadConverterPath) args.push('--payload-converter', converter.payloadConverterPath);
  if (converter?.failureConverterPath) args.push('--failure-converter', converter.failureConverterPath);
  try {
    await run(args);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // The interceptor modules are inside the bundle now; left in the options, Worker.create would warn that it
  // ignores them.
  const interceptors = rest.interceptors ? { ...rest.interceptors, workflowModules: undefined } : undefined;
  // Likewise the bundler options (preloaded and ignored modules): they are in the bundle, and Worker.create warns.
  const { bundlerOptions: _bundled, ...unbundled } = rest;
  return {
    options: { ...unbundled, interceptors, workflowBundle: { codePath } },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
