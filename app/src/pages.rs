//! One module per page.

pub mod auth;
pub mod overview;
pub mod section;
