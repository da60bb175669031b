import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Chosen once in the main process; workers inherit the environment, so they agree.
process.env.E2E_PORT ??= String(20000 + Math.floor(Math.random() * 20000));
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'switchboard-e2e-'));
// `switchboard fakes` stands in for OpenAI and Twilio (see server/src/fakes.rs).
process.env.E2E_FAKE_OPENAI_PORT ??= String(Number(process.env.E2E_PORT) + 1);
process.env.E2E_FAKE_TWILIO_PORT ??= String(Number(process.env.E2E_PORT) + 2);
process.env.FAKE_TWILIO_URL ??= `http://127.0.0.1:${process.env.E2E_FAKE_TWILIO_PORT}`;
// A second instance on the same database, as behind a load balancer (two-instances.spec.ts).
process.env.E2E_SECOND_PORT ??= String(Number(process.env.E2E_PORT) + 3);
process.env.E2E_DATABASE_PORT ??= String(Number(process.env.E2E_PORT) + 4);
process.env.SECOND_URL ??= `http://127.0.0.1:${process.env.E2E_SECOND_PORT}`;
const baseURL = process.env.BASE_URL ?? `http://127.0.0.1:${process.env.E2E_PORT}`;
const fakeOpenAi = `http://127.0.0.1:${process.env.E2E_FAKE_OPENAI_PORT}/v1`;
// The release build, as `make test` runs it (E2E_BINARY picks another, e.g. a debug build).
const binary = process.env.E2E_BINARY ?? 'target/release/switchboard';
const databaseUrl = `postgres://postgres@127.0.0.1:${process.env.E2E_DATABASE_PORT}/postgres`;

/** One server instance of the release build, listening on `port`. */
function instance(port: string) {
  const url = `http://127.0.0.1:${port}`;
  return {
    command: binary,
    cwd: '..',
    url: `${url}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 15_000 },
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: 'target/site',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      PUBLIC_BASE_URL: url,
      OPENAI_BASE_URL: fakeOpenAi,
      OPENAI_API_KEY: 'sk-fake-offline',
      EMBEDDINGS: 'local',
      TWILIO_API_BASE: process.env.FAKE_TWILIO_URL!,
      TWILIO_ACCOUNT_SID: 'ACfa4e0000000000000000000000000001',
      TWILIO_AUTH_TOKEN: 'fake-twilio-auth-token',
    },
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  // The offline fakes of both clouds; the embedded PostgreSQL (the same code `make run` uses) in
  // a temporary directory, run on its own so that two instances of the release build can share
  // it; then the two instances, pointed at the fakes.
  webServer: process.env.BASE_URL ? undefined : [{
    command: `${binary} fakes --openai-port ${process.env.E2E_FAKE_OPENAI_PORT} `
      + `--twilio-port ${process.env.E2E_FAKE_TWILIO_PORT} --number +15005550100 --number +15005550101 --number +15005550102`,
    cwd: '..',
    url: `${process.env.FAKE_TWILIO_URL}/_fake/health`,
    timeout: 30_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    env: { LOG_LEVEL: 'warn' },
  }, {
    command: `${binary} database --port ${process.env.E2E_DATABASE_PORT}`,
    cwd: '..',
    // Printed once it accepts connections and is migrated.
    wait: { stdout: /^DATABASE_URL=/m },
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    env: { SWITCHBOARD_DATA_DIR: process.env.E2E_DATA_DIR, DATABASE_URL: '', LOG_LEVEL: 'warn' },
  },
  instance(process.env.E2E_PORT),
  instance(process.env.E2E_SECOND_PORT)],
});
