/**
 * Preloaded into the workflow sandbox once per worker thread (WorkerOptions.bundlerOptions.preloadModules) instead
 * of being evaluated again for every workflow run. With a reusable V8 context the SDK gives each run a fresh module
 * cache, so everything a workflow imports is evaluated again per run: zod alone is about 330 modules, most of a
 * run's memory and a good part of its first workflow task. Preloaded modules land in a cache that every run shares,
 * and the SDK deep-freezes them once this module has run.
 *
 * Only libraries whose module state is safe to share belong here. zod qualifies once its lazily written state is
 * written before the freeze: its classic API installs the default locale and memoizer into its global config on
 * first use, and it caches whether `new Function` is allowed on first parse. Written inside a run, each would hit
 * a frozen object ("Cannot add property localeError, object is not extensible"). So the config is completed here and
 * a throwaway schema exercises the first parse (valid and invalid input). What zod keeps per parse lives in the
 * parse context, not in shared objects.
 *
 * The request's schemas are shared too: runbook/request.ts keeps them in a module variable behind requestSchemas()
 * (never exported as values, so never frozen: zod caches lazily on schema objects) and builds them here, once per
 * worker thread instead of once per run, as is their compiled parser.
 */
import { z } from 'zod';
import { requestSchemas } from '../runbook/request';

z.config({ ...z.locales.en(), memoizer: z.memoizer() });

const warmUp = z
  .object({
    name: z.string().regex(/^[a-z]+$/),
    url: z.url().optional(),
    tags: z.array(z.enum(['a', 'b'])).default(['a']),
    roles: z.record(z.string(), z.object({ n: z.number().int().min(1) })),
    mode: z.discriminatedUnion('kind', [z.object({ kind: z.literal('x') }), z.object({ kind: z.literal('y') })]),
  })
  .superRefine(() => undefined);
warmUp.safeParse({ name: 'ok', url: 'https://example.test', roles: { r: { n: 1 } }, mode: { kind: 'x' } });
warmUp.safeParse({ name: 'NOT OK', url: 'nope', tags: ['c'], roles: { r: { n: 0 } }, mode: { kind: 'z' } });

requestSchemas();
