//! Unit tests for [`super::Playback`]: framing, mark names, the heard clock and interruption.

use super::*;

const SID: &str = "MZ1";

fn media_and_marks(out: &VecDeque<CallAction>) -> Vec<String> {
    out.iter()
        .map(|action| match action {
            CallAction::Twilio(TwilioOutbound::Media { payload, .. }) => {
                format!(
                    "media:{}",
                    STANDARD.decode(payload.as_bytes()).unwrap().len()
                )
            }
            CallAction::Twilio(TwilioOutbound::Mark { name, .. }) => format!("mark:{name}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn chunks_go_out_as_whole_frames_and_the_tail_waits_for_the_next_chunk() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    let t = CallTime::ZERO;
    assert!(playback.push_mulaw("item_a", &[0x55; 400], 50_000, SID, t, &mut out));
    assert_eq!(media_and_marks(&out), ["media:160", "media:160"]);
    out.clear();
    playback.push_mulaw("item_a", &[0x55; 80], 10_000, SID, t, &mut out);
    assert_eq!(media_and_marks(&out), ["media:160"]);
    out.clear();
    playback.push_mulaw("item_a", &[0x55; 40], 5_000, SID, t, &mut out);
    assert!(out.is_empty(), "40 bytes stay in the splitter");
    assert!(playback.finish_item("item_a", SID, &mut out));
    assert_eq!(media_and_marks(&out), ["media:160", "mark:item_a@80"]);
}

#[test]
fn long_chunks_get_a_mark_every_five_frames_and_the_rest_when_the_item_ends() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    playback.push_mulaw(
        "item_a",
        &[0x55; 160 * 12],
        240_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    let marks: Vec<_> = media_and_marks(&out)
        .into_iter()
        .filter(|s| s.starts_with("mark"))
        .collect();
    assert_eq!(marks, ["mark:item_a@100", "mark:item_a@200"]);
    assert_eq!(out.len(), 12 + 2, "no mark just because the chunk ended");
    out.clear();
    playback.finish_item("item_a", SID, &mut out);
    assert_eq!(media_and_marks(&out), ["mark:item_a@240"]);
}

#[test]
fn a_new_item_flushes_the_previous_items_tail() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    playback.push_mulaw(
        "item_a",
        &[0x55; 100],
        12_500,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    assert!(out.is_empty());
    playback.push_mulaw(
        "item_b",
        &[0x55; 160],
        20_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    assert_eq!(
        media_and_marks(&out),
        ["media:160", "mark:item_a@20", "media:160"]
    );
}

#[test]
fn echoed_marks_advance_the_heard_clock_and_unknown_names_are_reported() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    for _ in 0..5 {
        playback.push_mulaw(
            "item_a",
            &[0x55; 320],
            40_000,
            SID,
            CallTime::ZERO,
            &mut out,
        );
    }
    let marks: Vec<_> = media_and_marks(&out)
        .into_iter()
        .filter(|s| s.starts_with("mark"))
        .collect();
    assert_eq!(marks, ["mark:item_a@100", "mark:item_a@200"]);
    assert_eq!(
        playback.on_mark("item_a@100", CallTime::from_millis(100)),
        MarkEcho::Heard
    );
    assert_eq!(
        playback.on_mark("nonsense", CallTime::from_millis(101)),
        MarkEcho::Unknown
    );
    assert_eq!(
        playback.on_mark("item_zz@40", CallTime::from_millis(101)),
        MarkEcho::Unknown
    );
    assert_eq!(
        playback.on_mark("item_a@9999", CallTime::from_millis(101)),
        MarkEcho::Unknown
    );
    let cut = playback.interrupt(CallTime::from_millis(110));
    assert_eq!(
        cut,
        vec![Interruption {
            item_id: "item_a".into(),
            heard_ms: 100
        }]
    );
    assert_eq!(
        playback.on_mark("item_a@200", CallTime::from_millis(111)),
        MarkEcho::Stale
    );
    assert!(!playback.push_mulaw(
        "item_a",
        &[0x55; 160],
        20_000,
        SID,
        CallTime::from_millis(112),
        &mut out
    ));
}

#[test]
fn heard_ms_is_clamped_to_the_generated_audio() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    // 100 bytes = 12.5 ms generated, padded to a 20 ms frame.
    playback.push_mulaw(
        "item_a",
        &[0x55; 100],
        12_500,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    playback.finish_item("item_a", SID, &mut out);
    assert_eq!(
        playback.on_mark("item_a@20", CallTime::from_millis(20)),
        MarkEcho::Heard
    );
    playback.set_final_text("item_a", "Hi.".into(), CallTime::from_millis(20));
    let lines = playback.take_lines(CallTime::ZERO, CallTime::from_millis(21), false);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].1, 12);
    assert!(!lines[0].0.interrupted);
}

/// The item's heard clock (clamped to the generated audio, as truncation uses it).
fn heard_ms(playback: &Playback, item_id: &str) -> u64 {
    playback.items[playback.index(item_id).unwrap()].heard_ms()
}

/// Seven 20 ms chunks of `item_a`, each checked for what it sent: a mark only after the 5th.
fn push_seven_20_ms_chunks(playback: &mut Playback) {
    for n in 1..=7 {
        let mut out = VecDeque::new();
        assert!(playback.push_mulaw(
            "item_a",
            &[0x55; 160],
            20_000,
            SID,
            CallTime::ZERO,
            &mut out
        ));
        let expected: &[&str] = if n == 5 {
            &["media:160", "mark:item_a@100"]
        } else {
            &["media:160"]
        };
        assert_eq!(media_and_marks(&out), expected, "chunk {n}");
    }
}

#[test]
fn small_chunks_get_one_mark_per_five_frames_and_the_rest_when_the_item_ends() {
    let mut playback = Playback::default();
    push_seven_20_ms_chunks(&mut playback);
    let mut out = VecDeque::new();
    assert!(playback.finish_item("item_a", SID, &mut out));
    assert_eq!(
        media_and_marks(&out),
        ["mark:item_a@140"],
        "whole frames: no padding frame, only the mark for the last two frames"
    );
}

#[test]
fn a_one_second_chunk_gets_a_mark_every_100_ms() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    playback.push_mulaw(
        "item_a",
        &[0x55; 8000],
        1_000_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    let mut expected = Vec::new();
    for ms in (100..=1000).step_by(100) {
        expected.extend(std::iter::repeat_n("media:160".to_owned(), 5));
        expected.push(format!("mark:item_a@{ms}"));
    }
    assert_eq!(media_and_marks(&out), expected);
    out.clear();
    playback.finish_item("item_a", SID, &mut out);
    assert!(out.is_empty(), "every frame was marked already: {out:?}");
}

#[test]
fn the_padded_last_frame_of_an_item_gets_the_final_mark() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    // 30 ms = 240 bytes: one frame now, 80 bytes wait in the splitter.
    playback.push_mulaw(
        "item_a",
        &[0x55; 240],
        30_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    assert_eq!(media_and_marks(&out), ["media:160"]);
    out.clear();
    playback.finish_item("item_a", SID, &mut out);
    // The padding counts in the sent audio, so the mark is at 40 ms, not 30.
    assert_eq!(media_and_marks(&out), ["media:160", "mark:item_a@40"]);
    let CallAction::Twilio(TwilioOutbound::Media { payload, .. }) = &out[0] else {
        panic!("expected media, got {:?}", out[0]);
    };
    let frame = STANDARD.decode(payload.as_bytes()).unwrap();
    assert_eq!(frame[..80], [0x55; 80]);
    assert_eq!(frame[80..], [SILENCE; 80]);
}

#[test]
fn echoing_the_final_mark_moves_the_heard_clock_to_the_end_and_makes_the_line_ready() {
    let mut playback = Playback::default();
    push_seven_20_ms_chunks(&mut playback);
    let mut out = VecDeque::new();
    playback.finish_item("item_a", SID, &mut out);
    playback.set_final_text("item_a", "Hello there.".into(), CallTime::ZERO);

    assert_eq!(
        playback.on_mark("item_a@100", CallTime::from_millis(1_100)),
        MarkEcho::Heard
    );
    assert_eq!(heard_ms(&playback, "item_a"), 100);
    assert!(playback.is_speaking(), "the last 40 ms are still playing");
    let none = playback.take_lines(CallTime::ZERO, CallTime::from_millis(1_101), false);
    assert!(none.is_empty(), "not all audio has played: {none:?}");

    assert_eq!(
        playback.on_mark("item_a@140", CallTime::from_millis(1_140)),
        MarkEcho::Heard
    );
    assert_eq!(heard_ms(&playback, "item_a"), 140);
    assert!(!playback.is_speaking());
    let lines = playback.take_lines(CallTime::ZERO, CallTime::from_millis(1_141), false);
    assert_eq!(lines.len(), 1);
    let (line, heard) = &lines[0];
    assert_eq!(*heard, 140);
    assert_eq!(line.text, "Hello there.");
    assert!(!line.interrupted);
    assert_eq!((line.start_ms, line.end_ms), (0, 1_140));
}

#[test]
fn switching_items_marks_the_previous_items_last_frames_before_the_next_item_plays() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    playback.push_mulaw(
        "item_a",
        &[0x55; 480],
        60_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    playback.push_mulaw(
        "item_b",
        &[0x55; 160],
        20_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    assert_eq!(
        media_and_marks(&out),
        [
            "media:160",
            "media:160",
            "media:160",
            "mark:item_a@60",
            "media:160"
        ]
    );
    out.clear();
    // item_a is no longer open: its frames were marked at the switch, nothing more to send.
    assert!(playback.finish_item("item_a", SID, &mut out));
    assert!(out.is_empty(), "{out:?}");
    assert!(playback.finish_item("item_b", SID, &mut out));
    assert_eq!(media_and_marks(&out), ["mark:item_b@20"]);

    playback.set_final_text("item_a", "First.".into(), CallTime::ZERO);
    assert_eq!(
        playback.on_mark("item_a@60", CallTime::from_millis(60)),
        MarkEcho::Heard
    );
    let lines = playback.take_lines(CallTime::ZERO, CallTime::from_millis(61), false);
    assert_eq!(lines.len(), 1, "item_a played all of its audio: {lines:?}");
    assert_eq!((lines[0].0.text.as_str(), lines[0].1), ("First.", 60));
}

#[test]
fn an_interrupted_items_unmarked_frames_get_no_mark() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    playback.push_mulaw(
        "item_a",
        &[0x55; 500],
        62_500,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    assert_eq!(media_and_marks(&out), ["media:160"; 3]);
    out.clear();
    let cut = playback.interrupt(CallTime::from_millis(30));
    assert_eq!(
        cut,
        vec![Interruption {
            item_id: "item_a".into(),
            heard_ms: 0
        }]
    );
    assert!(playback.finish_item("item_a", SID, &mut out));
    playback.finish_all(SID, &mut out);
    assert!(
        out.is_empty(),
        "the tail is dropped and the clock stays frozen: {out:?}"
    );
    assert!(!playback.is_speaking());
}
