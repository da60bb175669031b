//! What the Settings and invitation pages show.

use serde::{Deserialize, Serialize};

/// A member of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The user's id.
    pub id: String,
    /// Their email.
    pub email: String,
    /// Their display name (may be empty).
    pub name: String,
    /// `owner`, `admin` or `viewer`.
    pub role: String,
    /// Their last log-in (RFC 3339).
    pub last_login_at: Option<String>,
    /// Whether this is the signed-in user.
    pub is_you: bool,
}

/// A pending invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    /// The invitation's id.
    pub id: String,
    /// Who was invited.
    pub email: String,
    /// The role they will get.
    pub role: String,
    /// When the link stops working (RFC 3339).
    pub expires_at: String,
    /// Whether it already stopped working.
    pub expired: bool,
}

/// An invitation just made: the only time its link is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvitationView {
    /// The invitation as listed.
    pub invitation: InvitationView,
    /// The one-time link to send the invitee.
    pub link: String,
}

/// The post-call event endpoint (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    /// Where events are posted.
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// The secret's first characters, to tell secrets apart.
    pub secret_hint: String,
}

/// The endpoint just saved, with its secret if one was generated (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedWebhook {
    /// The endpoint as shown.
    pub webhook: WebhookView,
    /// The generated secret; `None` when it was provided or kept.
    pub new_secret: Option<String>,
}

/// Everything the Settings page needs except API keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    /// The organization's name.
    pub org_name: String,
    /// The signed-in user's role.
    pub role: String,
    /// Members, owners first.
    pub members: Vec<MemberView>,
    /// Pending invitations, newest first.
    pub invitations: Vec<InvitationView>,
    /// The post-call event endpoint.
    pub webhook: Option<WebhookView>,
}

impl SettingsView {
    /// Whether the signed-in user may change settings.
    pub fn can_write(&self) -> bool {
        self.role != "viewer"
    }
}

/// What the invitation page shows before the invitee accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    /// The organization.
    pub org_name: String,
    /// The invited address (becomes the log-in email).
    pub email: String,
    /// The role they will get.
    pub role: String,
}
