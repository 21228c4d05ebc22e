import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type RunningApi, startTestApi, testToken } from './support/test-api.js';
import { TestFleet, type TestWorker } from './support/test-fleet.js';

const RESULTS = fileURLToPath(new URL('./test-results/', import.meta.url));

describe('Bull Board in a browser', () => {
  let fleet: TestFleet;
  let worker: TestWorker;
  let api: RunningApi;
  let token: string;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    fleet = await TestFleet.create();
    worker = await fleet.startWorker();
    token = testToken();
    api = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    const left = await fleet?.leftovers();
    await fleet?.close();
    expect(left).toEqual([]);
  });

  it('signs in with a token, shows the steps queue, its workers and a finished job’s output in Logs', async () => {
    const response = await fetch(`${api.url}/v1/steps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        agentId: fleet.agentId(),
        command: { script: 'echo hello-from-sandfleet; for i in 1 2 3; do echo "numbered line $i"; done' },
      }),
    });
    const { id } = (await response.json()) as { id: string };
    expect((await fleet.terminal(id)).status).toBe('succeeded');
    await fleet.until('job completed', async () => (await fleet.queue.jobState(id)) === 'completed');

    const context = await (browser as NonNullable<typeof browser>).newContext({
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(`${api.url}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#token', testToken());
    await Promise.all([page.waitForLoadState(), page.click('button[type=submit]')]);
    expect(await page.locator('.error').textContent()).toBe('That token is not valid.');
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(/\/admin\/queues/), page.click('button[type=submit]')]);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'sandfleet_session', httpOnly: true, sameSite: 'Strict' });

    await page.getByText('steps', { exact: true }).first().waitFor({ timeout: 15_000 });
    const workers = await page.evaluate(async () => {
      const answer = await fetch('/admin/queues/api/queues/steps/workers');
      return ((await answer.json()) as { workers: { name?: string }[] | null }).workers;
    });
    expect(workers?.map((w) => w.name)).toContain(worker.workerId);

    await page.goto(`${api.url}/admin/queues/queue/steps?status=completed`);
    await page.getByText(id).first().waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Queue info' }).click();
    await page.getByText('Connected workers').click();
    await page.getByRole('dialog').getByText(worker.workerId).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${RESULTS}bull-board-queue-workers.png`, fullPage: true });
    await page.keyboard.press('Escape');

    await page.goto(`${api.url}/admin/queues/queue/steps/${id}`);
    await page
      .getByRole('tab', { name: /logs/i })
      .or(page.getByRole('button', { name: /^logs$/i }))
      .first()
      .click();
    await page.getByText('hello-from-sandfleet').first().waitFor({ timeout: 15_000 });
    expect(await page.getByText('numbered line 3').first().isVisible()).toBe(true);
    await page.screenshot({ path: `${RESULTS}bull-board-job-logs.png`, fullPage: true });
    await context.close();
  });

  it('serves Swagger UI from the package (no CDN) to a signed-in browser, and signs out', async () => {
    const context = await (browser as NonNullable<typeof browser>).newContext({
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(api.url)) external.push(request.url());
    });
    await page.goto(`${api.url}/docs`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(/\/docs/), page.click('button[type=submit]')]);
    await page.getByText('/v1/steps/{id}/events').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${RESULTS}api-docs.png`, fullPage: false });
    expect(external).toEqual([]);
    const loggedOut = await page.evaluate(async () => (await fetch('/logout', { method: 'POST' })).url);
    expect(new URL(loggedOut).pathname).toBe('/login');
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });
});
