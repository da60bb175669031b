import { expect, test } from '@playwright/test';
import {
  FAKE_TWILIO, assignNumber, createAgent, dialFake, fakeTwilioNumber, hydrated, signUp, uniqueEmail,
} from './helpers';

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

  await createAgent(page, 'Night desk');
  // Assigned on the first instance, so Twilio sends the number's calls to the first one.
  await assignNumber(page, NUMBER, 'Night desk');
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
