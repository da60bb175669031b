//! TwiML tests: snapshots of what we send, and round trips through a real XML parser
//! (quick-xml) to prove escaping keeps every string intact and the document well-formed.

use proptest::prelude::*;
use quick_xml::XmlVersion;
use quick_xml::events::Event;

use super::*;

/// An element as a parser sees it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `xml` strictly (checked end names, checked attributes, only predefined entities)
/// and returns the root element.
#[track_caller]
fn parse(xml: &str) -> Node {
    let body = xml
        .strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .unwrap_or_else(|| panic!("missing XML declaration: {xml}"));
    let mut reader = quick_xml::Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{e}: {xml}")) {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(element(&e)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.xml_content(XmlVersion::Explicit1_0)),
            Event::GeneralRef(r) => {
                let resolved = match r
                    .resolve_char_ref()
                    .unwrap_or_else(|e| panic!("{e}: {xml}"))
                {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(
                        &r.xml_content(XmlVersion::Explicit1_0),
                    )
                    .unwrap_or_else(|| panic!("unknown entity in {xml}"))
                    .to_owned(),
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Event::Eof => break,
            other => panic!("unexpected {other:?} in {xml}"),
        }
    }
    let mut document = stack.pop().unwrap();
    assert!(stack.is_empty(), "unclosed element in {xml}");
    assert_eq!(document.children.len(), 1, "one root element");
    document.children.pop().unwrap()
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Node {
    let attrs = e
        .attributes()
        .with_checks(true)
        .map(|a| {
            let a = a.expect("well-formed attribute");
            let value = a
                .normalized_value(XmlVersion::Explicit1_0)
                .expect("valid attribute value");
            (a.key.as_ref().to_owned(), value.into_owned())
        })
        .collect();
    Node {
        name: e.name().as_ref().to_owned(),
        attrs,
        ..Node::default()
    }
}

fn stream_response() -> Response {
    Response::new()
        .say("Please hold while we connect you.")
        .connect_stream(
            Stream::new("wss://voice.example.com/twilio/stream/eyJhbGciOi")
                .parameter("org_id", "8d0c5a4e")
                .parameter("agent_id", "42"),
        )
}

#[test]
fn connect_stream_document_snapshot() {
    let response = stream_response();
    response.validate().unwrap();
    insta::assert_snapshot!("connect_stream", response.to_xml());
}

#[test]
fn transfer_document_snapshot() {
    let xml = Response::new()
        .say_with(
            Say::new("Transferring you to a person.")
                .voice("Polly.Joanna")
                .language("en-US"),
        )
        .pause(1)
        .dial(
            Dial::new("+15551234567")
                .caller_id("+15557654321")
                .timeout_secs(20)
                .action("https://voice.example.com/twilio/dial-status?call=1&org=2"),
        )
        .hangup()
        .to_xml();
    insta::assert_snapshot!("transfer", xml);
}

#[test]
fn record_document_snapshot() {
    let xml = Response::new()
        .say("Leave a message after the beep.")
        .record(
            Record::new()
                .max_length_secs(120)
                .timeout_secs(5)
                .finish_on_key("#")
                .play_beep(true)
                .trim(Trim::TrimSilence)
                .recording_status_callback("https://voice.example.com/twilio/recording"),
        )
        .to_xml();
    insta::assert_snapshot!("record", xml);
}

#[test]
fn a_recorded_call_starts_its_recording_before_the_consent_and_the_stream() {
    let xml = Response::new()
        .start_recording(
            Recording::new()
                .dual_channel()
                .recording_status_callback("https://voice.example.com/twilio/recording"),
        )
        .say("This call is recorded.")
        .to_xml();
    assert_eq!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Start><Recording channels="dual" recordingStatusCallback="https://voice.example.com/twilio/recording" recordingStatusCallbackEvent="completed absent" recordingStatusCallbackMethod="POST"/></Start><Say>This call is recorded.</Say></Response>"#
    );
    let document = parse(&xml);
    assert_eq!(document.children[0].name, "Start");
}

#[test]
fn empty_response_is_a_valid_document() {
    let xml = Response::new().to_xml();
    assert_eq!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
    );
    assert_eq!(parse(&xml).name, "Response");
}

