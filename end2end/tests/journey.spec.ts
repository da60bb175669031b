import { expect, test } from '@playwright/test';
import {
  FAKE_TWILIO, assignNumber, createAgent, dialFake, fakeTwilioNumber, hydrated, screenshot, signUp, uniqueEmail,
} from './helpers';

const PASSWORD = 'correct horse battery staple';
const NUMBER = FAKE_TWILIO.numbers[0];
const OUTCOME = JSON.stringify({
  type: 'object',
  properties: { wants_callback: { type: 'boolean' } },
  required: ['wants_callback'],
});

// The whole product with the offline fakes: an agent gets a number, somebody calls it, the call
// is watched live and reviewed afterwards, and another organization sees none of it.
test('a call to an assigned number is live on the Live page, then in Calls with its summary and outcome', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, 'Journey Pizza', 'Jo', uniqueEmail('journey'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  // An agent with an outcome schema.
  await createAgent(page, 'Front desk', async (form) => {
    await form.getByLabel('Outcome schema (JSON Schema)').fill(OUTCOME);
  });

  // Its number, which Twilio now sends to us.
  await assignNumber(page, NUMBER, 'Front desk');
  expect((await fakeTwilioNumber(NUMBER))?.voice_url).toBe(`${baseURL}/twilio/voice`);

  // Somebody calls while ops watch the Live page.
  await page.goto('/live');
  await hydrated(page);
  await expect(page.getByTestId('live-connection')).toHaveAttribute('data-state', 'connected');
  await dialFake(NUMBER, 8);
  const call = page.getByTestId('live-call');
  await expect(call).toBeVisible({ timeout: 15_000 });
  // The offline engine greets with the default greeting; the line appears as it is stored.
  await expect(call.getByLabel('Transcript')).toContainText('how can I help', { timeout: 15_000 });
  await screenshot(page, 'live-call-desktop');

  // Afterwards: the call in Calls, with its transcript, summary and outcome.
  await page.goto('/calls');
  await hydrated(page);
  await page.getByRole('link').filter({ hasText: 'Front desk' }).first().click();
  await expect(page.getByRole('heading', { name: 'Transcript' })).toBeVisible();
  await expect(page.locator('main')).toContainText('how can I help');
  // The summary job runs once the call has ended.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('call-summary')).not.toHaveText('No summary yet.', { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('call-outcome')).toContainText(/wants.callback/i);
  await screenshot(page, 'call-detail-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'call-detail-mobile');

  // A second organization sees none of the first one's agents, documents, numbers or calls.
  const other = await browser.newContext();
  const stranger = await other.newPage();
  await signUp(stranger, 'Other Org', 'Ola', uniqueEmail('other'), PASSWORD);
  await expect(stranger.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await stranger.goto('/agents');
  await expect(stranger.getByText('No agents yet.')).toBeVisible();
  await stranger.goto('/calls');
  await expect(stranger.getByText('No calls yet.')).toBeVisible();
  await stranger.goto('/knowledge');
  await expect(stranger.getByText('No documents yet.', { exact: false })).toBeVisible();
  await stranger.goto('/numbers');
  await expect(stranger.locator('main')).not.toContainText('Front desk');
  await expect(stranger.getByTestId('number').filter({ hasText: NUMBER })).toHaveCount(0);
  await other.close();
});
