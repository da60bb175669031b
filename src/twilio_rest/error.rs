//! What can go wrong talking to Twilio, split the way a caller decides: fix the configuration,
//! give up on this call, or try again later.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::mask::mask_numbers_in;

/// Twilio's error body (`{code, message, more_info, status}`), kept as Twilio sent it.
///
/// `message` may quote phone numbers; the `Display` of [`TwilioRestError`] masks them, this
/// field does not.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TwilioApiError {
    /// Twilio's error code: 20003 (authenticate), 20404 (not found), 21220 (call not in progress)…
    #[serde(default)]
    pub code: Option<u32>,
    /// Twilio's explanation.
    pub message: String,
    /// A link to the error's documentation page.
    #[serde(default)]
    pub more_info: Option<String>,
    /// The HTTP status Twilio reported in the body.
    #[serde(default)]
    pub status: Option<u16>,
}

/// Twilio's code for "the call is not in progress" (redirecting or hanging up an ended call).
pub const CALL_NOT_IN_PROGRESS: u32 = 21220;

/// A Twilio REST request that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum TwilioRestError {
    /// HTTP 401 or 403: the account SID or auth token is wrong, or lacks permission.
    #[error(
        "Twilio refused the account SID / auth token (HTTP {status}); check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN{}",
        detail(.api)
    )]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// Twilio's error body, when it sent one.
        api: Option<TwilioApiError>,
    },
    /// HTTP 404: no such call or number in this account (a call may simply have ended long ago).
    #[error("Twilio has no such resource (HTTP 404){}", detail(.api))]
    NotFound {
        /// Twilio's error body, when it sent one.
        api: Option<TwilioApiError>,
    },
    /// HTTP 429: slow down.
    #[error("Twilio is rate-limiting requests (HTTP 429){}", retry_hint(.retry_after))]
    RateLimited {
        /// From `Retry-After`, when present.
        retry_after: Option<Duration>,
        /// Twilio's error body, when it sent one.
        api: Option<TwilioApiError>,
    },
    /// Another 4xx: Twilio understood the request and refused it (bad number, call not in
    /// progress, invalid parameter). Retrying the same request will not help.
    #[error("Twilio rejected the request (HTTP {status}){}", detail(.api))]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Twilio's error body, when it sent one.
        api: Option<TwilioApiError>,
    },
    /// HTTP 5xx: Twilio is having trouble; the same request may succeed later.
    #[error("Twilio is unavailable (HTTP {status}); try again shortly{}", detail(.api))]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// Twilio's error body, when it sent one.
        api: Option<TwilioApiError>,
    },
    /// No complete answer within the configured timeout.
    #[error("Twilio did not answer within {} ms", .after.as_millis())]
    Timeout {
        /// The configured timeout.
        after: Duration,
    },
    /// The request never got an HTTP answer: DNS, connection refused, TLS, connection reset.
    #[error("could not reach Twilio: {source}")]
    Network {
        /// reqwest's description (it carries the URL, which holds SIDs but no secrets).
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer whose body was not the JSON we expected, or a pagination loop.
    #[error("Twilio sent a response we could not understand: {reason}")]
    UnexpectedResponse {
        /// What was wrong with it.
        reason: String,
    },
}

