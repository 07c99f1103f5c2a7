import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';

// A real browser (Debian's Chromium, driven by playwright-core) against a real server.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let gateway: Gateway;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(executablePath))
    throw new Error(`Chromium is needed for the browser tests: install it (apt-get install chromium) or set CHROMIUM_PATH. Not found at ${executablePath}.`);
  gateway = await startGateway();
  browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});
beforeEach(() => gateway.upstream.reset());

test('GraphiQL runs a query and streams a chatStream subscription in the page', async () => {
  const page = await browser.newPage();
  gateway.upstream.behave({ tokens: 15, delayMs: 20 });
  await page.goto(`${gateway.url}/graphql`);
  // It opens on a chatStream subscription with a guest header already set.
  const execute = page.locator('.graphiql-execute-button');
  await execute.waitFor();
  // Every line of the default document ends before the editor's toolbar: none is cut at the editor's width.
  const lineEnds = await page
    .locator('.graphiql-query-editor .view-line > span')
    .evaluateAll((spans) => spans.map((span) => span.getBoundingClientRect().right));
  const toolbar = await page.locator('.graphiql-toolbar').boundingBox();
  expect(lineEnds.length).toBeGreaterThan(10);
  expect(Math.max(...lineEnds)).toBeLessThan(toolbar!.x);
  await execute.click();
  // The editor holds two operations; GraphiQL asks which one to run.
  await page.locator('.graphiql-dropdown-item[role="menuitem"]', { hasText: 'Chat' }).click();
  const result = page.locator('.result-window, .graphiql-response').first();
  // The result editor renders spaces as no-break spaces.
  const responseText = async () => (await result.innerText()).replace(/\u00a0/g, ' ');
  await expect.poll(responseText, { timeout: 15_000 }).toContain('"status": "COMPLETE"');
  const streamed = await responseText();
  expect(streamed).toContain('COMPLETE');
  expect(streamed).toContain('tok15');

  // A query typed into the editor of a fresh page.
  await page.reload();
  await execute.waitFor();
  await page.locator('.graphiql-query-editor').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  // insertText, not typing key by key: the editor would close every brace it opens.
  await page.keyboard.insertText('{ health { database defaultModel } }');
  await execute.click();
  await expect.poll(responseText, { timeout: 10_000 }).toContain('"defaultModel": "fake-a"');
  await page.close();
}, 60_000);

test('the demo page streams two models side by side, shows usage, takes feedback and lists the conversation', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  gateway.upstream.behave({ tokens: 25, delayMs: 25 });
  await page.goto(`${gateway.url}/`);
  await page.locator('body[data-ready="true"]').waitFor();
  for (const model of ['fake-a', 'fake-b']) await page.locator(`input[name="model"][value="${model}"]`).check();
  await page.fill('#message', 'Compare yourselves, please.');
  await page.click('#send');

  const columns = page.locator('.reply');
  await expect.poll(() => columns.count()).toBe(2);
  // Text arrives while the replies are still streaming, in both columns.
  await expect.poll(async () => (await columns.locator('.text').allInnerTexts()).every((text) => text.includes('tok3'))).toBe(true);
  expect(await columns.locator('.status').allInnerTexts()).toEqual(['streaming', 'streaming']);
  await expect.poll(async () => columns.locator('.status').allInnerTexts(), { timeout: 15_000 }).toEqual(['complete', 'complete']);
  expect(await columns.locator('.text').allInnerTexts()).toEqual([expect.stringContaining('tok25'), expect.stringContaining('tok25')]);
  expect(await columns.locator('.meta').first().innerText()).toMatch(/\d+ in · \d+ out · \$0\.\d+ · \d+ ms/);

  await columns.first().locator('button[aria-label="THUMBS_UP"]').click();
  await expect.poll(() => columns.first().locator('button[aria-label="THUMBS_UP"]').getAttribute('aria-pressed')).toBe('true');
  await expect.poll(() => page.locator('#conversations li').allInnerTexts()).toEqual(['Compare yourselves, please.']);
  if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: path.resolve(import.meta.dirname, '../../docs/demo-page.png') });

  const feedback = await gateway.app.services.db.prisma.feedback.count({ where: { kind: 'THUMBS_UP' } });
  expect(feedback).toBe(1);
  await page.close();
}, 60_000);

