//! Switchboard's engine: everything that is not UI.
//!
//! # Layout
//!
//! Pure (no I/O, no tokio, no clock; tested with plain unit tests):
//! - [`audio`]    — G.711 μ-law codec, band-limited streaming resampler, frame and level helpers.
//! - [`twilio`]   — Media Streams messages, TwiML builder, `X-Twilio-Signature`.
//! - [`realtime`] — OpenAI Realtime (GA) client and server events.
//! - [`call`]     — `CallSession`, the sans-I/O state machine of one phone call.
//! - [`rag`]      — structure-aware chunking of extracted text, with heading paths and token counts.
//!
//! I/O (tokio, sockets, PostgreSQL):
//! - [`engines`]  — the neutral event vocabulary every voice engine speaks, and the engines.
//! - [`bridge`]   — the per-call task driving a `CallSession` between the Twilio socket and an engine.
//! - [`fakes`]    — in-process stand-ins for OpenAI (Realtime and HTTP) and Twilio REST, for tests and `simulate`.
//! - [`twilio_rest`] — Twilio REST client: hang up, redirect, outbound calls, number set-up.
//! - [`outbound`] — placing an outbound call from an agent (shared by the REST API and the dashboard).
//! - [`postgres`] — the embedded PostgreSQL + pgvector cluster used when no `DATABASE_URL` is given.
//! - [`store`]    — the database: pool, migrations, one module per aggregate, every query scoped by organization.
//! - [`accounts`] — sign-up, log-in and password hashing on top of the store.
//! - [`members`]  — an organization's name, members, roles and one-time invitation links.
//! - [`business_tools`] — agents' typed tools: JSON-Schema-checked arguments, signed webhooks.
//! - [`jobs`]     — the durable-job worker: claims jobs with `SKIP LOCKED`, heartbeats, retries.
//! - [`live`]     — the live bus: call and document events to every instance's SSE streams.
//! - [`summaries`] — after a call: summary, typed outcome, usage and cost, as a durable job.
//! - [`webhooks`]  — the signed `call.ended` event to the organization's endpoint, delivered and retried as durable jobs.
//! - [`knowledge`] — text extraction (txt, md, html, pdf, docx) and the embedders, local model included.
//! - [`testing`]  — test support: a throw-away cluster per test process, a fresh database per test.

pub mod accounts;
pub mod audio;
pub mod bridge;
pub mod business_tools;
pub mod call;
pub mod engines;
pub mod fakes;
pub mod jobs;
pub mod knowledge;
pub mod live;
pub mod members;
pub mod outbound;
pub mod postgres;
pub mod rag;
pub mod realtime;
pub mod store;
pub mod summaries;
pub mod testing;
pub mod twilio;
pub mod twilio_rest;
pub mod webhooks;
