//! Rebuilding the public URL Twilio requested, which is what it signed.
//!
//! Behind a TLS-terminating proxy the server sees `http://10.0.0.5:3000/twilio/voice` while
//! Twilio signed `https://voice.example.com/twilio/voice`, and for the Media Streams upgrade it
//! signed `wss://…` (twilio-labs/twilio-aspnet#162 is this exact mismatch). A configured public
//! base URL is authoritative; otherwise `X-Forwarded-Proto`/`X-Forwarded-Host` are used, then
//! `Host`. Forwarded headers are client-controlled, so prefer configuring `PUBLIC_BASE_URL`.

/// The request headers that say how the client reached us; `None` when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForwardedHeaders<'a> {
    /// `X-Forwarded-Proto`, e.g. `https` (first entry used if a proxy chain appended more).
    pub forwarded_proto: Option<&'a str>,
    /// `X-Forwarded-Host`, e.g. `voice.example.com` (first entry used).
    pub forwarded_host: Option<&'a str>,
    /// `Host`.
    pub host: Option<&'a str>,
}

/// Which request the URL is for: it decides the scheme Twilio signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlKind {
    /// A webhook (`http`/`https`).
    Http,
    /// The Media Streams upgrade (`ws`/`wss`; `https` maps to `wss`).
    WebSocket,
}

/// Why no public URL could be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    /// No configured base URL and neither `X-Forwarded-Host` nor `Host`.
    #[error("no public base URL configured and the request has no Host header")]
    MissingHost,
    /// A host value that cannot be a URL authority (contains `/`, `@`, whitespace, …).
    #[error("host {host:?} is not a valid URL authority")]
    InvalidHost {
        /// The rejected value.
        host: String,
    },
    /// A scheme other than http, https, ws or wss.
    #[error("scheme {scheme:?} is not http, https, ws or wss")]
    UnsupportedScheme {
        /// The rejected scheme.
        scheme: String,
    },
    /// The configured base URL is not `scheme://host[/prefix]`.
    #[error("public base URL {base:?} is not of the form https://host[/prefix]")]
    InvalidBaseUrl {
        /// The rejected base URL.
        base: String,
    },
}

/// The public URL of a request for `path_and_query` (as received, e.g. `/twilio/voice?x=1`).
///
/// `base_url` (e.g. `https://voice.example.com` or `https://example.com/switchboard`) wins when
/// set; otherwise the scheme comes from `X-Forwarded-Proto` (default `http`, since this server
/// does not terminate TLS itself) and the host from `X-Forwarded-Host` or `Host`. For
/// [`UrlKind::WebSocket`] the scheme becomes `ws`/`wss`.
pub fn public_url(
    base_url: Option<&str>,
    headers: &ForwardedHeaders<'_>,
    path_and_query: &str,
    kind: UrlKind,
) -> Result<String, PublicUrlError> {
    let (scheme, authority_and_prefix) = match base_url.map(str::trim).filter(|b| !b.is_empty()) {
        Some(base) => {
            let invalid = || PublicUrlError::InvalidBaseUrl {
                base: base.to_owned(),
            };
            let (scheme, rest) = base.split_once("://").ok_or_else(invalid)?;
            let rest = rest.trim_end_matches('/');
            let host = rest.split('/').next().unwrap_or_default();
            if host.is_empty() || rest.contains(['?', '#']) || !is_authority(host) {
                return Err(invalid());
            }
            (scheme.to_owned(), rest.to_owned())
        }
        None => {
            let scheme = headers
                .forwarded_proto
                .and_then(first_entry)
                .unwrap_or("http");
            let host = headers
                .forwarded_host
                .and_then(first_entry)
                .or_else(|| headers.host.map(str::trim).filter(|h| !h.is_empty()))
                .ok_or(PublicUrlError::MissingHost)?;
            if !is_authority(host) {
                return Err(PublicUrlError::InvalidHost {
                    host: host.to_owned(),
                });
            }
            (scheme.to_owned(), host.to_owned())
        }
    };
    let scheme = scheme_for(&scheme, kind)?;
    let slash = if path_and_query.starts_with('/') {
        ""
    } else {
        "/"
    };
    Ok(format!(
        "{scheme}://{authority_and_prefix}{slash}{path_and_query}"
    ))
}

/// The first comma-separated entry: proxies append theirs after the client-facing one.
fn first_entry(value: &str) -> Option<&str> {
    value
        .split(',')
        .next()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn scheme_for(scheme: &str, kind: UrlKind) -> Result<&'static str, PublicUrlError> {
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => true,
        "http" | "ws" => false,
        _ => {
            return Err(PublicUrlError::UnsupportedScheme {
                scheme: scheme.to_owned(),
            });
        }
    };
    Ok(match (kind, secure) {
        (UrlKind::Http, true) => "https",
        (UrlKind::Http, false) => "http",
        (UrlKind::WebSocket, true) => "wss",
        (UrlKind::WebSocket, false) => "ws",
    })
}

/// `host[:port]` with nothing that would change the URL's meaning if spliced in.
fn is_authority(host: &str) -> bool {
    !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_graphic() || b >= 0x80)
        && !host.contains(['/', '\\', '?', '#', '@'])
}
