//! HTTP handlers, grouped by what they serve.

pub mod health;
pub mod twilio;
