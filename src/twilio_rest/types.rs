//! The resources we send and read: calls, incoming numbers, and an outbound call request.
//! Only the fields Switchboard uses are decoded; Twilio sends many more.

use std::fmt;

use serde::{Deserialize, Deserializer};

use super::mask::MaskedPhone;

/// A call's state as Twilio reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum CallStatus {
    /// Waiting to be placed.
    Queued,
    /// The callee's phone is ringing.
    Ringing,
    /// Answered and running.
    InProgress,
    /// Cancelled while queued or ringing.
    Canceled,
    /// Ended normally (including by our hang-up).
    Completed,
    /// The callee was busy.
    Busy,
    /// Could not be placed.
    Failed,
    /// Nobody answered.
    NoAnswer,
    /// A status this client does not know yet, kept verbatim.
    Other(String),
}

impl CallStatus {
    /// The wire spelling (`in-progress`, `no-answer`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Canceled => "canceled",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::NoAnswer => "no-answer",
            Self::Other(other) => other,
        }
    }

    /// Whether the call is over (no later status will follow).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Canceled | Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer
        )
    }
}

impl From<String> for CallStatus {
    fn from(value: String) -> Self {
        match value.as_str() {
            "queued" => Self::Queued,
            "ringing" => Self::Ringing,
            "in-progress" => Self::InProgress,
            "canceled" => Self::Canceled,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "failed" => Self::Failed,
            "no-answer" => Self::NoAnswer,
            _ => Self::Other(value),
        }
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A call resource (`/Calls/{CallSid}.json`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Call {
    /// `CA…`, 34 characters.
    pub sid: String,
    /// Where the call is in its life.
    pub status: CallStatus,
    /// The called party (E.164, SIP URI or `client:` identity).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub to: String,
    /// The calling party.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub from: String,
    /// `inbound`, `outbound-api` or `outbound-dial`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub direction: String,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("sid", &self.sid)
            .field("status", &self.status)
            .field("to", &MaskedPhone(&self.to))
            .field("from", &MaskedPhone(&self.from))
            .field("direction", &self.direction)
            .finish()
    }
}

/// One of the account's phone numbers (`/IncomingPhoneNumbers/{Sid}.json`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct IncomingNumber {
    /// `PN…`, 34 characters.
    pub sid: String,
    /// E.164, e.g. `+14155551234`.
    pub phone_number: String,
    /// The label shown in the Twilio console.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub friendly_name: String,
    /// Where Twilio sends incoming calls; `None` when unset (Twilio sends `null` or `""`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub voice_url: Option<String>,
}

impl fmt::Debug for IncomingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingNumber")
            .field("sid", &self.sid)
            .field("phone_number", &MaskedPhone(&self.phone_number))
            .field("friendly_name", &mask_name(&self.friendly_name))
            .field("voice_url", &self.voice_url)
            .finish()
    }
}

/// Twilio's default friendly name is the formatted number, so a name holding a number is masked
/// as one.
fn mask_name(name: &str) -> String {
    if name.bytes().filter(u8::is_ascii_digit).count() > 4 {
        super::mask::mask_phone(name)
    } else {
        name.to_owned()
    }
}

/// Call progress events Twilio can post to the `StatusCallback` of an outbound call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallProgressEvent {
    /// Twilio started dialling.
    Initiated,
    /// The callee's phone is ringing.
    Ringing,
    /// The callee answered.
    Answered,
    /// The call ended, whatever the reason (Twilio's default when no event is asked for).
    Completed,
}

impl CallProgressEvent {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::Answered => "answered",
            Self::Completed => "completed",
        }
    }
}

/// Answering-machine detection for outbound calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MachineDetection {
    /// Decide human or machine as early as possible.
    Enable,
    /// Wait for the end of a voicemail greeting (to leave a message after the beep).
    DetectMessageEnd,
}

impl MachineDetection {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enable => "Enable",
            Self::DetectMessageEnd => "DetectMessageEnd",
        }
    }
}

