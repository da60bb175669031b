//! TwiML we answer Twilio's voice webhooks with, built from types so the XML is always
//! well-formed: every text and attribute value goes through one escaper ([`xml`]).
//!
//! ```
//! use switchboard::twilio::twiml::{Response, Stream};
//! let xml = Response::new()
//!     .say("Connecting you now.")
//!     .connect_stream(Stream::new("wss://voice.example.com/stream/tok").parameter("org_id", "42"))
//!     .to_xml();
//! assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>"#));
//! ```
//!
//! Only the verbs Switchboard sends are modelled. Rules Twilio enforces at call time (a `wss://`
//! stream URL without a query string, error 31922) are checked by [`Response::validate`], so a bad
//! configuration fails in our tests rather than on a live call. No I/O here.

mod verbs;
mod xml;

#[cfg(test)]
mod tests;

pub use verbs::{Dial, Record, Recording, Say, Stream, Trim};

/// A TwiML document: `<Response>` and its verbs, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    verbs: Vec<Verb>,
}

/// One verb inside `<Response>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `<Say>`: text-to-speech.
    Say(Say),
    /// `<Pause length>`: silence.
    Pause {
        /// Seconds of silence (Twilio's default is 1).
        length_secs: u32,
    },
    /// `<Hangup/>`: end the call.
    Hangup,
    /// `<Dial>`: connect the caller to another number (cold transfer).
    Dial(Dial),
    /// `<Connect><Stream>`: a bidirectional Media Stream to our WebSocket.
    ConnectStream(Stream),
    /// `<Record>`: record the caller.
    Record(Record),
    /// `<Start><Recording>`: record the whole call in the background while the next verbs run.
    StartRecording(Recording),
}

/// A TwiML document Twilio would reject when the call reaches it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TwimlError {
    /// `<Stream url>` must use `wss://` (Twilio error 31922).
    #[error("stream URL {url:?} must start with wss://")]
    StreamUrlNotWss {
        /// The offending URL.
        url: String,
    },
    /// `<Stream url>` does not support query strings; use `<Parameter>`s instead.
    #[error("stream URL {url:?} has a query string; pass values as <Parameter>s")]
    StreamUrlHasQuery {
        /// The offending URL.
        url: String,
    },
    /// `<Dial>` with nothing to dial.
    #[error("<Dial> has an empty number")]
    EmptyDialNumber,
}

impl Response {
    /// An empty `<Response/>` (Twilio hangs up after an empty response).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends any verb.
    pub fn verb(mut self, verb: Verb) -> Self {
        self.verbs.push(verb);
        self
    }

    /// Appends `<Say>` with Twilio's default voice.
    pub fn say(self, text: impl Into<String>) -> Self {
        self.verb(Verb::Say(Say::new(text)))
    }

    /// Appends a configured `<Say>`.
    pub fn say_with(self, say: Say) -> Self {
        self.verb(Verb::Say(say))
    }

    /// Appends `<Pause length>`.
    pub fn pause(self, length_secs: u32) -> Self {
        self.verb(Verb::Pause { length_secs })
    }

    /// Appends `<Hangup/>`.
    pub fn hangup(self) -> Self {
        self.verb(Verb::Hangup)
    }

    /// Appends `<Dial>`.
    pub fn dial(self, dial: Dial) -> Self {
        self.verb(Verb::Dial(dial))
    }

    /// Appends `<Connect><Stream>`; verbs after it run only once the stream's socket closes.
    pub fn connect_stream(self, stream: Stream) -> Self {
        self.verb(Verb::ConnectStream(stream))
    }

    /// Appends `<Start><Recording>`: Twilio records the call while the following verbs run.
    pub fn start_recording(self, recording: Recording) -> Self {
        self.verb(Verb::StartRecording(recording))
    }

    /// Appends `<Record>`.
    pub fn record(self, record: Record) -> Self {
        self.verb(Verb::Record(record))
    }

    /// The verbs in document order.
    pub fn verbs(&self) -> &[Verb] {
        &self.verbs
    }

