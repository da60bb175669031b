import { defineConfig } from '@playwright/test';
import config from './playwright.config';

// Benchmarks in the browser, against the same servers as the tests (not part of `make test`):
// `cd end2end && npx playwright test --config bench.config.ts`.
export default defineConfig({ ...config, testDir: './bench', timeout: 900_000 });