impl TwilioRestError {
    /// Whether sending the same request again later may succeed: 429, 5xx, timeouts and network
    /// failures.
    ///
    /// A retried `create_call` after a timeout or network failure may place a second call: Twilio
    /// may have acted on the first request before the answer was lost.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Unavailable { .. }
                | Self::Timeout { .. }
                | Self::Network { .. }
        )
    }

    /// Whether the call this request was about no longer exists or has already ended (404, or
    /// Twilio error 21220), so a hang-up has nothing left to do.
    pub fn is_call_gone(&self) -> bool {
        match self {
            Self::NotFound { .. } => true,
            Self::Rejected { api: Some(api), .. } => api.code == Some(CALL_NOT_IN_PROGRESS),
            _ => false,
        }
    }

    /// How long Twilio asked us to wait, for [`TwilioRestError::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Twilio's error body, when the failure came with one.
    pub fn api_error(&self) -> Option<&TwilioApiError> {
        match self {
            Self::Unauthorized { api, .. }
            | Self::NotFound { api }
            | Self::RateLimited { api, .. }
            | Self::Rejected { api, .. }
            | Self::Unavailable { api, .. } => api.as_ref(),
            Self::Timeout { .. } | Self::Network { .. } | Self::UnexpectedResponse { .. } => None,
        }
    }

    /// Classifies a non-2xx answer.
    pub(crate) fn from_status(
        status: u16,
        api: Option<TwilioApiError>,
        retry_after: Option<Duration>,
    ) -> Self {
        match status {
            401 | 403 => Self::Unauthorized { status, api },
            404 => Self::NotFound { api },
            429 => Self::RateLimited { retry_after, api },
            500..=599 => Self::Unavailable { status, api },
            _ => Self::Rejected { status, api },
        }
    }
}

impl fmt::Display for TwilioApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_numbers_in(&self.message))?;
        match (self.code, &self.more_info) {
            (Some(code), Some(link)) => write!(f, " (Twilio error {code}, {link})"),
            (Some(code), None) => write!(f, " (Twilio error {code})"),
            (None, Some(link)) => write!(f, " ({link})"),
            (None, None) => Ok(()),
        }
    }
}

fn detail(api: &Option<TwilioApiError>) -> String {
    api.as_ref()
        .map(|api| format!(": {api}"))
        .unwrap_or_default()
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; retry after {} s", d.as_secs()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u32, message: &str) -> Option<TwilioApiError> {
        Some(TwilioApiError {
            code: Some(code),
            message: message.into(),
            more_info: Some(format!("https://www.twilio.com/docs/errors/{code}")),
            status: None,
        })
    }

    #[test]
    fn statuses_map_to_kinds_that_answer_retry() {
        let kind = |status| TwilioRestError::from_status(status, None, None);
        assert!(matches!(kind(401), TwilioRestError::Unauthorized { .. }));
        assert!(matches!(kind(403), TwilioRestError::Unauthorized { .. }));
        assert!(matches!(kind(404), TwilioRestError::NotFound { .. }));
        assert!(matches!(kind(400), TwilioRestError::Rejected { .. }));
        assert!(kind(429).is_retryable());
        assert!(kind(500).is_retryable());
        assert!(kind(503).is_retryable());
        assert!(!kind(400).is_retryable());
        assert!(!kind(401).is_retryable());
        assert!(!kind(404).is_retryable());
    }

    #[test]
    fn a_call_not_in_progress_counts_as_gone() {
        let ended = TwilioRestError::from_status(400, api(21220, "Call is not in-progress"), None);
        assert!(ended.is_call_gone());
        let other = TwilioRestError::from_status(400, api(21211, "Invalid To"), None);
        assert!(!other.is_call_gone());
        assert!(TwilioRestError::from_status(404, None, None).is_call_gone());
    }

    #[test]
    fn messages_keep_twilios_detail_but_mask_numbers() {
        let err = TwilioRestError::from_status(
            400,
            api(
                21211,
                "The 'To' number 5551234567 is not a valid phone number.",
            ),
            None,
        );
        assert_eq!(
            err.to_string(),
            "Twilio rejected the request (HTTP 400): The 'To' number ***4567 is not a valid \
             phone number. (Twilio error 21211, https://www.twilio.com/docs/errors/21211)"
        );
        assert_eq!(
            err.api_error().map(|a| a.message.as_str()),
            Some("The 'To' number 5551234567 is not a valid phone number.")
        );
    }

    #[test]
    fn rate_limits_say_when_to_come_back() {
        let err = TwilioRestError::from_status(429, None, Some(Duration::from_secs(3)));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        assert!(err.to_string().ends_with("retry after 3 s"), "{err}");
    }
}
