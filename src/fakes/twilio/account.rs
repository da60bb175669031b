//! The fake's protocol logic: one Twilio account's calls and numbers, and a sync function from a
//! decoded request to Twilio's JSON answer. No sockets here; `super` moves the bytes.

use std::collections::VecDeque;

use serde_json::{Value, json};

use super::resources::{call_json, formatted, new_sid, now, number_json};
use super::{CreatedCall, FakeCall, FakeNumber, RecordedRequest, SeedNumber};

pub(super) const API_VERSION: &str = "2010-04-01";
const DEFAULT_PAGE_SIZE: usize = 50;
const STATUS_CALLBACK_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

/// A request as the HTTP layer decoded it.
pub(super) struct Incoming<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: Vec<(String, String)>,
    pub(super) form: Vec<(String, String)>,
    pub(super) content_type: Option<String>,
    /// Basic-auth user and password, when the header parsed.
    pub(super) auth: Option<(String, String)>,
}

/// What to send back.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Value,
    /// A call created by this request, for the test's channel.
    pub(super) created: Option<CreatedCall>,
}

impl Answer {
    fn ok(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            created: None,
        }
    }

    /// Twilio's error body: `{code, message, more_info, status}`.
    fn error(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self::ok(
            status,
            json!({
                "code": code,
                "message": message.into(),
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status,
            }),
        )
    }

    fn not_found(path: &str) -> Self {
        Self::error(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }
}

/// The account: its credentials, numbers, calls, and everything asked of it.
pub(super) struct Account {
    pub(super) account_sid: String,
    pub(super) auth_token: String,
    max_page_size: usize,
    pub(super) numbers: Vec<FakeNumber>,
    pub(super) calls: Vec<FakeCall>,
    pub(super) requests: Vec<RecordedRequest>,
    /// Statuses to answer the next requests with, before anything else is looked at.
    pub(super) failures: VecDeque<u16>,
}

impl Account {
    pub(super) fn new(
        account_sid: String,
        auth_token: String,
        max_page_size: usize,
        seeds: Vec<SeedNumber>,
    ) -> Self {
        let numbers = seeds
            .into_iter()
            .map(|seed| FakeNumber {
                sid: new_sid("PN"),
                friendly_name: seed
                    .friendly_name
                    .unwrap_or_else(|| formatted(&seed.phone_number)),
                phone_number: seed.phone_number,
                voice_url: seed.voice_url,
                voice_method: "POST".into(),
                status_callback: None,
                status_callback_method: "POST".into(),
            })
            .collect();
        Self {
            account_sid,
            auth_token,
            max_page_size: max_page_size.max(1),
            numbers,
            calls: Vec::new(),
            requests: Vec::new(),
            failures: VecDeque::new(),
        }
    }

    /// Records the request, then answers it the way Twilio would.
    pub(super) fn handle(&mut self, request: Incoming<'_>) -> Answer {
        let answer = self.answer(&request);
        self.requests.push(RecordedRequest {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            query: request.query,
            form: request.form,
            content_type: request.content_type,
            auth_user: request.auth.map(|(user, _)| user),
            status: answer.status,
        });
        answer
    }

    /// Registers a call Twilio would have created for an incoming phone call.
    pub(super) fn start_inbound_call(&mut self, from: &str, to: &str) -> String {
        let sid = new_sid("CA");
        self.calls.push(FakeCall {
            sid: sid.clone(),
            from: from.to_owned(),
            to: to.to_owned(),
            status: "in-progress".into(),
            direction: "inbound".into(),
            url: None,
            status_callback: None,
            twiml: Vec::new(),
            date_created: now(),
        });
        sid
    }

    fn answer(&mut self, request: &Incoming<'_>) -> Answer {
        // An outage hits before authentication, as a failing load balancer would.
        if let Some(status) = self.failures.pop_front() {
            let message = match status {
                503 => "Service Unavailable",
                429 => "Too Many Requests",
                _ => "Internal Server Error",
            };
            return Answer::error(status, 20000 + u32::from(status), message);
        }
        let authorized = request.auth.as_ref().is_some_and(|(user, password)| {
            *user == self.account_sid && *password == self.auth_token
        });
        if !authorized {
            return Answer::error(401, 20003, "Authenticate");
        }
        let Some(rest) = request
            .path
            .strip_prefix(&format!("/{API_VERSION}/Accounts/{}/", self.account_sid))
        else {
            return Answer::not_found(request.path);
        };
        let segments: Vec<&str> = rest.split('/').collect();
        match (request.method, segments.as_slice()) {
            ("POST", ["Calls.json"]) => self.create_call(&request.form),
            ("GET", ["Calls", sid]) => match self.call_index(sid) {
                Some(i) => Answer::ok(200, self.call_json(&self.calls[i])),
                None => Answer::not_found(request.path),
            },
            ("POST", ["Calls", sid]) => match self.call_index(sid) {
                Some(i) => self.update_call(i, &request.form),
                None => Answer::not_found(request.path),
            },
            ("GET", ["IncomingPhoneNumbers.json"]) => self.list_numbers(&request.query),
            ("GET", ["IncomingPhoneNumbers", sid]) => match self.number_index(sid) {
                Some(i) => Answer::ok(200, number_json(&self.account_sid, &self.numbers[i])),
                None => Answer::not_found(request.path),
            },
            ("POST", ["IncomingPhoneNumbers", sid]) => match self.number_index(sid) {
                Some(i) => self.update_number(i, &request.form),
                None => Answer::not_found(request.path),
            },
            (
                _,
                ["Calls.json" | "IncomingPhoneNumbers.json"]
                | ["Calls" | "IncomingPhoneNumbers", _],
            ) => Answer::error(405, 20004, "Method not allowed"),
            _ => Answer::not_found(request.path),
        }
    }

