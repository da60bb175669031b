import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import {
  FAKE_TWILIO, assignNumber, createAgent, dialFake, hydrated, signUp, uniqueEmail,
} from '../tests/helpers';

// How long a transcript line takes from being stored to being on the Live page: on a browser
// connected to the instance that stored it (in-process bus), and on one connected to the other
// instance (PostgreSQL NOTIFY). The target is 100 ms.
//
// Stored: the row's `created_at` (the insert's time, read with psql afterwards). On the page:
// when a MutationObserver sees the line's element added (the same machine's clock). CALLS calls
// (default 10) through the offline fakes, one after another, three lines each.

const CALLS = Number(process.env.CALLS ?? 10);
const NUMBER = FAKE_TWILIO.numbers[0];
const SECOND = process.env.SECOND_URL!;
const DATABASE_URL = `postgres://postgres@127.0.0.1:${process.env.E2E_DATABASE_PORT}/postgres`;
const PSQL = '../.tools/pgserver/pginstall/bin/psql';

type Seen = { call: string, seq: number, at: number };

/** Records, in the page, when each transcript line's element is added. */
async function watchLines(page: Page) {
  await page.evaluate(() => {
    const seen: Seen[] = [];
    const keys = new Set<string>();
    (window as unknown as { seenLines: Seen[] }).seenLines = seen;
    new MutationObserver((mutations) => {
      const at = performance.timeOrigin + performance.now();
      for (const mutation of mutations) {
        for (const node of mutation.addedNodes) {
          if (!(node instanceof Element)) continue;
          const lines = node.matches('li[data-seq]') ? [node] : [...node.querySelectorAll('li[data-seq]')];
          for (const line of lines) {
            const call = line.closest('[data-call-id]')?.getAttribute('data-call-id');
            const key = `${call}/${line.getAttribute('data-seq')}`;
            if (!call || keys.has(key)) continue;
            keys.add(key);
            seen.push({ call, seq: Number(line.getAttribute('data-seq')), at });
          }
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report(label: string, latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(`${label}: ${sorted.length} lines, p50 ${f(percentile(sorted, 50))}, `
    + `p95 ${f(percentile(sorted, 95))}, max ${f(sorted[sorted.length - 1])}`);
}

test('transcript lines reach the Live page of either instance soon after they are stored', async ({ page, context }) => {
  await signUp(page, 'Latency Bench', 'Lee', uniqueEmail('latency'), 'correct horse battery staple');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await createAgent(page, 'Bench desk');
  await assignNumber(page, NUMBER, 'Bench desk');

  const pages = { same: page, other: await context.newPage() };
  await pages.same.goto('/live');
  await pages.other.goto(`${SECOND}/live`);
  for (const watcher of Object.values(pages)) {
    await hydrated(watcher);
    await expect(watcher.getByTestId('live-connection')).toHaveAttribute('data-state', 'connected');
    await watchLines(watcher);
  }

  for (let i = 0; i < CALLS; i++) {
    await dialFake(NUMBER, 5);
    // One call at a time: wait until it has left both boards.
    for (const watcher of Object.values(pages)) {
      await expect(watcher.getByTestId('live-call')).toHaveCount(1, { timeout: 15_000 });
    }
    for (const watcher of Object.values(pages)) {
      await expect(watcher.getByTestId('live-call')).toHaveCount(0, { timeout: 60_000 });
    }
  }

  const rows = execFileSync(PSQL, [DATABASE_URL, '-At', '-F', ' ', '-c',
    `select l.call_id, l.seq, extract(epoch from l.created_at) * 1000
       from call_transcript_lines l join organizations o on o.id = l.org_id
      where o.name = 'Latency Bench'`], { encoding: 'utf8' });
  const stored = new Map<string, number>();
  for (const line of rows.trim().split('\n')) {
    const [call, seq, at] = line.split(' ');
    stored.set(`${call}/${seq}`, Number(at));
  }
  expect(stored.size).toBeGreaterThanOrEqual(CALLS * 2);

  for (const [label, watcher] of Object.entries(pages)) {
    const seen = await watcher.evaluate(() => (window as unknown as { seenLines: Seen[] }).seenLines);
    const latencies = seen
      .filter((s) => stored.has(`${s.call}/${s.seq}`))
      .map((s) => s.at - stored.get(`${s.call}/${s.seq}`)!);
    expect(latencies.length, `${label}: every stored line was seen`).toBe(stored.size);
    report(label === 'same' ? 'instance that stored it' : 'other instance (NOTIFY)', latencies);
  }
});
