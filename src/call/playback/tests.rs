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
    assert_eq!(
        media_and_marks(&out),
        ["media:160", "media:160", "mark:item_a@40"]
    );
    out.clear();
    playback.push_mulaw("item_a", &[0x55; 80], 10_000, SID, t, &mut out);
    assert_eq!(media_and_marks(&out), ["media:160", "mark:item_a@60"]);
    out.clear();
    playback.push_mulaw("item_a", &[0x55; 40], 5_000, SID, t, &mut out);
    assert!(out.is_empty(), "40 bytes stay in the splitter");
    assert!(playback.finish_item("item_a", SID, &mut out));
    assert_eq!(media_and_marks(&out), ["media:160", "mark:item_a@80"]);
}

#[test]
fn long_chunks_get_a_mark_every_ten_frames() {
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
    assert_eq!(marks, ["mark:item_a@200", "mark:item_a@240"]);
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
        ["media:160", "mark:item_a@20", "media:160", "mark:item_b@20"]
    );
}

#[test]
fn echoed_marks_advance_the_heard_clock_and_unknown_names_are_reported() {
    let mut playback = Playback::default();
    let mut out = VecDeque::new();
    playback.push_mulaw(
        "item_a",
        &[0x55; 320],
        40_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    playback.push_mulaw(
        "item_a",
        &[0x55; 320],
        40_000,
        SID,
        CallTime::ZERO,
        &mut out,
    );
    assert_eq!(
        playback.on_mark("item_a@40", CallTime::from_millis(40)),
        MarkEcho::Heard
    );
    assert_eq!(
        playback.on_mark("nonsense", CallTime::from_millis(41)),
        MarkEcho::Unknown
    );
    assert_eq!(
        playback.on_mark("item_zz@40", CallTime::from_millis(41)),
        MarkEcho::Unknown
    );
    assert_eq!(
        playback.on_mark("item_a@9999", CallTime::from_millis(41)),
        MarkEcho::Unknown
    );
    let cut = playback.interrupt(CallTime::from_millis(50));
    assert_eq!(
        cut,
        vec![Interruption {
            item_id: "item_a".into(),
            heard_ms: 40
        }]
    );
    assert_eq!(
        playback.on_mark("item_a@80", CallTime::from_millis(51)),
        MarkEcho::Stale
    );
    assert!(!playback.push_mulaw(
        "item_a",
        &[0x55; 160],
        20_000,
        SID,
        CallTime::from_millis(52),
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
