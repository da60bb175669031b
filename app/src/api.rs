//! Server functions, each with its server-only half in an `ssr` submodule.

pub mod agents;
pub mod auth;
pub mod keys;
pub mod knowledge;

#[cfg(feature = "ssr")]
pub mod ssr;
