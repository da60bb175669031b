//! Pieces shared by pages.

pub mod chart;
pub mod form;
pub mod shell;
