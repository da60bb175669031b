import { expect, test } from '@playwright/test';
import { hydrated, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';

// The end-to-end server runs without Twilio; the assign flow against the Twilio fake is covered
// by the integration tests (server/tests/api/numbers_pages.rs).
test('without Twilio configured, the numbers page says what to set', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, 'Numbers Co', 'Nina', uniqueEmail('numbers'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Numbers', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Numbers' })).toBeVisible();
  await hydrated(page);
  const problem = page.getByTestId('twilio-problem');
  await expect(problem).toContainText('Twilio is not configured');
  await expect(problem).toContainText('TWILIO_ACCOUNT_SID');
  await expect(page.getByText('No numbers assigned yet.')).toBeVisible();
  await screenshot(page, 'numbers-desktop');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByTestId('twilio-problem')).toBeVisible();
  await screenshot(page, 'numbers-mobile');
});

test('the numbers page is rendered on the server with the message', async ({ page }) => {
  await signUp(page, 'Numbers SSR', 'Sam', uniqueEmail('numbers-ssr'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  const html = await (await page.request.get('/numbers')).text();
  expect(html).toContain('Twilio is not configured');
});
