//! The one error type every server function returns.
//!
//! Client-caused variants carry a sentence for the person at the keyboard;
//! [`AppError::Internal`] renders a fixed sentence — the details go to the log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error a page can show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// One form field is wrong; shown next to that field.
    #[error("{message}")]
    Field {
        /// The form field's `name`.
        field: String,
        /// What to fix.
        message: String,
    },
    /// The request is wrong as a whole; shown above the form.
    #[error("{0}")]
    Invalid(String),
    /// Nobody is signed in.
    #[error("Please log in.")]
    Unauthorized,
    /// Signed in, but not allowed to do this.
    #[error("Your role does not allow this. Ask an owner or admin of your organization.")]
    Forbidden,
    /// The thing does not exist in this organization.
    #[error("Not found.")]
    NotFound,
    /// Our fault; logged on the server.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The server function machinery failed (network, encoding).
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    /// A field error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Field {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The message for `field`, if this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Field { field, message } if field == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The message to show above a form (none for field errors, which sit by their field).
    pub fn form_message(&self) -> Option<String> {
        match self {
            AppError::Field { .. } => None,
            other => Some(other.to_string()),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
