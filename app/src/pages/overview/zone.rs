//! The viewer's time zone, which decides where days and weeks begin on the overview.
//!
//! The browser knows it (`Intl`); the server learns it from a cookie the browser sets, so a
//! page rendered on the server already counts in the viewer's zone. Until the first visit
//! sets the cookie, the server counts in UTC and the browser reloads the figures once hydrated.

/// The cookie carrying the browser's IANA time zone.
const COOKIE: &str = "sb_tz";

/// The zone to render with: the cookie's, else UTC. The same on the server (request header)
/// and in the browser (`document.cookie`), so hydration starts from the server's figures.
pub(super) fn initial() -> String {
    cookie_header()
        .and_then(|header| from_cookie_header(&header))
        .unwrap_or_else(|| "UTC".to_owned())
}

/// The value of our cookie in a `Cookie` header.
fn from_cookie_header(header: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(feature = "ssr")]
fn cookie_header() -> Option<String> {
    use leptos::prelude::use_context;
    let parts = use_context::<axum::http::request::Parts>()?;
    let header = parts.headers.get(axum::http::header::COOKIE)?;
    header.to_str().ok().map(str::to_owned)
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn cookie_header() -> Option<String> {
    use wasm_bindgen::JsCast;
    let document = leptos::prelude::document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?;
    document.cookie().ok()
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn cookie_header() -> Option<String> {
    None
}

/// The browser's IANA time zone (`Europe/Paris`), remembered in the cookie for the server.
#[cfg(feature = "hydrate")]
pub(super) fn from_browser() -> Option<String> {
    use wasm_bindgen::JsCast;
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    let zone = js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()?
        .as_string()?;
    if let Ok(document) = leptos::prelude::document().dyn_into::<web_sys::HtmlDocument>() {
        let cookie = format!("{COOKIE}={zone}; path=/; max-age=31536000; samesite=lax");
        let _ = document.set_cookie(&cookie);
    }
    Some(zone)
}

#[cfg(test)]
mod tests {
    use super::from_cookie_header;

    #[test]
    fn the_zone_is_read_from_among_other_cookies() {
        assert_eq!(
            from_cookie_header("id=abc; sb_tz=Europe/Paris; x=1").as_deref(),
            Some("Europe/Paris")
        );
        assert_eq!(from_cookie_header("sb_tz=").as_deref(), None);
        assert_eq!(from_cookie_header("other=UTC").as_deref(), None);
    }
}
