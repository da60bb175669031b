//! `X-Twilio-Signature`: proof that a webhook or Media Streams handshake came from Twilio.
//!
//! Twilio signs `base64(HMAC-SHA1(auth token, url + name₁ + value₁ + name₂ + value₂ …))`,
//! where `url` is the full URL exactly as Twilio requested it (scheme, host, path, query) and
//! the pairs are the POST form parameters sorted by name. The Media Streams WebSocket upgrade is signed the
//! same way with its `wss://` URL and no parameters. The URL must be the *public* one Twilio saw,
//! not what a reverse proxy forwarded: [`public_url`] rebuilds it.
//!
//! [`RequestValidator`] follows Twilio's official helper libraries (checked against vectors from
//! `twilio` on PyPI, see `testdata/`): repeated names sort by value and identical pairs count
//! once, and a URL is accepted with or without its scheme's default port, because Twilio's
//! back end is not consistent about including it. Comparison is constant-time; a missing header
//! is rejected. No I/O here: callers pass strings from the request.

mod public_url;

#[cfg(test)]
mod tests;

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

pub use public_url::{ForwardedHeaders, PublicUrlError, UrlKind, public_url};

/// The request header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Signs and verifies Twilio requests with one account's Auth Token; `Debug` hides the token.
#[derive(Clone)]
pub struct RequestValidator {
    // Keyed once; each request clones the keyed state instead of re-deriving the HMAC key.
    keyed: Hmac<Sha1>,
}

/// Why a request failed verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Twilio-Signature` header (or an empty one): not from Twilio, or stripped by a proxy.
    #[error("request has no X-Twilio-Signature header")]
    Missing,
    /// The header does not match; `url` is the URL it was checked against, which is usually the
    /// culprit (http vs https, ws vs wss, a host rewritten by a proxy).
    #[error("X-Twilio-Signature does not match a request to {url}")]
    Mismatch {
        /// The URL the signature was checked against.
        url: String,
    },
}

impl fmt::Debug for RequestValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestValidator { auth_token: <redacted> }")
    }
}

impl RequestValidator {
    /// A validator for requests signed with `auth_token` (the account's primary Auth Token).
    pub fn new(auth_token: &str) -> Self {
        // HMAC accepts keys of any length (long ones are hashed), so this cannot fail.
        let keyed =
            Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
        Self { keyed }
    }

    /// The signature Twilio would send for a request to `url` with form `params`.
    pub fn compute<K: AsRef<str>, V: AsRef<str>>(&self, url: &str, params: &[(K, V)]) -> String {
        self.compute_sorted(url, &sorted(params))
    }

    /// Checks `signature` (the header value, `None` when absent) against `url` and `params`.
    ///
    /// For the WebSocket handshake pass the `wss://` URL and no params (`&[] as &[(&str, &str)]`,
    /// or [`RequestValidator::verify_websocket`]).
    pub fn verify<K: AsRef<str>, V: AsRef<str>>(
        &self,
        url: &str,
        params: &[(K, V)],
        signature: Option<&str>,
    ) -> Result<(), SignatureError> {
        let signature = signature
            .filter(|s| !s.is_empty())
            .ok_or(SignatureError::Missing)?;
        let params = sorted(params);
        let matches = |candidate: &str| {
            bool::from(
                self.compute_sorted(candidate, &params)
                    .as_bytes()
                    .ct_eq(signature.as_bytes()),
            )
        };
        // Both forms are always checked (`|`, not `||`) so timing does not reveal which matched.
        let ok = matches(url) | other_port_form(url).as_deref().is_some_and(matches);
        if ok {
            Ok(())
        } else {
            Err(SignatureError::Mismatch {
                url: url.to_owned(),
            })
        }
    }

    /// Checks the signature on a Media Streams WebSocket upgrade to `wss_url` (no params).
    pub fn verify_websocket(
        &self,
        wss_url: &str,
        signature: Option<&str>,
    ) -> Result<(), SignatureError> {
        self.verify::<&str, &str>(wss_url, &[], signature)
    }

    fn compute_sorted(&self, url: &str, params: &[(&str, &str)]) -> String {
        let mut mac = self.keyed.clone();
        mac.update(url.as_bytes());
        for (name, value) in params {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// Params in signing order: by name, then by value (repeated names), identical pairs once.
///
/// Byte order equals code-point order for UTF-8, which is what Twilio's libraries sort by.
fn sorted<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// `url` with its scheme's default port added (if it had no port) or its port removed (if it had
/// one), as Twilio's libraries try both. `None` for other schemes or an unparseable URL.
fn other_port_form(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => "443",
        "http" | "ws" => "80",
        _ => return None,
    };
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_len);
    // The host starts after any `user:pass@`; an IPv6 host is bracketed and contains colons.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_and_port = &authority[host_start..];
    let port_sep = host_and_port
        .rfind(':')
        .filter(|&i| !host_and_port[i..].contains(']'));
    let with_or_without = match port_sep {
        Some(i) if host_and_port[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}{}", &authority[..host_start], &host_and_port[..i])
        }
        Some(_) => return None,
        None => format!("{authority}:{default_port}"),
    };
    Some(format!("{scheme}://{with_or_without}{tail}"))
}
