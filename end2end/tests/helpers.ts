import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';

/** The dashboard's sections, as the navigation names them, with their paths. */
export const SECTIONS: Array<[string, string]> = [
  ['Overview', '/'], ['Agents', '/agents'], ['Knowledge', '/knowledge'], ['Numbers', '/numbers'],
  ['Calls', '/calls'], ['Live', '/live'], ['Settings', '/settings'],
];

/** A new address per run, so reruns against one database never collide. */
export function uniqueEmail(who: string): string {
  return `${who}+${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits until the app has hydrated (set by an effect, which only runs in the browser). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('#app')).toHaveAttribute('data-hydrated', 'true');
}

export async function signUp(page: Page, org: string, name: string, email: string, password: string) {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Organization').fill(org);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

export async function logIn(page: Page, email: string, password: string) {
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Saves a screenshot under end2end/screenshots (not committed) for a person to look at. */
export async function screenshot(page: Page, name: string) {
  mkdirSync('screenshots', { recursive: true });
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

/** The fake Twilio account the e2e server is pointed at (`switchboard fakes`). */
export const FAKE_TWILIO = {
  url: process.env.FAKE_TWILIO_URL ?? 'http://127.0.0.1:4011',
  accountSid: 'ACfa4e0000000000000000000000000001',
  authToken: 'fake-twilio-auth-token',
  numbers: ['+15005550100', '+15005550101', '+15005550102'],
};

/** A number as the fake Twilio account holds it (its `voice_url` shows what assigning set). */
export async function fakeTwilioNumber(phoneNumber: string): Promise<Record<string, unknown> | undefined> {
  const auth = Buffer.from(`${FAKE_TWILIO.accountSid}:${FAKE_TWILIO.authToken}`).toString('base64');
  const response = await fetch(
    `${FAKE_TWILIO.url}/2010-04-01/Accounts/${FAKE_TWILIO.accountSid}/IncomingPhoneNumbers.json?PageSize=1000`,
    { headers: { authorization: `Basic ${auth}` } },
  );
  const page = await response.json() as { incoming_phone_numbers: Array<Record<string, unknown>> };
  return page.incoming_phone_numbers.find((n) => n.phone_number === phoneNumber);
}

/** Somebody calls `to` through the fake Twilio (which posts to the number's voice URL). */
export async function dialFake(to: string, seconds = 8): Promise<string> {
  const response = await fetch(`${FAKE_TWILIO.url}/_fake/dial`, {
    method: 'POST',
    body: new URLSearchParams({ From: '+15005550006', To: to, Seconds: String(seconds) }),
  });
  const body = await response.json() as { sid?: string, message?: string };
  if (!response.ok || !body.sid) throw new Error(`dial failed: ${body.message ?? response.status}`);
  return body.sid;
}

/** Creates an agent on /agents/new; `more` fills other fields before it is saved. */
export async function createAgent(page: Page, name: string, more?: (page: Page) => Promise<void>) {
  await page.goto('/agents/new');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(name);
  if (more) await more(page);
  await page.getByRole('button', { name: 'Create agent' }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

/** Assigns one of the fake Twilio account's numbers to the agent called `agent`. */
export async function assignNumber(page: Page, number: string, agent: string) {
  await page.goto('/numbers');
  await hydrated(page);
  const row = page.getByTestId('number').filter({ hasText: number });
  await row.getByLabel(`Agent for ${number}`).selectOption({ label: agent });
  await row.getByRole('button', { name: 'Assign' }).click();
  await expect(row).toContainText(`Answered by ${agent}`);
}
