//! Pieces shared by pages.

pub mod form;
pub mod shell;
