//! Server functions, each with its server-only half in an `ssr` submodule.

pub mod auth;
pub mod keys;
pub mod knowledge;
pub mod live;
pub mod overview;

#[cfg(feature = "ssr")]
pub mod ssr;
