import { expect, test } from '@playwright/test';
import { SECTIONS, hydrated, logIn, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';

test('pages are rendered on the server', async ({ request }) => {
  const response = await request.get('/login');
  expect(response.status()).toBe(200);
  expect(await response.text()).toContain('Log in to your account');
});

test('the stylesheet carries the Tailwind classes the pages use', async ({ request }) => {
  const css = await (await request.get('/pkg/switchboard.css')).text();
  expect(css).toContain('bg-indigo-600');
});

test('a signed-out visitor is sent to log in, and back afterwards', async ({ page }) => {
  const email = uniqueEmail('returning');
  await signUp(page, 'Return Trips', 'Rita', email, PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.goto('/calls');
  await expect(page).toHaveURL(/\/login\?next=\/calls$/);
  await logIn(page, email, PASSWORD);

  await expect(page).toHaveURL(/\/calls$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Calls' })).toBeVisible();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the password toggle does nothing, because it needs hydration', async ({ page }) => {
    await page.goto('/login');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('type', 'password');
  });
});

test('the password toggle works once the page is hydrated', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  const password = page.getByLabel('Password', { exact: true });
  await password.fill('secret words');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(password).toHaveAttribute('type', 'text');
  await page.getByRole('button', { name: 'Hide' }).click();
  await expect(password).toHaveAttribute('type', 'password');
});

test('sign up, visit every section, log out and log in again', async ({ page }) => {
  const email = uniqueEmail('owner');
  await signUp(page, 'Tony’s Pizza', 'Tony', email, PASSWORD);

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByTestId('user-name')).toHaveText('Tony');

  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const [label, path] of SECTIONS) {
    await nav.getByRole('link', { name: label, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path === '/' ? '/' : path}$`));
    await expect(page.getByRole('heading', { level: 1, name: label })).toBeVisible();
    await expect(nav.getByRole('link', { name: label, exact: true })).toHaveAttribute('aria-current', 'page');
    await screenshot(page, `desktop-${label.toLowerCase()}`);
  }

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);

  await logIn(page, email, PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByTestId('user-name')).toHaveText('Tony');
});

test('a wrong password is refused with the same message as an unknown email', async ({ page }) => {
  const email = uniqueEmail('wrong');
  await signUp(page, 'Acme', 'Ana', email, PASSWORD);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await logIn(page, email, 'not the password');
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password.' })).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue(email);

  await page.getByLabel('Email').fill(uniqueEmail('nobody'));
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password.' })).toBeVisible();
});

test.describe('on a phone-sized screen', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('the menu opens to reach every section', async ({ page }) => {
    await signUp(page, 'Small Screens Ltd', 'Sam', uniqueEmail('phone'), PASSWORD);
    await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav).toBeHidden();
    for (const [label, path] of SECTIONS) {
      await page.getByRole('button', { name: 'Menu' }).click();
      await nav.getByRole('link', { name: label, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`${path === '/' ? '/' : path}$`));
      await expect(page.getByRole('heading', { level: 1, name: label })).toBeVisible();
      await screenshot(page, `phone-${label.toLowerCase()}`);
    }
  });
});
