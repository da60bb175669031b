//! Fuzzes the Media Streams decoders with arbitrary bytes.
//!
//! Beyond "never panics", it checks the property the call path relies on: anything the decoder
//! accepts re-encodes (Twilio's wire form) to text that decodes to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::twilio::{TwilioInbound, TwilioOutbound};

fuzz_target!(|data: &[u8]| {
    // WebSocket text frames are UTF-8 by definition; the socket layer rejects anything else.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(msg) = TwilioInbound::parse(text) {
        let encoded = msg.to_json();
        let decoded = TwilioInbound::parse(&encoded).expect("a re-encoded inbound message decodes");
        assert_eq!(decoded, msg, "inbound round trip via {encoded}");
        if let TwilioInbound::Media(chunk) = &msg {
            let _ = chunk.decode_audio_into(&mut Vec::new());
        }
    }

    if let Ok(msg) = TwilioOutbound::parse(text) {
        let encoded = msg.to_json();
        let decoded =
            TwilioOutbound::parse(&encoded).expect("a re-encoded outbound message decodes");
        assert_eq!(decoded, msg, "outbound round trip via {encoded}");
    }
});
