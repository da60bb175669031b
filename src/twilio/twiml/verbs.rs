//! The configurable verbs and nouns (`<Say>`, `<Dial>`, `<Stream>`, `<Record>`) as builders.
//! Fields are private to the `twiml` module: documents are only built, then written by `to_xml`.

/// `<Say>`: text Twilio speaks, optionally in a given voice and language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Say {
    pub(super) text: String,
    pub(super) voice: Option<String>,
    pub(super) language: Option<String>,
}

impl Say {
    /// Speaks `text` in Twilio's default voice.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            voice: None,
            language: None,
        }
    }

    /// `voice`, e.g. `Polly.Joanna` or `Google.en-US-Neural2-F`.
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }

    /// `language`, e.g. `en-US`.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
}

/// `<Dial>`: call `number` and bridge the caller to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dial {
    pub(super) number: String,
    pub(super) caller_id: Option<String>,
    pub(super) timeout_secs: Option<u32>,
    pub(super) time_limit_secs: Option<u32>,
    pub(super) action: Option<String>,
}

impl Dial {
    /// Dials `number` (E.164, e.g. `+15551234567`, or a SIP URI).
    pub fn new(number: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            caller_id: None,
            timeout_secs: None,
            time_limit_secs: None,
            action: None,
        }
    }

    /// `callerId`: the number the callee sees; must be one of ours or verified.
    pub fn caller_id(mut self, caller_id: impl Into<String>) -> Self {
        self.caller_id = Some(caller_id.into());
        self
    }

    /// `timeout`: seconds to let the callee's phone ring (Twilio's default is 30).
    pub fn timeout_secs(mut self, secs: u32) -> Self {
        self.timeout_secs = Some(secs);
        self
    }

    /// `timeLimit`: the longest the bridged call may last, in seconds.
    pub fn time_limit_secs(mut self, secs: u32) -> Self {
        self.time_limit_secs = Some(secs);
        self
    }

    /// `action`: URL Twilio requests when the dialled call ends, for the next TwiML.
    pub fn action(mut self, url: impl Into<String>) -> Self {
        self.action = Some(url.into());
        self
    }
}

/// `<Stream>` inside `<Connect>`: where Twilio opens the Media Streams WebSocket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub(super) url: String,
    pub(super) name: Option<String>,
    pub(super) status_callback: Option<String>,
    pub(super) parameters: Vec<(String, String)>,
}

impl Stream {
    /// Streams to `url`: `wss://` without a query string (see [`Response::validate`]).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            name: None,
            status_callback: None,
            parameters: Vec::new(),
        }
    }

    /// `name`: a label unique per call, used to stop the stream by name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// `statusCallback`: URL Twilio notifies when the stream starts, stops or fails.
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// Adds `<Parameter name value>`; arrives in the `start` message's `customParameters`.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((name.into(), value.into()));
        self
    }
}

/// `<Record>`: record the caller, optionally reporting to a status callback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub(super) action: Option<String>,
    pub(super) max_length_secs: Option<u32>,
    pub(super) timeout_secs: Option<u32>,
    pub(super) finish_on_key: Option<String>,
    pub(super) play_beep: Option<bool>,
    pub(super) trim: Option<Trim>,
    pub(super) recording_status_callback: Option<String>,
}

/// `<Record trim>`: whether Twilio cuts leading and trailing silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// `trim-silence` (Twilio's default).
    TrimSilence,
    /// `do-not-trim`.
    DoNotTrim,
}

impl Record {
    /// A `<Record/>` with Twilio's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// `action`: URL Twilio requests when recording ends, for the next TwiML.
    pub fn action(mut self, url: impl Into<String>) -> Self {
        self.action = Some(url.into());
        self
    }

    /// `maxLength`: the longest recording, in seconds.
    pub fn max_length_secs(mut self, secs: u32) -> Self {
        self.max_length_secs = Some(secs);
        self
    }

    /// `timeout`: seconds of silence that end the recording.
    pub fn timeout_secs(mut self, secs: u32) -> Self {
        self.timeout_secs = Some(secs);
        self
    }

    /// `finishOnKey`: DTMF keys that end the recording, e.g. `#`.
    pub fn finish_on_key(mut self, keys: impl Into<String>) -> Self {
        self.finish_on_key = Some(keys.into());
        self
    }

    /// `playBeep`: whether to beep before recording.
    pub fn play_beep(mut self, beep: bool) -> Self {
        self.play_beep = Some(beep);
        self
    }

    /// `trim`: silence trimming.
    pub fn trim(mut self, trim: Trim) -> Self {
        self.trim = Some(trim);
        self
    }

    /// `recordingStatusCallback`: URL Twilio notifies when the recording is ready.
    pub fn recording_status_callback(mut self, url: impl Into<String>) -> Self {
        self.recording_status_callback = Some(url.into());
        self
    }
}

/// `<Start><Recording>`: a background recording of the whole call (both parties).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    pub(super) dual_channel: bool,
    pub(super) recording_status_callback: Option<String>,
}

impl Recording {
    /// Both parties mixed into one channel.
    pub fn new() -> Self {
        Self::default()
    }

    /// `channels="dual"`: the caller and the agent on separate channels.
    pub fn dual_channel(mut self) -> Self {
        self.dual_channel = true;
        self
    }

    /// `recordingStatusCallback`: where Twilio posts when the recording is ready (or absent).
    pub fn recording_status_callback(mut self, url: impl Into<String>) -> Self {
        self.recording_status_callback = Some(url.into());
        self
    }
}
