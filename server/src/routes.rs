//! HTTP handlers, grouped by what they serve.

pub mod calls;
pub mod events;
pub mod health;
pub mod knowledge;
pub mod stream;
pub mod twilio;
