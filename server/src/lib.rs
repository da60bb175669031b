//! The `switchboard` binary's library half, so integration tests drive the real server.
//!
//! - [`cli`]       — command-line interface.
//! - [`config`]    — typed configuration from the environment.
//! - [`startup`]   — `Application::build`, the router, graceful shutdown.
//! - [`database`]  — the embedded PostgreSQL or `DATABASE_URL`, migrated.
//! - [`state`]     — `AppState` and its sub-states.
//! - [`auth`]      — sessions, the signed-in user, page guard and CSRF origin check.
//! - [`caller`]    — `Caller`: the organization a REST request acts for (API key or session).
//! - [`effects`]   — performs a live call's effects: lines, tools, hang-up, transfer, the end.
//! - [`error`]     — `ApiError`, the one error type of JSON endpoints.
//! - [`telemetry`] — tracing set-up and request spans.
//! - [`simulate`]  — `switchboard simulate`: a whole call to an agent without a phone.
//! - [`fakes`]     — `switchboard fakes`: OpenAI and Twilio faked offline on loopback ports.
//! - [`routes`]    — handlers grouped by what they serve.
//! - [`tools`]     — runs the model's tool calls during a call and records them.

pub mod auth;
pub mod caller;
pub mod cli;
pub mod config;
pub mod database;
pub mod effects;
pub mod error;
pub mod fakes;
pub mod routes;
pub mod simulate;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tools;
