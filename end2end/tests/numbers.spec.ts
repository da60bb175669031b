import { expect, test } from '@playwright/test';
import { FAKE_TWILIO, createAgent, fakeTwilioNumber, hydrated, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';
// The second of the fake account's numbers; the journey spec uses the first, two-instances the third.
const NUMBER = FAKE_TWILIO.numbers[1];

// The end-to-end server is pointed at the fake Twilio (`switchboard fakes`); missing and refused
// credentials are covered by the integration tests (server/tests/api/numbers_pages.rs).
test('assigning a Twilio number points its VoiceUrl at us, and unassigning frees it on both sides', async ({ page, baseURL }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, 'Numbers Co', 'Nina', uniqueEmail('numbers'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await createAgent(page, 'Reception');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Numbers', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Numbers' })).toBeVisible();
  await hydrated(page);
  const row = page.getByTestId('number').filter({ hasText: NUMBER });
  await expect(row).toContainText('Not assigned');
  await row.getByLabel(`Agent for ${NUMBER}`).selectOption({ label: 'Reception' });
  await row.getByRole('button', { name: 'Assign' }).click();
  await expect(row).toContainText('Answered by Reception');
  const onTwilio = await fakeTwilioNumber(NUMBER);
  expect(onTwilio?.voice_url).toBe(`${baseURL}/twilio/voice`);
  expect(onTwilio?.status_callback).toBe(`${baseURL}/twilio/status`);
  await screenshot(page, 'numbers-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'numbers-mobile');

  await row.getByRole('button', { name: `Unassign ${NUMBER}` }).click();
  await expect(row).toContainText('Not assigned');
  const released = await fakeTwilioNumber(NUMBER);
  // Still in the account, no longer pointing anywhere (the fake shows an empty URL as null).
  expect(released).toBeDefined();
  expect(released!.voice_url ?? '').toBe('');
  expect(released!.status_callback ?? '').toBe('');
});

test('the numbers page is rendered on the server with the account\'s numbers', async ({ page }) => {
  await signUp(page, 'Numbers SSR', 'Sam', uniqueEmail('numbers-ssr'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  const html = await (await page.request.get('/numbers')).text();
  expect(html).toContain(NUMBER);
});
