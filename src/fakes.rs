//! In-process fakes of the external services Switchboard talks to, compiled normally so tests
//! and the `simulate` command can use them. They speak the real wire protocols over loopback.

pub mod openai_realtime;
