//! The JSON shapes of Twilio's resources, with the fields a real answer carries (most of them
//! constant here), so clients are tested against realistic bodies rather than minimal ones.

use serde_json::{Value, json};

use super::account::{API_VERSION, is_final};
use super::{FakeCall, FakeNumber};

/// A call resource (`/Calls/{Sid}.json`). `number_sid` is the account number the call uses.
pub(super) fn call_json(account: &str, call: &FakeCall, number_sid: Option<&str>) -> Value {
    let uri = format!("/{API_VERSION}/Accounts/{account}/Calls/{}", call.sid);
    let ended = is_final(&call.status);
    json!({
        "sid": call.sid,
        "account_sid": account,
        "parent_call_sid": null,
        "to": call.to,
        "to_formatted": formatted(&call.to),
        "from": call.from,
        "from_formatted": formatted(&call.from),
        "phone_number_sid": number_sid,
        "status": call.status,
        "direction": call.direction,
        "answered_by": null,
        "forwarded_from": null,
        "caller_name": null,
        "group_sid": null,
        "trunk_sid": null,
        "queue_time": "0",
        "date_created": call.date_created,
        "date_updated": now(),
        "start_time": (call.status != "queued").then(|| call.date_created.clone()),
        "end_time": ended.then(now),
        "duration": ended.then_some("0"),
        "price": null,
        "price_unit": "USD",
        "api_version": API_VERSION,
        "annotation": null,
        "uri": format!("{uri}.json"),
        "subresource_uris": {
            "notifications": format!("{uri}/Notifications.json"),
            "recordings": format!("{uri}/Recordings.json"),
            "events": format!("{uri}/Events.json"),
            "payments": format!("{uri}/Payments.json"),
            "siprec": format!("{uri}/Siprec.json"),
            "streams": format!("{uri}/Streams.json"),
            "user_defined_message_subscriptions": format!("{uri}/UserDefinedMessageSubscriptions.json"),
            "user_defined_messages": format!("{uri}/UserDefinedMessages.json"),
        },
    })
}

/// An incoming-phone-number resource (`/IncomingPhoneNumbers/{Sid}.json`).
pub(super) fn number_json(account: &str, number: &FakeNumber) -> Value {
    let uri = format!(
        "/{API_VERSION}/Accounts/{account}/IncomingPhoneNumbers/{}",
        number.sid
    );
    json!({
        "sid": number.sid,
        "account_sid": account,
        "friendly_name": number.friendly_name,
        "phone_number": number.phone_number,
        "voice_url": number.voice_url,
        "voice_method": number.voice_method,
        "voice_fallback_url": null,
        "voice_fallback_method": "POST",
        "voice_caller_id_lookup": false,
        "voice_application_sid": null,
        "voice_receive_mode": "voice",
        "status_callback": number.status_callback,
        "status_callback_method": number.status_callback_method,
        "sms_url": null,
        "sms_method": "POST",
        "sms_fallback_url": null,
        "sms_fallback_method": "POST",
        "sms_application_sid": null,
        "capabilities": {"voice": true, "sms": true, "mms": true, "fax": false},
        "address_requirements": "none",
        "address_sid": null,
        "beta": false,
        "bundle_sid": null,
        "emergency_status": "Inactive",
        "emergency_address_sid": null,
        "identity_sid": null,
        "origin": "twilio",
        "status": "in-use",
        "trunk_sid": null,
        "api_version": API_VERSION,
        "date_created": "Mon, 01 Jan 2024 00:00:00 +0000",
        "date_updated": now(),
        "uri": format!("{uri}.json"),
        "subresource_uris": {
            "assigned_add_ons": format!("{uri}/AssignedAddOns.json"),
        },
    })
}

/// `+14155551234` → `(415) 555-1234`, as Twilio formats North American numbers.
pub(super) fn formatted(number: &str) -> String {
    match number.strip_prefix("+1") {
        Some(n) if n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &n[..3], &n[3..6], &n[6..])
        }
        _ => number.to_owned(),
    }
}

/// `CA` + 32 lowercase hex digits: 34 characters, like Twilio's SIDs.
pub(super) fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// RFC 2822, the date format of the 2010-04-01 API.
pub(super) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default()
}
