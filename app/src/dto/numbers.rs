//! What the Numbers page shows.

use serde::{Deserialize, Serialize};

/// One phone number: in the Twilio account, claimed by this organization, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberView {
    /// E.164, e.g. `+14155551234`.
    pub e164: String,
    /// The Twilio console label.
    pub friendly_name: String,
    /// Twilio's `PN…`; empty when the number is not (or no longer) in the Twilio account.
    pub twilio_sid: String,
    /// Our row, when this organization holds the number.
    pub number_id: Option<String>,
    /// The agent answering it.
    pub agent_id: Option<String>,
    /// That agent's name.
    pub agent_name: Option<String>,
    /// Where Twilio sends its calls now, as the account reported it.
    pub voice_url: Option<String>,
}

/// An agent a number can be assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentOption {
    /// The agent's id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// Everything the Numbers page needs in one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumbersView {
    /// The numbers, sorted by number.
    pub numbers: Vec<NumberView>,
    /// The organization's agents.
    pub agents: Vec<AgentOption>,
    /// Why the Twilio account could not be listed (not configured, refused credentials, down);
    /// the numbers this organization already holds are still listed.
    pub twilio_problem: Option<String>,
    /// The voice webhook an assigned number is pointed at.
    pub voice_url: Option<String>,
    /// Whether the signed-in user may assign numbers.
    pub can_write: bool,
}
