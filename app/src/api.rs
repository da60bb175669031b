//! Server functions, each with its server-only half in an `ssr` submodule.

pub mod agents;
pub mod auth;
pub mod calls;
pub mod keys;
pub mod knowledge;
pub mod live;
pub mod numbers;
pub mod overview;
pub mod settings;

#[cfg(feature = "ssr")]
pub mod ssr;
