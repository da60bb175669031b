//! Small types shared by the browser and the server.

use serde::{Deserialize, Serialize};

/// The signed-in user, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Display name (may be empty).
    pub name: String,
    /// Email address.
    pub email: String,
    /// Organization name.
    pub org_name: String,
    /// `owner`, `admin` or `viewer`.
    pub role: String,
}

impl UserView {
    /// What to call the user in the navigation.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.email
        } else {
            &self.name
        }
    }
}