    fn call_json(&self, call: &FakeCall) -> Value {
        let number = self
            .numbers
            .iter()
            .find(|n| n.phone_number == call.from || n.phone_number == call.to);
        call_json(&self.account_sid, call, number.map(|n| n.sid.as_str()))
    }

    fn call_index(&self, segment: &str) -> Option<usize> {
        let sid = segment.strip_suffix(".json")?;
        self.calls.iter().position(|c| c.sid == sid)
    }

    fn number_index(&self, segment: &str) -> Option<usize> {
        let sid = segment.strip_suffix(".json")?;
        self.numbers.iter().position(|n| n.sid == sid)
    }

    fn create_call(&mut self, form: &[(String, String)]) -> Answer {
        let Some(to) = param(form, "To").filter(|to| !to.is_empty()) else {
            return Answer::error(400, 21201, "No 'To' number is specified");
        };
        let Some(from) = param(form, "From").filter(|from| !from.is_empty()) else {
            return Answer::error(400, 21213, "No 'From' number is specified");
        };
        if !is_callable(to) {
            return Answer::error(
                400,
                21211,
                format!("The 'To' number {to} is not a valid phone number."),
            );
        }
        if !self.numbers.iter().any(|n| n.phone_number == from) {
            return Answer::error(
                400,
                21210,
                format!(
                    "The source phone number provided, {from}, is not yet verified for your account. \
                     You may only make calls from phone numbers that you've verified or purchased from Twilio."
                ),
            );
        }
        let url = param(form, "Url");
        let twiml = param(form, "Twiml");
        if url.is_none() && twiml.is_none() && param(form, "ApplicationSid").is_none() {
            return Answer::error(400, 21205, "Url parameter is required");
        }
        if let Some(url) = url
            && !is_absolute_url(url)
        {
            return Answer::error(400, 21205, format!("Url is not a valid URL: {url}"));
        }
        let status_callback = param(form, "StatusCallback");
        if let Some(callback) = status_callback
            && !is_absolute_url(callback)
        {
            return Answer::error(
                400,
                21200,
                format!("StatusCallback is not a valid URL: {callback}"),
            );
        }
        for name in ["Method", "StatusCallbackMethod"] {
            if let Some(method) = param(form, name)
                && !matches!(method, "GET" | "POST")
            {
                return Answer::error(400, 21200, format!("{name} must be GET or POST"));
            }
        }
        // Stricter than Twilio, which accepts bad events and only logs 21626 (after which no
        // callbacks arrive): a fake should make that mistake loud.
        let events: Vec<String> = params(form, "StatusCallbackEvent")
            .flat_map(|v| v.split(' '))
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = events
            .iter()
            .find(|e| !STATUS_CALLBACK_EVENTS.contains(&e.as_str()))
        {
            return Answer::error(400, 21626, format!("Invalid 'StatusCallbackEvent': {bad}"));
        }
        let machine_detection = param(form, "MachineDetection");
        if let Some(detection) = machine_detection
            && !matches!(detection, "Enable" | "DetectMessageEnd")
        {
            return Answer::error(
                400,
                21200,
                format!("MachineDetection must be Enable or DetectMessageEnd, not {detection}"),
            );
        }
        let call = FakeCall {
            sid: new_sid("CA"),
            from: from.to_owned(),
            to: to.to_owned(),
            status: "queued".into(),
            direction: "outbound-api".into(),
            url: url.map(str::to_owned),
            status_callback: status_callback.map(str::to_owned),
            twiml: twiml.map(str::to_owned).into_iter().collect(),
            date_created: now(),
        };
        let created = CreatedCall {
            sid: call.sid.clone(),
            account_sid: self.account_sid.clone(),
            to: call.to.clone(),
            from: call.from.clone(),
            url: call.url.clone(),
            method: param(form, "Method").unwrap_or("POST").to_owned(),
            twiml: twiml.map(str::to_owned),
            status_callback: call.status_callback.clone(),
            status_callback_method: param(form, "StatusCallbackMethod")
                .unwrap_or("POST")
                .to_owned(),
            status_callback_events: events,
            machine_detection: machine_detection.map(str::to_owned),
            params: form.to_vec(),
        };
        let body = self.call_json(&call);
        self.calls.push(call);
        Answer {
            status: 201,
            body,
            created: Some(created),
        }
    }

