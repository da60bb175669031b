import { expect, test, type Page } from '@playwright/test';
import { hydrated, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';

const TOOLS = JSON.stringify([{
  name: 'book_table',
  description: 'Book a table once you know the day and party size.',
  parameters: {
    type: 'object',
    properties: { day: { type: 'string' }, guests: { type: 'integer', minimum: 1 } },
    required: ['day', 'guests'],
  },
}], null, 2);
const BROKEN_TOOLS = TOOLS.replace('"integer"', '"whole number"');
const OUTCOME = JSON.stringify({ type: 'object', properties: { booked: { type: 'boolean' } } });
const PROMPT_V1 = 'You book tables for Tony’s Pizza.\nBe brief.';
const PROMPT_V2 = 'You book tables for Tony’s Pizza.\nBe warm.';
const PROMPT_V3 = 'You book tables for Tony’s Pizza.\nBe warm and quick.';

// find
const systemPrompt = (page: Page) => page.getByLabel('System prompt');
const toolsField = (page: Page) => page.getByLabel('Business tools (JSON)');

// act
async function saveAgent(page: Page) {
  await page.getByRole('button', { name: 'Save changes' }).click();
}

async function shoot(page: Page, name: string) {
  for (const [label, size] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    await page.setViewportSize(size);
    await screenshot(page, `${name}-${label}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('create an agent with a tool, edit its prompt twice, compare and restore a version', async ({ page }) => {
  await signUp(page, 'Tony’s Pizza', 'Tony', uniqueEmail('agents'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  await page.goto('/agents');
  await expect(page.getByText('No agents yet.')).toBeVisible();
  await page.getByRole('link', { name: 'New agent' }).click();
  await expect(page).toHaveURL(/\/agents\/new$/);
  await hydrated(page);
  // The navigation still says where we are on an agent's own pages.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Agents', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(nav.getByRole('link', { name: 'Overview', exact: true })).not.toHaveAttribute('aria-current', 'page');

  await page.getByLabel('Name', { exact: true }).fill('Bookings');
  await page.getByLabel('Description').fill('Takes table bookings for the restaurant.');
  await systemPrompt(page).fill(PROMPT_V1);
  await expect(page.getByText(`${PROMPT_V1.length} characters`)).toBeVisible();
  await page.getByLabel('Greeting').fill('Tony’s Pizza, how can I help?');
  await page.getByLabel('Voice').selectOption('coral');
  await page.getByLabel('Transfer to a person').check();
  await page.getByLabel('Transfer number').fill('+14155550123');
  await toolsField(page).fill(BROKEN_TOOLS);
  await page.getByLabel('Outcome schema (JSON Schema)').fill(OUTCOME);
  await page.getByRole('button', { name: 'Create agent' }).click();

  // check: the schema error sits by its field, and nothing typed is lost
  await expect(page.locator('#field-tools-error')).toContainText('book_table');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Bookings');
  await expect(systemPrompt(page)).toHaveValue(PROMPT_V1);
  await expect(toolsField(page)).toHaveValue(BROKEN_TOOLS);

  await toolsField(page).fill(TOOLS);
  await page.getByRole('button', { name: 'Create agent' }).click();
  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Bookings' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByLabel('Voice')).toHaveValue('coral');
  await expect(toolsField(page)).toHaveValue(/"book_table"/);
  await expect(page.getByLabel('Outcome schema (JSON Schema)')).toHaveValue(/"booked"/);
  await shoot(page, 'agents-editor');

  await systemPrompt(page).fill(PROMPT_V2);
  await saveAgent(page);
  await expect(page.getByText('Saved. The prompt is now version 2.')).toBeVisible();
  await systemPrompt(page).fill(PROMPT_V3);
  await saveAgent(page);
  await expect(page.getByText('Saved. The prompt is now version 3.')).toBeVisible();

  await page.getByRole('link', { name: 'Prompt history (version 3)' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Prompt history' })).toBeVisible();
  await hydrated(page);
  const diff = page.getByTestId('prompt-diff');
  await expect(diff.getByRole('heading', { name: 'Version 2 → version 3' })).toBeVisible();
  await expect(diff.locator('[data-change=removed]')).toHaveText(/Be warm\.$/);
  await expect(diff.locator('[data-change=added]')).toHaveText(/Be warm and quick\.$/);
  await shoot(page, 'agents-versions');

  await page.getByRole('link', { name: 'Changes from version 1' }).click();
  await expect(diff.getByRole('heading', { name: 'Version 1 → version 2' })).toBeVisible();
  await expect(diff.locator('[data-change=removed]')).toHaveText(/Be brief\.$/);

  await page.getByRole('button', { name: 'Restore version 1' }).click();
  await expect(page.getByText('Restored. The prompt is now version 4.')).toBeVisible();
  await expect(page.locator('li[data-version="4"]')).toContainText('Current');

  await page.getByRole('link', { name: 'Bookings' }).click();
  await expect(systemPrompt(page)).toHaveValue(PROMPT_V1);

  await page.goto('/agents');
  const row = page.getByRole('listitem').filter({ hasText: 'Bookings' });
  await expect(row).toContainText('prompt v4');
  await shoot(page, 'agents-list');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('an agent can be created from the plain form, and a refused save keeps what was typed', async ({ page }) => {
    await page.goto('/signup');
    await page.getByLabel('Organization').fill('No Script Co');
    await page.getByLabel('Your name').fill('Nora');
    await page.getByLabel('Email').fill(uniqueEmail('noscript'));
    await page.getByLabel(/^Password/).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/$/);

    // A refused save comes back with its error and with what was typed.
    await page.goto('/agents/new');
    await page.getByLabel('Name', { exact: true }).fill('Plain');
    await page.getByLabel('Transfer to a person').check();
    await page.getByLabel('Transfer number').fill('555-0100');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect(page.locator('#field-transfer_number-error')).toContainText('+ and country code');
    await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Plain');
    await expect(page.getByLabel('Transfer number')).toHaveValue('555-0100');

    await page.getByLabel('Transfer to a person').uncheck();
    await page.getByRole('button', { name: 'Create agent' }).click();

    await expect(page).toHaveURL(/\/agents\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Plain' })).toBeVisible();
  });
});
