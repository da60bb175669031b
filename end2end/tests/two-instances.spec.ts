import { expect, test } from '@playwright/test';
import { FAKE_TWILIO, dialFake, fakeTwilioNumber, hydrated, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';
const NUMBER = FAKE_TWILIO.numbers[2];
/** The second instance of the server, on the same database (see playwright.config.ts). */
const SECOND = process.env.SECOND_URL!;

// Two servers behind one load balancer: the call's media stream is on the first, while ops
// watch on the second. Its transcript reaches the second one through PostgreSQL LISTEN/NOTIFY.
test('a call on one instance is live on a browser connected to another', async ({ page, context, baseURL }) => {
  test.setTimeout(120_000);
  expect(new URL(SECOND).port).not.toBe(new URL(baseURL!).port);
  await signUp(page, 'Two Rooms Pizza', 'Tam', uniqueEmail('two-instances'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  await page.goto('/agents/new');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Night desk');
  await page.getByRole('button', { name: 'Create agent' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Night desk' })).toBeVisible();

  // Assigned on the first instance, so Twilio sends the number's calls to the first one.
  await page.goto('/numbers');
  await hydrated(page);
  const row = page.getByTestId('number').filter({ hasText: NUMBER });
  await row.getByLabel(`Agent for ${NUMBER}`).selectOption({ label: 'Night desk' });
  await row.getByRole('button', { name: 'Assign' }).click();
  await expect(row).toContainText('Answered by Night desk');
  expect((await fakeTwilioNumber(NUMBER))?.voice_url).toBe(`${baseURL}/twilio/voice`);

  // Sessions live in the database, so the same browser is signed in on the second instance.
  const watcher = await context.newPage();
  await watcher.goto(`${SECOND}/live`);
  await hydrated(watcher);
  await expect(watcher.getByTestId('live-connection')).toHaveAttribute('data-state', 'connected');

  await dialFake(NUMBER, 8);
  const call = watcher.getByTestId('live-call');
  await expect(call).toBeVisible({ timeout: 15_000 });
  await expect(call).toContainText('Night desk');
  await expect(call.getByLabel('Transcript')).toContainText('how can I help', { timeout: 15_000 });
  // And it leaves the board when it ends, which the second instance also only hears of.
  await expect(call).toHaveCount(0, { timeout: 30_000 });
});