    fn update_call(&mut self, index: usize, form: &[(String, String)]) -> Answer {
        let status = param(form, "Status");
        if let Some(status) = status
            && !matches!(status, "completed" | "canceled")
        {
            return Answer::error(
                400,
                21200,
                format!("Status must be completed or canceled, not {status}"),
            );
        }
        let twiml = param(form, "Twiml");
        let url = param(form, "Url");
        let call = &mut self.calls[index];
        if (status.is_some() || twiml.is_some() || url.is_some()) && is_final(&call.status) {
            // Twilio documents 21220 for redirecting a call that is no longer in progress; the
            // fake answers a second hang-up the same way.
            return Answer::error(400, 21220, "Call is not in-progress. Cannot redirect.");
        }
        match status {
            Some("completed") => call.status = "completed".into(),
            // `canceled` only stops calls that have not been answered yet.
            Some("canceled") if matches!(call.status.as_str(), "queued" | "ringing") => {
                call.status = "canceled".into();
            }
            _ => {}
        }
        if status.is_none() {
            if let Some(twiml) = twiml {
                call.twiml.push(twiml.to_owned());
            } else if let Some(url) = url {
                call.url = Some(url.to_owned());
            }
        }
        if let Some(callback) = param(form, "StatusCallback") {
            call.status_callback = Some(callback.to_owned());
        }
        let body = self.call_json(&self.calls[index]);
        Answer::ok(200, body)
    }

    fn list_numbers(&self, query: &[(String, String)]) -> Answer {
        let page_size = param(query, "PageSize")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, self.max_page_size);
        let page = param(query, "Page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let start = (page * page_size).min(self.numbers.len());
        let end = (start + page_size).min(self.numbers.len());
        let items = &self.numbers[start..end];
        let base = format!(
            "/{API_VERSION}/Accounts/{}/IncomingPhoneNumbers.json",
            self.account_sid
        );
        let page_uri = |page: usize, token: Option<&str>| match token {
            Some(token) => format!("{base}?PageSize={page_size}&Page={page}&PageToken={token}"),
            None => format!("{base}?PageSize={page_size}&Page={page}"),
        };
        // Twilio's page tokens name the last item seen; the fake pages by `Page` alone.
        let next_page_uri = (end < self.numbers.len())
            .then(|| {
                items
                    .last()
                    .map(|last| page_uri(page + 1, Some(&format!("PA{}", last.sid))))
            })
            .flatten();
        let previous_page_uri = (page > 0).then(|| page_uri(page - 1, None));
        let resources: Vec<Value> = items
            .iter()
            .map(|n| number_json(&self.account_sid, n))
            .collect();
        Answer::ok(
            200,
            json!({
                "first_page_uri": page_uri(0, None),
                "end": end.saturating_sub(1),
                "previous_page_uri": previous_page_uri,
                "incoming_phone_numbers": resources,
                "uri": page_uri(page, None),
                "page_size": page_size,
                "start": start,
                "next_page_uri": next_page_uri,
                "page": page,
            }),
        )
    }

    fn update_number(&mut self, index: usize, form: &[(String, String)]) -> Answer {
        let number = &mut self.numbers[index];
        // An empty value clears a URL, as in Twilio's console.
        let url = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        if let Some(value) = param(form, "VoiceUrl") {
            number.voice_url = url(value);
        }
        if let Some(value) = param(form, "VoiceMethod") {
            number.voice_method = value.to_owned();
        }
        if let Some(value) = param(form, "StatusCallback") {
            number.status_callback = url(value);
        }
        if let Some(value) = param(form, "StatusCallbackMethod") {
            number.status_callback_method = value.to_owned();
        }
        if let Some(value) = param(form, "FriendlyName") {
            number.friendly_name = value.to_owned();
        }
        let body = number_json(&self.account_sid, &self.numbers[index]);
        Answer::ok(200, body)
    }
}

/// First value of a form or query field.
pub(super) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Every value of a repeated field, in order.
pub(super) fn params<'a>(
    pairs: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

pub(super) fn is_final(status: &str) -> bool {
    matches!(
        status,
        "completed" | "canceled" | "busy" | "failed" | "no-answer"
    )
}

/// E.164 (`+` and 8–15 digits), a SIP URI or a Twilio Client identity.
fn is_callable(to: &str) -> bool {
    if to.starts_with("sip:") || to.starts_with("client:") {
        return to.len() > 4;
    }
    to.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn is_absolute_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace)
}
