/**
 * `gmsa-runbook setup` as a user runs it (the compiled CLI in its own process) against the test run's real Temporal
 * server, on fresh namespaces: the first run registers what is missing and says so, the second has nothing to do, a
 * name registered with another type is an error that names it, and a missing namespace or a bad setting fails with
 * exit 1 and a message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTES } from '../../runbook/search-attributes';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
let dir: string;
let connection: Connection;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'gmsa-setup-'));
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
});
afterAll(async () => {
  await connection?.close();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const freshNamespace = () => `setup-test-${process.pid}-${Date.now()}-${counter++}`;

function setup(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [CLI, 'setup', ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      // No dev stack and no profile of the developer's own: only what the test sets.
      GMSA_STATE_DIR: join(dir, 'state'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      ...env,
    },
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function registered(namespace: string) {
  return (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
}

test('on a fresh namespace: creates it, adds every search attribute, says so; a second run has nothing to do', async () => {
  const namespace = freshNamespace();

  const missing = setup([], { TEMPORAL_NAMESPACE: namespace });
  expect(missing.status).toBe(1);
  expect(missing.stderr).toContain(`namespace "${namespace}" does not exist on this server`);
  expect(missing.stderr).toContain('--create-namespace');

  const first = setup(['--create-namespace'], { TEMPORAL_NAMESPACE: namespace });
  expect(first.stderr).toBe('');
  expect(first.status).toBe(0);
  expect(first.stdout).toContain(`(namespace ${namespace}; plaintext)`);
  expect(first.stdout).toContain(`Created namespace ${namespace}.`);
  expect(first.stdout).toContain(
    `Added 6 search attribute(s) to namespace ${namespace}: TicketKey (Keyword), GmsaName (Keyword), ` +
      'RunbookStep (Keyword), RunbookState (Keyword), DriftStatus (Keyword), LastVerifiedAt (Datetime).',
  );
  const after = await registered(namespace);
  for (const key of SEARCH_ATTRIBUTES) {
    expect(after[key.name]).toBe(encodeSearchAttributeIndexedValueType(key.type));
  }

  const second = setup(['--create-namespace'], { TEMPORAL_NAMESPACE: namespace });
  expect(second.status).toBe(0);
  expect(second.stdout).not.toContain('Created');
  expect(second.stdout).not.toContain('Added');
  expect(second.stdout).toContain(
    `Nothing to do: namespace ${namespace} exists and has all 6 search attributes with the right types`,
  );
});

test('a namespace that has some of them: adds only the missing ones and lists the rest as already there', async () => {
  const namespace = freshNamespace();
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  await addWhenServed(namespace, { TicketKey: encodeSearchAttributeIndexedValueType('KEYWORD')! });

  const run = setup([], { TEMPORAL_NAMESPACE: namespace });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain(
    `Added 5 search attribute(s) to namespace ${namespace}: GmsaName (Keyword), RunbookStep (Keyword), ` +
      'RunbookState (Keyword), DriftStatus (Keyword), LastVerifiedAt (Datetime).',
  );
  expect(run.stdout).toContain('Already registered with the right type: TicketKey (Keyword).');
});

test('a name registered with another type is an error that names it, and nothing is added', async () => {
  const namespace = freshNamespace();
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  await addWhenServed(namespace, {
    TicketKey: encodeSearchAttributeIndexedValueType('TEXT')!,
    LastVerifiedAt: encodeSearchAttributeIndexedValueType('KEYWORD')!,
  });

  const run = setup([], { TEMPORAL_NAMESPACE: namespace });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(`search attributes on namespace "${namespace}" have the wrong type:`);
  expect(run.stderr).toContain('  - TicketKey is registered as Text, but the runbooks need Keyword');
  expect(run.stderr).toContain('  - LastVerifiedAt is registered as Keyword, but the runbooks need Datetime');
  expect(run.stderr).toContain("Temporal cannot change a search attribute's type");
  expect(Object.keys(await registered(namespace))).not.toContain('GmsaName');
});

test('the test server itself (started with the attributes) needs nothing', () => {
  const run = setup([]);
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('Nothing to do: namespace');
});

test('a bad connection setting fails before connecting, naming the variable and the rule', () => {
  const run = setup([], { TEMPORAL_TLS: 'maybe', TEMPORAL_ADDRESS: 'https://temporal.example.com' });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('invalid Temporal connection configuration:');
  expect(run.stderr).toContain('  - TEMPORAL_ADDRESS: must be host:port of the Temporal frontend');
  expect(run.stderr).toContain('  - TEMPORAL_TLS: must be true or false (1 or 0)');
});

/** Adds search attributes to a namespace registered a moment ago (the server may not serve it for a second). */
async function addWhenServed(namespace: string, searchAttributes: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}