    /// Checks the rules Twilio enforces only when the call reaches the verb.
    pub fn validate(&self) -> Result<(), TwimlError> {
        for verb in &self.verbs {
            match verb {
                Verb::ConnectStream(s) if !s.url.starts_with("wss://") => {
                    return Err(TwimlError::StreamUrlNotWss { url: s.url.clone() });
                }
                Verb::ConnectStream(s) if s.url.contains('?') => {
                    return Err(TwimlError::StreamUrlHasQuery { url: s.url.clone() });
                }
                Verb::Dial(d) if d.number.trim().is_empty() => {
                    return Err(TwimlError::EmptyDialNumber);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The document as XML text, with the `<?xml?>` declaration, compact (no indentation).
    pub fn to_xml(&self) -> String {
        let mut out = xml::Writer::new();
        out.declaration();
        out.open("Response", &[]);
        for verb in &self.verbs {
            write_verb(&mut out, verb);
        }
        out.close("Response");
        out.finish()
    }
}

fn write_verb(out: &mut xml::Writer, verb: &Verb) {
    let num = |n: Option<u32>| n.map(|n| n.to_string());
    match verb {
        Verb::Say(s) => {
            out.element(
                "Say",
                &[
                    ("voice", s.voice.as_deref()),
                    ("language", s.language.as_deref()),
                ],
                &s.text,
            );
        }
        Verb::Pause { length_secs } => {
            out.empty("Pause", &[("length", Some(&length_secs.to_string()))])
        }
        Verb::Hangup => out.empty("Hangup", &[]),
        Verb::Dial(d) => {
            let (timeout, time_limit) = (num(d.timeout_secs), num(d.time_limit_secs));
            let attrs = [
                ("callerId", d.caller_id.as_deref()),
                ("timeout", timeout.as_deref()),
                ("timeLimit", time_limit.as_deref()),
                ("action", d.action.as_deref()),
            ];
            out.element("Dial", &attrs, &d.number);
        }
        Verb::ConnectStream(s) => {
            out.open("Connect", &[]);
            let attrs = [
                ("url", Some(s.url.as_str())),
                ("name", s.name.as_deref()),
                ("statusCallback", s.status_callback.as_deref()),
            ];
            if s.parameters.is_empty() {
                out.empty("Stream", &attrs);
            } else {
                out.open("Stream", &attrs);
                for (name, value) in &s.parameters {
                    out.empty("Parameter", &[("name", Some(name)), ("value", Some(value))]);
                }
                out.close("Stream");
            }
            out.close("Connect");
        }
        Verb::Record(r) => {
            let (max_length, timeout) = (num(r.max_length_secs), num(r.timeout_secs));
            let attrs = [
                ("action", r.action.as_deref()),
                ("maxLength", max_length.as_deref()),
                ("timeout", timeout.as_deref()),
                ("finishOnKey", r.finish_on_key.as_deref()),
                (
                    "playBeep",
                    r.play_beep.map(|b| if b { "true" } else { "false" }),
                ),
                (
                    "trim",
                    r.trim.map(|t| match t {
                        Trim::TrimSilence => "trim-silence",
                        Trim::DoNotTrim => "do-not-trim",
                    }),
                ),
                (
                    "recordingStatusCallback",
                    r.recording_status_callback.as_deref(),
                ),
            ];
            out.empty("Record", &attrs);
        }
        Verb::StartRecording(r) => {
            out.open("Start", &[]);
            let attrs = [
                (
                    "channels",
                    Some(if r.dual_channel { "dual" } else { "mono" }),
                ),
                (
                    "recordingStatusCallback",
                    r.recording_status_callback.as_deref(),
                ),
                (
                    "recordingStatusCallbackEvent",
                    r.recording_status_callback
                        .as_ref()
                        .map(|_| "completed absent"),
                ),
                (
                    "recordingStatusCallbackMethod",
                    r.recording_status_callback.as_ref().map(|_| "POST"),
                ),
            ];
            out.empty("Recording", &attrs);
            out.close("Start");
        }
    }
}
