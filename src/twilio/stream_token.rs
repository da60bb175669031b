//! Short-lived tokens that authorize one Media Streams WebSocket for one call.
//!
//! Stream URLs cannot carry query strings, so the webhook puts a token in the path:
//! `base64url(call_sid|expires_unix) . base64url(HMAC-SHA256(secret, call_sid|expires_unix))`.
//! The server's secret is its own (the server derives it from `TWILIO_AUTH_TOKEN` via
//! [`derive_secret`] when no dedicated secret is configured), and tokens live [`TTL_SECS`]: Twilio
//! opens the socket right after reading the TwiML. Pure: the caller passes the current time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a token is valid after it is issued, in seconds.
pub const TTL_SECS: u64 = 60;

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not of the form `payload.mac`, or not base64url, or not `call_sid|expiry`.
    #[error("stream token is malformed")]
    Malformed,
    /// The MAC does not match: tampered, or signed with another secret.
    #[error("stream token signature does not match")]
    BadSignature,
    /// Past its expiry.
    #[error("stream token expired")]
    Expired,
}

/// Derives the token secret from the Twilio Auth Token, so that no extra setting is required.
///
/// Domain-separated (`HMAC-SHA256(auth_token, "switchboard stream token v1")`) so a stream token
/// is never a Twilio signature and the Auth Token itself is not the key.
pub fn derive_secret(auth_token: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(b"switchboard stream token v1");
    mac.finalize().into_bytes().to_vec()
}

/// A token for `call_sid` valid until `now_unix + TTL_SECS`. URL-path safe (`[A-Za-z0-9_.-]`).
pub fn issue(secret: &[u8], call_sid: &str, now_unix: u64) -> String {
    let payload = format!("{call_sid}|{}", now_unix + TTL_SECS);
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(mac(secret, payload.as_bytes()))
    )
}

/// Checks `token` at `now_unix`; returns the CallSid it authorizes.
pub fn verify(secret: &[u8], token: &str, now_unix: u64) -> Result<String, TokenError> {
    let (payload_b64, mac_b64) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| TokenError::Malformed)?;
    let tag = URL_SAFE_NO_PAD
        .decode(mac_b64)
        .map_err(|_| TokenError::Malformed)?;
    let mut check = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    check.update(&payload);
    // Constant-time comparison.
    check
        .verify_slice(&tag)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
    let (call_sid, expires) = payload.rsplit_once('|').ok_or(TokenError::Malformed)?;
    let expires: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
    if call_sid.is_empty() {
        return Err(TokenError::Malformed);
    }
    if now_unix > expires {
        return Err(TokenError::Expired);
    }
    Ok(call_sid.to_owned())
}

fn mac(secret: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "CA0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_795_000_000;

    #[test]
    fn a_fresh_token_verifies_to_its_call_sid() {
        let secret = derive_secret("auth-token");
        let token = issue(&secret, SID, NOW);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        );
        assert_eq!(verify(&secret, &token, NOW).as_deref(), Ok(SID));
        assert_eq!(verify(&secret, &token, NOW + TTL_SECS).as_deref(), Ok(SID));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let secret = derive_secret("auth-token");
        let token = issue(&secret, SID, NOW);
        assert_eq!(
            verify(&secret, &token, NOW + TTL_SECS + 1),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let secret = derive_secret("auth-token");
        let token = issue(&secret, SID, NOW);
        let (_, tag) = token.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(format!("{SID}|{}", NOW + 100_000));
        assert_eq!(
            verify(&secret, &format!("{forged_payload}.{tag}"), NOW),
            Err(TokenError::BadSignature)
        );
        let other_sid = URL_SAFE_NO_PAD.encode(format!("CAother|{}", NOW + TTL_SECS));
        assert_eq!(
            verify(&secret, &format!("{other_sid}.{tag}"), NOW),
            Err(TokenError::BadSignature)
        );
        assert_eq!(verify(&secret, "garbage", NOW), Err(TokenError::Malformed));
        assert_eq!(verify(&secret, "!!.??", NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn a_token_from_another_secret_is_refused() {
        let token = issue(&derive_secret("auth-token"), SID, NOW);
        assert_eq!(
            verify(&derive_secret("other-token"), &token, NOW),
            Err(TokenError::BadSignature)
        );
    }
}