#[test]
fn stream_parameters_parse_back() {
    let root = parse(&stream_response().to_xml());
    let connect = &root.children[1];
    let stream = &connect.children[0];
    assert_eq!(
        (connect.name.as_str(), stream.name.as_str()),
        ("Connect", "Stream")
    );
    assert_eq!(
        stream.attr("url"),
        Some("wss://voice.example.com/twilio/stream/eyJhbGciOi")
    );
    let params: Vec<_> = stream
        .children
        .iter()
        .map(|p| (p.attr("name").unwrap(), p.attr("value").unwrap()))
        .collect();
    assert_eq!(params, [("org_id", "8d0c5a4e"), ("agent_id", "42")]);
}

#[test]
fn markup_characters_in_text_and_attributes_round_trip() {
    let nasty = r#"Tom & Jerry's <b>"best"</b> ]]> line1
line2	tab\r"#;
    let xml = Response::new()
        .say_with(Say::new(nasty).voice(nasty).language(nasty))
        .dial(Dial::new(nasty).caller_id(nasty).action(nasty))
        .connect_stream(Stream::new(nasty).name(nasty).parameter(nasty, nasty))
        .record(
            Record::new()
                .finish_on_key(nasty)
                .recording_status_callback(nasty),
        )
        .to_xml();
    let root = parse(&xml);
    let say = &root.children[0];
    assert_eq!(
        (say.text.as_str(), say.attr("voice"), say.attr("language")),
        (nasty, Some(nasty), Some(nasty))
    );
    let dial = &root.children[1];
    assert_eq!(
        (
            dial.text.as_str(),
            dial.attr("callerId"),
            dial.attr("action")
        ),
        (nasty, Some(nasty), Some(nasty))
    );
    let stream = &root.children[2].children[0];
    assert_eq!(
        (stream.attr("url"), stream.attr("name")),
        (Some(nasty), Some(nasty))
    );
    assert_eq!(
        (
            stream.children[0].attr("name"),
            stream.children[0].attr("value")
        ),
        (Some(nasty), Some(nasty))
    );
    let record = &root.children[3];
    assert_eq!(record.attr("finishOnKey"), Some(nasty));
    assert_eq!(record.attr("recordingStatusCallback"), Some(nasty));
}

#[test]
fn characters_xml_cannot_carry_are_dropped() {
    let xml = Response::new().say("bell\u{7}nul\u{0}\u{FFFE}ok").to_xml();
    assert_eq!(parse(&xml).children[0].text, "bellnulok");
}

#[test]
fn validate_rejects_what_twilio_rejects_at_call_time() {
    let not_wss = Response::new().connect_stream(Stream::new("https://voice.example.com/stream"));
    assert!(matches!(
        not_wss.validate(),
        Err(TwimlError::StreamUrlNotWss { .. })
    ));
    let query =
        Response::new().connect_stream(Stream::new("wss://voice.example.com/stream?token=1"));
    assert!(matches!(
        query.validate(),
        Err(TwimlError::StreamUrlHasQuery { .. })
    ));
    assert_eq!(
        Response::new().dial(Dial::new(" ")).validate(),
        Err(TwimlError::EmptyDialNumber)
    );
}

proptest! {
    /// Any string survives as `<Say>` text and as attribute values, minus the characters XML
    /// 1.0 cannot represent at all.
    #[test]
    fn any_text_round_trips(text in any::<String>(), value in any::<String>()) {
        let xml = Response::new()
            .say_with(Say::new(text.as_str()).voice(value.as_str()))
            .connect_stream(Stream::new("wss://h/s").parameter(value.as_str(), text.as_str()))
            .to_xml();
        let root = parse(&xml);
        let keep = |s: &str| s.chars().filter(|&c| xml::is_xml_char(c)).collect::<String>();
        let (text, value) = (keep(&text), keep(&value));
        prop_assert_eq!(&root.children[0].text, &text);
        prop_assert_eq!(root.children[0].attr("voice"), Some(value.as_str()));
        let parameter = &root.children[1].children[0].children[0];
        prop_assert_eq!(parameter.attr("name"), Some(value.as_str()));
        prop_assert_eq!(parameter.attr("value"), Some(text.as_str()));
    }
}
