/**
 * The Temporal UI, seen in a real browser: the dev stack (`gmsa-runbook dev`, with its UI) runs a runbook from a
 * ticket; headless Chromium finds the run by its TicketKey search attribute, opens it and sees what an operator
 * relies on: the run's state and step, the activity summaries in the event history and the result. The screenshot
 * lands in test-results/ (and, with GMSA_UPDATE_SCREENSHOT=1, in docs/ for the README).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { startDevStack, type DevStack } from '../../cli/dev-stack';
import { startProvisioning } from '../../client/start';
import type { ProvisionResult } from '../../runbook/progress';
import { findFreePort } from '../../temporal/dev-server';
import { findChromium, launchChromium } from '../support/browser';
import { sampleRequest, TEST_TIME_SCALE } from '../support/runbook-env';

const ROOT = join(__dirname, '..', '..');
const SCREENSHOT = join(ROOT, 'test-results', 'ui', 'temporal-ui-run.png');
const README_SCREENSHOT = join(ROOT, 'docs', 'temporal-ui-run.png');

const chromiumPath = findChromium();
if (!chromiumPath) {
  // Printed, not silent: CI installs Debian's chromium, so this only happens on a machine without it.
  console.warn('Temporal UI browser test skipped: no Chromium (install Debian `chromium` or set CHROMIUM_PATH)');
}
const describeWithBrowser = chromiumPath ? describe : describe.skip;

describeWithBrowser('the Temporal UI shows a runbook found by its ticket', () => {
  let stateDir: string;
  let stack: DevStack;
  let connection: Connection;
  let browser: Browser;
  let page: Page;
  let ticket: string;
  let workflowId: string;
  let runId: string;
  let result: ProvisionResult;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'gmsa-ui-'));
    // The dev stack's own server, with its UI: TEMPORAL_ADDRESS (the suite's shared headless server) would make the
    // stack use that one instead.
    const sharedServer = process.env.TEMPORAL_ADDRESS;
    delete process.env.TEMPORAL_ADDRESS;
    try {
      stack = await startDevStack({
        stateDir,
        timeScale: TEST_TIME_SCALE,
        temporalPort: await findFreePort(),
        uiPort: await findFreePort(),
        log: () => undefined,
      });
    } finally {
      process.env.TEMPORAL_ADDRESS = sharedServer;
    }
    if (!stack.uiUrl) throw new Error('the dev stack started without its UI');
    connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: stack.namespace });
    const request = sampleRequest();
    ticket = request.ticket.key;
    const run = await startProvisioning(client, request, { taskQueue: stack.taskQueue });
    workflowId = run.handle.workflowId;
    result = await run.handle.result();
    runId = (await run.handle.describe()).runId;
    browser = await launchChromium(chromiumPath as string);
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });

  afterAll(async () => {
    await browser?.close();
    await connection?.close();
    await stack?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  test('the run is listed under its TicketKey and its page shows step, activity summaries and result', async () => {
    expect(result.status).toBe('succeeded');
    const query = encodeURIComponent(`TicketKey="${ticket}"`);
    await page.goto(`${stack.uiUrl}/namespaces/${stack.namespace}/workflows?query=${query}`);

    // The list holds exactly this ticket's run, completed; the link leads to the run.
    const link = page.getByRole('link', { name: workflowId });
    await link.waitFor({ timeout: 30_000 });
    await expect(page.getByText('1 Workflow', { exact: false }).first().isVisible()).resolves.toBe(true);
    await link.click();
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/${runId}`), { timeout: 30_000 });

    // The result panel and the activity summaries the workflow attaches to each step.
    await page.getByText('"succeeded"').first().waitFor({ timeout: 30_000 });
    for (const summary of [
      'Create gMSA TestgMSA',
      'Register endpoint GmsaRemoting on server1.lab.local',
      'Verify identity through GmsaRemoting on server2.lab.local',
    ]) {
      await page.getByText(summary, { exact: false }).first().waitFor({ timeout: 15_000 });
    }
    mkdirSync(join(ROOT, 'test-results', 'ui'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    if (process.env.GMSA_UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      copyFileSync(SCREENSHOT, README_SCREENSHOT);
    }

    // The step and state the workflow keeps in its search attributes.
    await page.getByText('Search Attributes', { exact: true }).first().click();
    await page.getByText('RunbookStep').first().waitFor({ timeout: 15_000 });
    const attributes = await page.innerText('body');
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-search-attributes.png') });
    expect(attributes).toContain(`"TicketKey": "${ticket}"`);
    expect(attributes).toMatch(/"RunbookStep":\s*"done"/);
    expect(attributes).toMatch(/"RunbookState":\s*"succeeded"/);
  });
});
