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
