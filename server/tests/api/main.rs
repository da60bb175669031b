//! Integration tests: the real server on port 0, a real PostgreSQL, a fresh database per test.
//! One test binary, so one throw-away cluster serves them all.

mod accounts;
mod agents;
mod binary;
mod call_flow;
mod call_pages;
mod calls;
mod health;
mod helpers;
mod knowledge;
mod knowledge_pages;
mod live_pages;
mod numbers_pages;
mod settings_pages;
mod stream;
mod twilio;
mod webhooks;