test('at phone width (390x844) the demo page stacks the replies at full width', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  gateway.upstream.behave({ tokens: 12, delayMs: 10 });
  await page.goto(`${gateway.url}/`);
  await page.locator('body[data-ready="true"]').waitFor();
  for (const model of ['fake-a', 'fake-b']) await page.locator(`input[name="model"][value="${model}"]`).check();
  await page.fill('#message', 'Two answers on a phone, please.');
  await page.click('#send');
  const columns = page.locator('.reply');
  await expect.poll(async () => columns.locator('.status').allInnerTexts(), { timeout: 15_000 }).toEqual(['complete', 'complete']);

  const boxes = await Promise.all((await columns.all()).map((reply) => reply.boundingBox()));
  for (const box of boxes) expect(box!.width).toBeGreaterThan(300);
  // One above the other, not side by side.
  expect(boxes[1]!.y).toBeGreaterThanOrEqual(boxes[0]!.y + boxes[0]!.height);
  // Nothing is wider than the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: path.resolve(import.meta.dirname, '../../test-output/demo-page-390.png'), fullPage: true });
  await context.close();
}, 60_000);

test('the demo page shows the balance moving and draws an image', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${gateway.url}/`);
  await page.locator('body[data-ready="true"]').waitFor();
  const balance = () => page.locator('#balance').innerText();
  await expect.poll(balance).toMatch(/credits · 0\/\d+ requests this minute/);
  const before = await balance();
  // Image models are not offered as chat models.
  expect(await page.locator('input[name="model"][value="fake-image"]').count()).toBe(0);

  await page.fill('#message', 'a lighthouse at dusk');
  await page.click('#draw');
  await page.locator('#history img').waitFor();
  expect(await page.locator('#history img').evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth)).toBeGreaterThan(0);
  await expect.poll(balance).not.toBe(before);
  await page.close();
}, 60_000);

test('the demo page shows what a reasoning model thinks, apart from its answer', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  gateway.upstream.behave({ thinking: 4, tokens: 5, delayMs: 20 });
  await page.goto(`${gateway.url}/`);
  await page.locator('body[data-ready="true"]').waitFor();
  for (const box of await page.locator('input[name="model"]:checked').all()) await box.uncheck();
  await page.locator('input[name="model"][value="fake-c"]').check();
  await page.locator('#think').check();
  await page.fill('#message', 'Think before you answer.');
  await page.click('#send');

  const reply = page.locator('.reply[data-model="fake-c"]');
  await expect.poll(() => reply.locator('.status').innerText(), { timeout: 15_000 }).toBe('complete');
  const thinking = reply.locator('details.thinking');
  expect(await thinking.isVisible()).toBe(true);
  await thinking.locator('summary').click();
  expect(await thinking.locator('.thoughts').innerText()).toBe('think1 think2 think3 think4 ');
  expect(await reply.locator('.text').innerText()).toBe('tok1 tok2 tok3 tok4 tok5 ');
  expect(gateway.upstream.requests.at(-1)!.body.reasoning_effort).toBe('high');
  await page.close();
}, 60_000);

test('the demo page shows a function call, takes its result and streams the answer that follows', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${gateway.url}/`);
  await page.locator('body[data-ready="true"]').waitFor();
  for (const box of await page.locator('input[name="model"]:checked').all()) await box.uncheck();
  await page.locator('input[name="model"][value="fake-a"]').check();
  await page.locator('#offer-weather').check();
  await page.fill('#message', 'Use get_weather for Lisbon.');
  await page.click('#send');

  const replies = page.locator('.reply');
  await expect.poll(() => replies.first().locator('.status').innerText(), { timeout: 15_000 }).toBe('requires_action');
  expect(await replies.first().locator('.tool-call code').innerText()).toBe('get_weather({"city":"Use get_weather for Lisbon."})');
  await replies.first().locator('.tool-answers input').fill('21°C, clear');
  await replies.first().locator('.tool-answers button').click();

  await expect.poll(() => replies.count()).toBe(2);
  await expect.poll(() => replies.nth(1).locator('.status').innerText(), { timeout: 15_000 }).toBe('complete');
  expect(await replies.nth(1).locator('.text').innerText()).toContain('Tool results: get_weather: "21°C, clear"');
  expect(gateway.upstream.requests.at(-1)!.body.messages.at(-1)).toMatchObject({ role: 'tool', content: '21°C, clear' });
  await page.close();
}, 60_000);