/// An outbound call to place. Twilio fetches TwiML from `url` (POST) once the callee answers.
#[derive(Clone, PartialEq, Eq)]
pub struct CreateCall {
    /// The number to call (E.164), or a SIP URI.
    pub to: String,
    /// One of the account's numbers (or a verified caller ID), E.164.
    pub from: String,
    /// Our voice webhook, absolute URL.
    pub url: String,
    /// Where Twilio posts call progress, absolute URL.
    pub status_callback: String,
    /// Which progress events to post; empty means Twilio's default (`completed` only).
    pub status_callback_events: Vec<CallProgressEvent>,
    /// Answering-machine detection, off when `None`.
    pub machine_detection: Option<MachineDetection>,
}

impl CreateCall {
    /// The form Twilio expects; `StatusCallbackEvent` repeats once per event.
    pub(crate) fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![
            ("To", self.to.as_str()),
            ("From", self.from.as_str()),
            ("Url", self.url.as_str()),
            ("Method", "POST"),
            ("StatusCallback", self.status_callback.as_str()),
            ("StatusCallbackMethod", "POST"),
        ];
        form.extend(
            self.status_callback_events
                .iter()
                .map(|event| ("StatusCallbackEvent", event.as_str())),
        );
        if let Some(detection) = self.machine_detection {
            form.push(("MachineDetection", detection.as_str()));
        }
        form
    }
}

impl fmt::Debug for CreateCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateCall")
            .field("to", &MaskedPhone(&self.to))
            .field("from", &MaskedPhone(&self.from))
            .field("url", &self.url)
            .field("status_callback", &self.status_callback)
            .field("status_callback_events", &self.status_callback_events)
            .field("machine_detection", &self.machine_detection)
            .finish()
    }
}

/// One page of `IncomingPhoneNumbers.json`.
#[derive(Debug, Deserialize)]
pub(crate) struct NumberPage {
    pub(crate) incoming_phone_numbers: Vec<IncomingNumber>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) next_page_uri: Option<String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

fn empty_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_are_kept_not_rejected() {
        let status: CallStatus = serde_json::from_str("\"on-hold\"").unwrap();
        assert_eq!(status, CallStatus::Other("on-hold".into()));
        assert_eq!(status.as_str(), "on-hold");
        let status: CallStatus = serde_json::from_str("\"in-progress\"").unwrap();
        assert_eq!(status, CallStatus::InProgress);
        assert!(!status.is_final());
    }

    #[test]
    fn debug_output_masks_phone_numbers() {
        let call = Call {
            sid: "CA00000000000000000000000000000001".into(),
            status: CallStatus::Queued,
            to: "+14155551234".into(),
            from: "+14155559876".into(),
            direction: "outbound-api".into(),
        };
        let printed = format!("{call:?}");
        assert!(!printed.contains("4155551234"), "{printed}");
        assert!(printed.contains("+***1234"), "{printed}");

        let number = IncomingNumber {
            sid: "PN00000000000000000000000000000001".into(),
            phone_number: "+14155551234".into(),
            friendly_name: "(415) 555-1234".into(),
            voice_url: None,
        };
        let printed = format!("{number:?}");
        assert!(!printed.contains("555-1234"), "{printed}");
        assert!(!printed.contains("4155551234"), "{printed}");
    }

    #[test]
    fn create_call_form_repeats_status_callback_event() {
        let call = CreateCall {
            to: "+14155551234".into(),
            from: "+14155559876".into(),
            url: "https://sb.example/twilio/voice".into(),
            status_callback: "https://sb.example/twilio/status".into(),
            status_callback_events: vec![CallProgressEvent::Answered, CallProgressEvent::Completed],
            machine_detection: None,
        };
        let events: Vec<_> = call
            .form()
            .into_iter()
            .filter(|(k, _)| *k == "StatusCallbackEvent")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(events, ["answered", "completed"]);
        assert!(!call.form().iter().any(|(k, _)| *k == "MachineDetection"));
    }
}
