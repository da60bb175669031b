//! Instants in the viewer's time zone: UTC on the server (it does not know the zone), replaced
//! by the browser's local time once the page is hydrated. Both renders start from the same UTC
//! text, so hydration matches.

use leptos::prelude::*;

/// `2026-11-21T07:38:44.123Z` → `2026-11-21 07:38 UTC`.
fn utc_label(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => iso.to_owned(),
    }
}

/// The instant in the browser's zone, `2026-11-21 08:38`.
#[cfg(feature = "hydrate")]
fn local_label(iso: &str) -> Option<String> {
    use web_sys::js_sys::Date;
    use web_sys::wasm_bindgen::JsValue;
    let date = Date::new(&JsValue::from_str(iso));
    if date.get_time().is_nan() {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    ))
}

/// The viewer's `Date.getTimezoneOffset()` (minutes, positive west of UTC); `None` on the server.
pub fn viewer_offset_minutes() -> Option<i32> {
    #[cfg(feature = "hydrate")]
    {
        Some(web_sys::js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// An RFC 3339 instant shown as date and minutes, in the viewer's zone after hydration.
#[component]
pub fn LocalTime(
    /// The instant, RFC 3339.
    #[prop(into)]
    iso: String,
) -> impl IntoView {
    let utc = utc_label(&iso);
    let text = RwSignal::new(utc.clone());
    #[cfg(feature = "hydrate")]
    {
        let iso = iso.clone();
        Effect::new(move |_| {
            if let Some(local) = local_label(&iso) {
                text.set(local);
            }
        });
    }
    view! { <time datetime=iso title=utc>{text}</time> }
}

#[cfg(test)]
mod tests {
    use super::utc_label;

    #[test]
    fn the_server_shows_utc_to_the_minute() {
        assert_eq!(
            utc_label("2026-11-21T07:38:44.123456Z"),
            "2026-11-21 07:38 UTC"
        );
        assert_eq!(utc_label("soon"), "soon");
    }
}
