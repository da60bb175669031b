import { expect, test } from '@playwright/test';
import { createAgent, hydrated, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';

test('an owner creates and revokes an API key, invites a viewer, and the viewer cannot change anything', async ({ page, browser }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, 'Settings Co', 'Olga', uniqueEmail('settings-owner'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  // An agent the viewer will try to change.
  await createAgent(page, 'Front desk');
  const agentPath = new URL(page.url()).pathname;

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  await hydrated(page);

  // An API key: its secret is shown once, then only its prefix.
  const keys = page.getByRole('region', { name: 'API keys' });
  await keys.getByLabel('Key name').fill('CRM sync');
  await keys.getByRole('button', { name: 'Create key' }).click();
  const secret = keys.getByTestId('shown-once');
  await expect(secret).toHaveText(/^sb_\w+$/);
  const secretValue = (await secret.textContent())!.trim();
  const key = keys.getByTestId('api-key').filter({ hasText: 'CRM sync' });
  await expect(key).toContainText('never used');
  await expect(keys.getByLabel('Key name')).toHaveValue('');
  await screenshot(page, 'settings-desktop');

  await key.getByRole('button', { name: 'Revoke CRM sync' }).click();
  await expect(key).toContainText('Revoked');
  await page.reload();
  await hydrated(page);
  await expect(keys.getByTestId('api-key').filter({ hasText: 'CRM sync' })).toContainText('Revoked');
  expect(await page.content()).not.toContain(secretValue);

  // A viewer, invited through a one-time link.
  const members = page.getByRole('region', { name: 'Members' });
  const viewerEmail = uniqueEmail('viewer');
  await members.getByLabel('Email').fill(viewerEmail);
  await members.getByLabel('Role', { exact: true }).selectOption('viewer');
  await members.getByRole('button', { name: 'Invite', exact: true }).click();
  const link = (await members.getByTestId('shown-once').textContent())!.trim();
  expect(link).toMatch(/\/invite\/\w+$/);
  await expect(members.getByTestId('invitation')).toContainText(viewerEmail);

  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'settings-mobile');

  const context = await browser.newContext();
  const viewer = await context.newPage();
  await viewer.setViewportSize({ width: 390, height: 844 });
  await viewer.goto(link);
  await hydrated(viewer);
  await expect(viewer.getByRole('heading', { name: 'Join Settings Co' })).toBeVisible();
  await expect(viewer.getByText('You are invited as viewer')).toBeVisible();
  await screenshot(viewer, 'invite-mobile');
  await viewer.getByLabel('Your name').fill('Vic');
  await viewer.getByLabel(/^Password/).fill('another long password');
  await viewer.getByRole('button', { name: 'Join' }).click();
  await expect(viewer.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(viewer.getByTestId('user-name')).toHaveText('Vic');

  await viewer.goto('/settings');
  await hydrated(viewer);
  await expect(viewer.getByText('You are a viewer')).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Create key' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Save name' })).toHaveCount(0);

  // The server refuses the viewer's write even without the page's help.
  const refused = await viewer.request.post('/api/settings/org', {
    form: { org_name: 'Hijacked' },
    headers: { Accept: 'application/json' },
  });
  expect(await refused.text()).toContain('Forbidden');
  await page.reload();
  await expect(page.getByLabel('Organization name')).toHaveValue('Settings Co');

  // Nor may the viewer change an agent: the page lets them try, the server says no.
  await viewer.goto(agentPath);
  await hydrated(viewer);
  await viewer.getByLabel('Name', { exact: true }).fill('Viewer was here');
  await viewer.getByRole('button', { name: 'Save changes' }).click();
  await expect(viewer.getByText('Your role does not allow this.')).toBeVisible();
  await expect(viewer.getByLabel('Name', { exact: true })).toHaveValue('Viewer was here');
  await page.goto(agentPath);
  await expect(page.getByRole('heading', { level: 1, name: 'Front desk' })).toBeVisible();

  // The link worked once.
  await viewer.goto(link);
  await expect(viewer.getByRole('heading', { name: 'This link does not work' })).toBeVisible();
  await context.close();
});

test('settings forms show field errors and keep what was typed', async ({ page }) => {
  await signUp(page, 'Typo Co', 'Tia', uniqueEmail('typo'), PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.goto('/settings');
  await hydrated(page);
  const webhook = page.getByRole('region', { name: 'Webhook' });
  await webhook.getByLabel('Endpoint URL').fill('ftp://crm.example/hooks');
  await webhook.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(webhook.getByText('Enter the full address of your endpoint')).toBeVisible();
  await expect(webhook.getByLabel('Endpoint URL')).toHaveValue('ftp://crm.example/hooks');

  await webhook.getByLabel('Endpoint URL').fill('https://crm.example/hooks');
  await webhook.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(webhook.getByTestId('shown-once')).toHaveText(/^whsec_/);
  await expect(webhook.getByTestId('webhook')).toContainText('https://crm.example/hooks');
});
