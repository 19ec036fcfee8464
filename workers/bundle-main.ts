/**
 * Bundles workflow code in a process of its own and writes it to a file:
 * `node dist/workers/bundle-main.js --workflows PATH --out FILE [--interceptor MODULE]… [--preload MODULE]…
 * [--ignore MODULE]… [--payload-converter PATH] [--failure-converter PATH]`. workers/prebundle.ts runs it so that webpack's memory never belongs to the worker.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workflows: { type: 'string' },
      out: { type: 'string' },
      interceptor: { type: 'string', multiple: true },
      preload: { type: 'string', multiple: true },
      ignore: { type: 'string', multiple: true },
      'payload-converter': { type: 'string' },
      'failure-converter': { type: 'string' },
    },
    strict: true,
  });
  if (!values.workflows || !values.out) throw new Error('usage: bundle-main.js --workflows PATH --out FILE');
  const bundle = await bundleWorkflowCode({
    workflowsPath: resolve(values.workflows),
    workflowInterceptorModules: values.interceptor,
    preloadModules: values.preload,
    ignoreModules: values.ignore,
    payloadConverterPath: values['payload-converter'],
    failureConverterPath: values['failure-converter'],
    logger: { ...quiet, warn: (m) => console.error(m), error: (m) => console.error(m) },
  });
  writeFileSync(values.out, bundle.code);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
