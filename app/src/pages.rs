//! One module per page.

pub mod agents;
pub mod auth;
pub mod calls;
pub mod invite;
pub mod knowledge;
pub mod live;
pub mod numbers;
pub mod overview;
pub mod section;
pub mod settings;
