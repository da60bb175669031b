import { expect, test, type Locator, type Page } from '@playwright/test';
import { join } from 'node:path';
import { hydrated, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';
const FIXTURES = join(__dirname, '..', 'fixtures');

// The e2e server embeds with the local model on a small machine: give ingestion time.
const INGESTION = { timeout: 120_000 };

// find

/** The documents list's row for `name` (a file name or a title). */
function documentRow(page: Page, name: string): Locator {
  return page.getByRole('list', { name: 'Documents' }).getByRole('listitem').filter({ hasText: name });
}

function passages(page: Page): Locator {
  return page.getByRole('list', { name: 'Passages found' }).getByRole('listitem');
}

// act

async function openKnowledge(page: Page, org: string, { script = true } = {}) {
  if (script) {
    await signUp(page, org, 'Kim', uniqueEmail('knowledge'), PASSWORD);
  } else {
    // `signUp` waits for hydration, which never comes without JavaScript: post the form as is.
    await page.goto('/signup');
    await page.getByLabel('Organization').fill(org);
    await page.getByLabel('Email').fill(uniqueEmail('knowledge'));
    await page.getByLabel(/^Password/).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
  }
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.goto('/knowledge');
  await expect(page.getByRole('heading', { level: 1, name: 'Knowledge' })).toBeVisible();
}

async function upload(page: Page, ...files: string[]) {
  await page.getByLabel('Choose files to upload').setInputFiles(files.map((f) => join(FIXTURES, f)));
}

async function search(page: Page, question: string) {
  await page.getByLabel('Question').fill(question);
  await page.getByRole('button', { name: 'Search' }).click();
}

// check

async function expectReady(row: Locator) {
  const bar = row.getByRole('progressbar');
  await expect(bar).toHaveAttribute('aria-valuetext', 'Ready', INGESTION);
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  await expect(row).toContainText(/\d+ chunks?/);
}

test('two files upload at once, both become ready live, search finds them, delete, a bad file is refused', async ({ page }) => {
  test.setTimeout(240_000);
  await openKnowledge(page, 'Knowledge Pizza');
  await hydrated(page);

  await upload(page, 'delivery-zones.md', 'gluten-free.md');

  // Both rows appear at once and are driven to Ready by the live events, without a reload.
  await expect(documentRow(page, 'delivery-zones')).toHaveCount(1);
  await expect(documentRow(page, 'gluten-free')).toHaveCount(1);
  for (const name of ['delivery-zones.md', 'gluten-free.md']) {
    const row = documentRow(page, name);
    await expectReady(row);
    await expect(row).toContainText('All agents');
    await expect(row).toContainText(/\d+ bytes/);
  }
  await screenshot(page, 'knowledge-desktop');

  await search(page, 'Do you have a gluten-free pizza base?');
  const best = passages(page).first();
  await expect(best.getByText('gluten-free', { exact: true })).toBeVisible();
  await expect(best).toContainText(/score \d\.\d\d/);
  await expect(best).toContainText('rice flour');
  await expect(page).toHaveURL(/[?&]q=Do\+you\+have/);
  await expect(passages(page)).toHaveCount(2);
  await screenshot(page, 'knowledge-search-desktop');

  await documentRow(page, 'delivery-zones.md').getByRole('button', { name: 'Delete delivery-zones' }).click();
  await expect(documentRow(page, 'delivery-zones.md')).toHaveCount(0);
  await expect(documentRow(page, 'gluten-free.md')).toHaveCount(1);
  await page.reload();
  await expect(documentRow(page, 'gluten-free.md')).toHaveCount(1);
  await expect(documentRow(page, 'delivery-zones.md')).toHaveCount(0);
  await hydrated(page);

  await upload(page, 'prices.csv');
  const refused = documentRow(page, 'prices.csv');
  await expect(refused.getByRole('alert')).toHaveText(
    '"prices.csv" is not a file we can read: upload .txt, .md, .html, .pdf or .docx files.',
  );
  await expect(refused).toContainText('Refused');
  await refused.getByRole('button', { name: 'Dismiss prices.csv' }).click();
  await expect(refused).toHaveCount(0);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('pasted text is added by a plain form post, and a blank title is refused', async ({ page }) => {
    test.setTimeout(120_000);
    await openKnowledge(page, 'No Script Deli', { script: false });

    await page.getByLabel('Title', { exact: true }).fill('   ');
    await page.getByLabel('Text', { exact: true }).fill('Parking is free behind the shop after six.');
    await page.getByRole('button', { name: 'Add text' }).click();
    await expect(page.locator('#field-title-error')).toHaveText('Give the text a title.');

    // (A plain form post returns to the address it came from, error included: start afresh.)
    await page.goto('/knowledge');
    await page.getByLabel('Title', { exact: true }).fill('Parking');
    await page.getByLabel('Text', { exact: true }).fill('Parking is free behind the shop after six.');
    await page.getByRole('button', { name: 'Add text' }).click();
    // Leptos sends a plain post back where it came from, minus the earlier error: `/knowledge?`.
    await expect(page).toHaveURL(/\/knowledge\??$/);
    await expect(documentRow(page, 'Parking')).toHaveCount(1);

    // No live events without JavaScript: reload until it is ready, then search with a GET form.
    await expect(async () => {
      await page.reload();
      await expect(documentRow(page, 'Parking').getByRole('progressbar')).toHaveAttribute('aria-valuetext', 'Ready', { timeout: 1_000 });
    }).toPass(INGESTION);
    await search(page, 'Where can I park?');
    await expect(passages(page).first().getByText('Parking', { exact: true })).toBeVisible();
  });
});

test.describe('on a phone-sized screen', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('pasted text keeps what was typed when refused, then becomes ready live', async ({ page }) => {
    test.setTimeout(120_000);
    await openKnowledge(page, 'Phone Pizza');
    await hydrated(page);

    await page.getByLabel('Title', { exact: true }).fill('   ');
    await page.getByLabel('Text', { exact: true }).fill('We open at nine and close at five, Monday to Saturday.');
    await page.getByRole('button', { name: 'Add text' }).click();
    await expect(page.locator('#field-title-error')).toHaveText('Give the text a title.');
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue('We open at nine and close at five, Monday to Saturday.');

    await page.getByLabel('Title', { exact: true }).fill('Opening hours');
    await page.getByRole('button', { name: 'Add text' }).click();
    await expect(page.getByLabel('Text', { exact: true })).toHaveValue('');
    await expectReady(documentRow(page, 'Opening hours'));
    await screenshot(page, 'knowledge-phone');
  });
});
