import { expect, test, type Page } from '@playwright/test';
import { hydrated, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';

// find
const placeCall = (page: Page) => page.getByRole('region', { name: 'Place a call' });

// act
async function newOrganizationOnCalls(page: Page, who: string) {
  await signUp(page, `${who} Calls`, who, uniqueEmail(who.toLowerCase()), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  // By address: on a phone the navigation sits behind the menu button.
  await page.goto('/calls');
  await hydrated(page);
}

// check
async function expectEmptyHistory(page: Page) {
  await expect(page.getByRole('heading', { level: 1, name: 'Calls' })).toBeVisible();
  await expect(page.getByText('No calls yet.')).toBeVisible();
  await expect(placeCall(page).getByLabel('Number to call')).toBeVisible();
}

for (const [name, viewport] of [
  ['desktop', { width: 1280, height: 800 }],
  ['mobile', { width: 390, height: 844 }],
] as const) {
  test.describe(name, () => {
    test.use({ viewport });

    test('a new organization sees an empty history and the call form refuses a bad number', async ({ page }) => {
      await newOrganizationOnCalls(page, name === 'desktop' ? 'Dora' : 'Milo');
      await expectEmptyHistory(page);
      await screenshot(page, `${name}-calls-empty`);

      const number = placeCall(page).getByLabel('Number to call');
      await number.fill('555 0123');
      await placeCall(page).getByRole('button', { name: 'Call now' }).click();
      await expect(page.locator('#field-to-error')).toContainText('international format');
      await expect(number).toHaveAttribute('aria-invalid', 'true');
      await expect(number).toHaveValue('555 0123');
      await screenshot(page, `${name}-calls-invalid-number`);
    });
  });
}

test('filters live in the URL: applying one is shareable and the back button undoes it', async ({ page }) => {
  await newOrganizationOnCalls(page, 'Fran');
  await page.getByLabel('Status').selectOption('busy');
  await page.getByLabel('Search transcripts').fill('refund');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/status=busy/);
  await expect(page).toHaveURL(/q=refund/);
  await expect(page.getByText('No calls match these filters.')).toBeVisible();

  // The same address, opened fresh, shows the same filter.
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Search transcripts')).toHaveValue('refund');
  await expect(page.getByLabel('Status')).toHaveValue('busy');

  await page.goBack();
  await expect(page).toHaveURL(/\/calls$/);
  await expect(page.getByText('No calls yet.')).toBeVisible();
});

test('an unknown call is not found', async ({ page }) => {
  await newOrganizationOnCalls(page, 'Nell');
  const response = await page.goto('/calls/00000000-0000-4000-8000-000000000000');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Call not found' })).toBeVisible();
});
