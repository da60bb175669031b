//! Scenario tests for [`super::CallSession`]: scripted, timed inputs and the exact actions they
//! produce, one behaviour per test. The [`script::Script`] helper drives the session the way the
//! bridge driver will (ticking at every deadline it passes) and renders actions as short strings.

mod barge_in;
mod conversation;
mod recovery;
mod robustness;
mod script;
mod timers;
mod tools;
