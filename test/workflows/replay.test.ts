/**
 * Determinism: the recorded history of a happy-path run must replay on today's workflow code. A change to the
 * workflow that would break runs in flight (reordered activities, an added timer) fails here, not in production.
 * Re-record the newest deliberately with RECORD_HISTORIES=1 (and say why in the commit); older ones stay as they are,
 * since runs recorded by older code may still be in flight.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import {
  connectTemporal,
  createTestWorker,
  sampleRequest,
  startTestLab,
  uniqueTaskQueue,
  workflowBundle,
} from '../support/runbook-env';

const HAPPY_PATH = join(__dirname, '..', 'histories', 'provision-happy-path.json');

async function recordHappyPath(): Promise<string> {
  const env = await connectTemporal();
  const lab = await startTestLab();
  try {
    const taskQueue = uniqueTaskQueue('record');
    const worker = await createTestWorker(env, lab.backend, taskQueue);
    const request = sampleRequest({ ticket: { key: 'REC-1' } });
    const handle = await worker.runUntil(async () => {
      const h = await env.client.workflow.start('provisionGmsaRemoting', {
        taskQueue,
        workflowId: `gmsa-provision-REC-1-${Date.now()}`,
        args: [request],
      });
      await h.result();
      return h;
    });
    // The proto's own JSON form (enum names, base64 payloads) is what historyFromJSON reads back.
    return JSON.stringify(temporal.api.history.v1.History.fromObject(await handle.fetchHistory()).toJSON());
  } finally {
    await lab.close();
    await env.close();
  }
}

/**
 * Each recorded history, oldest first: provision-happy-path.json from before the per-change patches (its runs replay
 * through the oldest branches), provision-happy-path-v2.json from the `runbook-commands-v2` gate on. A history that
 * is missing is recorded from today's code (so a new gate gets its history by adding its file name here).
 */
const HISTORIES = [HAPPY_PATH, join(__dirname, '..', 'histories', 'provision-happy-path-v2.json')];

test.each(HISTORIES.map((path) => [basename(path), path]))(
  'the recorded history %s replays on the current workflow code',
  async (_name, path) => {
    if ((process.env.RECORD_HISTORIES === '1' && path === HISTORIES[HISTORIES.length - 1]) || !existsSync(path)) {
      writeFileSync(path, JSON.stringify(JSON.parse(await recordHappyPath()), null, 1));
    }
    // fromObject, not historyFromJSON: @temporalio/common and @temporalio/proto each carry their own protobufjs
    // copy here, and historyFromJSON fails across the two ("type must be a Type").
    const history = temporal.api.history.v1.History.fromObject(
      JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>,
    );
    expect(history.events?.length).toBeGreaterThan(20);
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, basename(path)),
    ).resolves.toBeUndefined();
  },
);

test('runs started today carry the v2 gate, and the oldest history does not', () => {
  const markers = (path: string) =>
    readFileSync(path, 'utf8').includes(Buffer.from(JSON.stringify('runbook-commands-v2')).toString('base64'));
  expect(markers(HISTORIES[0])).toBe(false);
  expect(markers(HISTORIES[1])).toBe(true);
});
