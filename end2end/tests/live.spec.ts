import { expect, test, type Page } from '@playwright/test';
import { hydrated, screenshot, signUp, uniqueEmail } from './helpers';

const PASSWORD = 'correct horse battery staple';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

/** The live page's indicator for the `/events/calls` stream. */
function connection(page: Page) {
  return page.getByTestId('live-connection');
}

test('a new organization sees the first steps on the overview and an empty live page', async ({ page }) => {
  await signUp(page, 'Quiet Line', 'Quinn', uniqueEmail('quiet'), PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);

  // Overview: the empty state says what to do next, in order.
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  const steps = page.getByRole('list', { name: 'First steps' });
  await expect(steps.getByRole('link')).toHaveText([
    'Create an agent', 'Assign a phone number', 'Call it, or simulate a call',
  ]);
  await expect(page.getByRole('img', { name: /Calls per day/ })).toHaveCount(0);

  // Live: nothing in progress, and the event stream opens once the page is hydrated.
  await page.getByRole('link', { name: 'Live', exact: true }).click();
  await expect(page).toHaveURL(/\/live$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Live' })).toBeVisible();
  await expect(page.getByText('No calls in progress.')).toBeVisible();
  await expect(connection(page)).toHaveAttribute('data-state', 'connected');
  await expect(connection(page)).toHaveText('Live');
});

test('the live page opens its event stream when loaded directly, and closes it when left', async ({ page }) => {
  await signUp(page, 'Stream Co', 'Sam', uniqueEmail('stream'), PASSWORD);
  await expect(page).toHaveURL(/\/$/);

  const opened: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/events/calls')) opened.push(request.url());
  });
  await page.goto('/live');
  await hydrated(page);
  await expect(connection(page)).toHaveAttribute('data-state', 'connected');
  expect(opened).toHaveLength(1);

  // Leaving the page closes the stream: coming back opens exactly one new one.
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await page.getByRole('link', { name: 'Live', exact: true }).click();
  await expect(connection(page)).toHaveAttribute('data-state', 'connected');
  expect(opened).toHaveLength(2);
});

test('the live page and the overview are rendered on the server', async ({ page }) => {
  await signUp(page, 'Plain Co', 'Pat', uniqueEmail('plain'), PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  // The server's HTML (the session cookie is shared with the page's request context).
  const live = await (await page.request.get('/live')).text();
  expect(live).toContain('No calls in progress.');
  expect(live).toContain('data-state="connecting"');
  const overview = await (await page.request.get('/')).text();
  expect(overview).toContain('Create an agent');
});

for (const viewport of VIEWPORTS) {
  test(`screenshots of the overview and live pages (${viewport.name})`, async ({ page }) => {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await signUp(page, 'Screens Ltd', 'Sky', uniqueEmail(`screens-${viewport.name}`), PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    await hydrated(page);
    await expect(page.getByRole('list', { name: 'First steps' })).toBeVisible();
    await screenshot(page, `overview-empty-${viewport.name}`);

    await page.goto('/live');
    await hydrated(page);
    await expect(connection(page)).toHaveAttribute('data-state', 'connected');
    // Nothing overflows sideways.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, `live-empty-${viewport.name}`);
  });
}
