//! In-process fakes of the external services Switchboard talks to (OpenAI Realtime and HTTP,
//! Twilio REST), compiled normally so tests and the `simulate` command can use them. They speak the real wire protocols over loopback.

pub mod openai_http;
pub mod openai_realtime;
pub mod twilio;
pub mod twilio_caller;
