//! HTTP handlers, grouped by what they serve.

pub mod health;
pub mod stream;
pub mod twilio;
