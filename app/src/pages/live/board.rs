//! The live page's state: calls in progress and their lines, built from a snapshot (the
//! `active_calls` server function) and the `/events/calls` stream. Pure: no timers, no DOM.
//!
//! Events may repeat or arrive out of order — the browser's `EventSource` reconnects, the page
//! reloads the snapshot after a reconnect or a lag, and snapshot and stream overlap — so every
//! change is idempotent: a line is known by its call and `seq`, a call by its id.

use std::collections::HashSet;

use crate::dto::live::{CallEvent, LiveCallView, LiveLineView};

/// One call on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCall {
    /// The call as last loaded or announced, lines ordered by `seq`.
    pub call: LiveCallView,
    /// Set once it ended: why, and how long it lasted.
    pub ended: Option<(String, i32)>,
    /// Whether a snapshot listed it: a later snapshot without it means it ended meanwhile.
    in_snapshot: bool,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing new (a repeat, or a call already gone).
    Unchanged,
    /// The board changed.
    Changed,
    /// The board changed, but it lacks details only a snapshot has (an agent's name, or the
    /// start of a call whose `call.started` was missed): reload the snapshot.
    NeedsSnapshot,
    /// A call ended: drop it after a moment.
    Ended,
}

/// Calls in progress, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Board {
    calls: Vec<BoardCall>,
    /// Calls dropped from the board: late events for them are ignored.
    gone: HashSet<String>,
}

impl Board {
    /// The calls, oldest first.
    pub fn calls(&self) -> &[BoardCall] {
        &self.calls
    }

    /// The call `id`, if on the board.
    pub fn call(&self, id: &str) -> Option<&BoardCall> {
        self.calls.iter().find(|c| c.call.id == id)
    }

    /// The ids of the calls, oldest first.
    pub fn ids(&self) -> Vec<String> {
        self.calls.iter().map(|c| c.call.id.clone()).collect()
    }

    /// Whether no call is on the board.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Merges a snapshot of the calls in progress: adds the calls and lines it has, and marks
    /// ended the calls an earlier snapshot listed that this one does not. Calls known only from
    /// events stay (the snapshot may have been read just before they started). Returns the ids
    /// of calls it marked ended.
    pub fn merge_snapshot(&mut self, snapshot: Vec<LiveCallView>) -> Vec<String> {
        let listed: HashSet<String> = snapshot.iter().map(|c| c.id.clone()).collect();
        let mut ended = Vec::new();
        for entry in &mut self.calls {
            if entry.in_snapshot && entry.ended.is_none() && !listed.contains(&entry.call.id) {
                entry.ended = Some(("ended".to_owned(), -1));
                ended.push(entry.call.id.clone());
            }
        }
        for call in snapshot {
            if self.gone.contains(&call.id) {
                continue;
            }
            match self.calls.iter_mut().find(|c| c.call.id == call.id) {
                Some(entry) => {
                    // The snapshot's details replace the event's; lines from both are kept.
                    let mut call = call;
                    let fresh = std::mem::take(&mut call.lines);
                    entry.call.lines = std::mem::replace(&mut entry.call, call).lines;
                    for line in fresh {
                        insert_line(&mut entry.call.lines, line);
                    }
                    entry.in_snapshot = true;
                }
                None => self.calls.push(BoardCall {
                    call,
                    ended: None,
                    in_snapshot: true,
                }),
            }
        }
        self.calls.sort_by_key(|c| c.call.started_at_ms);
        ended
    }

    /// Applies one event from the stream; `now_ms` (ms since the epoch) dates a call announced
    /// by the stream.
    pub fn apply(&mut self, event: CallEvent, now_ms: i64) -> Change {
        match event {
            CallEvent::CallStarted {
                call_id,
                direction,
                from,
                to,
                agent_id,
            } => {
                if self.gone.contains(&call_id) || self.call(&call_id).is_some() {
                    return Change::Unchanged;
                }
                self.calls.push(BoardCall {
                    call: LiveCallView {
                        id: call_id,
                        direction,
                        from,
                        to,
                        agent_name: None,
                        started_at: String::new(),
                        started_at_ms: now_ms,
                        lines: Vec::new(),
                    },
                    ended: None,
                    in_snapshot: false,
                });
                if agent_id.is_some() {
                    Change::NeedsSnapshot
                } else {
                    Change::Changed
                }
            }
            CallEvent::CallLine {
                call_id,
                seq,
                role,
                text,
                start_ms,
                interrupted,
                ..
            } => {
                if self.gone.contains(&call_id) {
                    return Change::Unchanged;
                }
                let line = LiveLineView {
                    seq,
                    role,
                    text,
                    start_ms,
                    interrupted,
                };
                match self.calls.iter_mut().find(|c| c.call.id == call_id) {
                    Some(entry) => {
                        if insert_line(&mut entry.call.lines, line) {
                            Change::Changed
                        } else {
                            Change::Unchanged
                        }
                    }
                    None => {
                        self.calls.push(BoardCall {
                            call: LiveCallView {
                                id: call_id,
                                direction: String::new(),
                                from: String::new(),
                                to: String::new(),
                                agent_name: None,
                                started_at: String::new(),
                                started_at_ms: now_ms - i64::from(start_ms),
                                lines: vec![line],
                            },
                            ended: None,
                            in_snapshot: false,
                        });
                        Change::NeedsSnapshot
                    }
                }
            }
            CallEvent::CallEnded {
                call_id,
                reason,
                duration_secs,
            } => match self.calls.iter_mut().find(|c| c.call.id == call_id) {
                Some(entry) if entry.ended.is_none() => {
                    entry.ended = Some((reason, duration_secs));
                    Change::Ended
                }
                _ => Change::Unchanged,
            },
        }
    }

    /// Drops call `id` from the board for good (a while after it ended).
    pub fn remove(&mut self, id: &str) {
        self.calls.retain(|c| c.call.id != id);
        self.gone.insert(id.to_owned());
    }
}

/// Inserts `line` in `seq` order unless a line with its `seq` is there; returns whether it did.
fn insert_line(lines: &mut Vec<LiveLineView>, line: LiveLineView) -> bool {
    match lines.binary_search_by_key(&line.seq, |l| l.seq) {
        Ok(_) => false,
        Err(at) => {
            lines.insert(at, line);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, started_at_ms: i64, seqs: &[i32]) -> LiveCallView {
        LiveCallView {
            id: id.to_owned(),
            direction: "inbound".to_owned(),
            from: "+14155550100".to_owned(),
            to: "+14155550199".to_owned(),
            agent_name: Some("Front desk".to_owned()),
            started_at: "2026-11-21T10:00:00Z".to_owned(),
            started_at_ms,
            lines: seqs.iter().map(|&s| line(s)).collect(),
        }
    }

    fn line(seq: i32) -> LiveLineView {
        LiveLineView {
            seq,
            role: "caller".to_owned(),
            text: format!("line {seq}"),
            start_ms: seq * 1000,
            interrupted: false,
        }
    }

    fn line_event(call_id: &str, seq: i32) -> CallEvent {
        CallEvent::CallLine {
            call_id: call_id.to_owned(),
            seq,
            role: "agent".to_owned(),
            text: format!("event {seq}"),
            start_ms: seq * 1000,
            end_ms: seq * 1000 + 500,
            interrupted: false,
        }
    }

    fn seqs(board: &Board, id: &str) -> Vec<i32> {
        board
            .call(id)
            .unwrap()
            .call
            .lines
            .iter()
            .map(|l| l.seq)
            .collect()
    }

    #[test]
    fn repeated_and_out_of_order_lines_are_kept_once_in_seq_order() {
        let mut board = Board::default();
        board.merge_snapshot(vec![call("a", 0, &[0, 1])]);
        assert_eq!(board.apply(line_event("a", 1), 5), Change::Unchanged);
        assert_eq!(board.apply(line_event("a", 3), 5), Change::Changed);
        assert_eq!(board.apply(line_event("a", 2), 5), Change::Changed);
        assert_eq!(board.apply(line_event("a", 3), 5), Change::Unchanged);
        assert_eq!(seqs(&board, "a"), [0, 1, 2, 3]);
        // The snapshot's text wins over nothing, but never duplicates a line.
        board.merge_snapshot(vec![call("a", 0, &[0, 1, 2, 3, 4])]);
        assert_eq!(seqs(&board, "a"), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_started_call_is_added_once_and_asks_for_its_agents_name() {
        let mut board = Board::default();
        let started = CallEvent::CallStarted {
            call_id: "b".to_owned(),
            agent_id: Some("agent".to_owned()),
            direction: "inbound".to_owned(),
            from: "+1".to_owned(),
            to: "+2".to_owned(),
        };
        assert_eq!(board.apply(started.clone(), 42), Change::NeedsSnapshot);
        assert_eq!(board.apply(started, 43), Change::Unchanged);
        assert_eq!(board.ids(), ["b"]);
        assert_eq!(board.call("b").unwrap().call.started_at_ms, 42);
        // A snapshot read before the call started does not end it.
        assert!(board.merge_snapshot(vec![]).is_empty());
        assert!(board.call("b").unwrap().ended.is_none());
    }

    #[test]
    fn a_line_for_an_unknown_call_adds_it_and_asks_for_a_snapshot() {
        let mut board = Board::default();
        assert_eq!(
            board.apply(line_event("c", 0), 10_000),
            Change::NeedsSnapshot
        );
        assert_eq!(seqs(&board, "c"), [0]);
        board.merge_snapshot(vec![call("c", 9_000, &[0, 1])]);
        let entry = board.call("c").unwrap();
        assert_eq!(entry.call.agent_name.as_deref(), Some("Front desk"));
        assert_eq!(seqs(&board, "c"), [0, 1]);
    }

    #[test]
    fn an_ended_call_is_marked_then_removed_and_late_events_ignored() {
        let mut board = Board::default();
        board.merge_snapshot(vec![call("d", 0, &[0])]);
        let ended = CallEvent::CallEnded {
            call_id: "d".to_owned(),
            reason: "agent_hang_up".to_owned(),
            duration_secs: 61,
        };
        assert_eq!(board.apply(ended.clone(), 1), Change::Ended);
        assert_eq!(board.apply(ended, 1), Change::Unchanged);
        assert_eq!(
            board.call("d").unwrap().ended,
            Some(("agent_hang_up".to_owned(), 61))
        );
        board.remove("d");
        assert!(board.is_empty());
        assert_eq!(board.apply(line_event("d", 1), 2), Change::Unchanged);
        board.merge_snapshot(vec![call("d", 0, &[0])]);
        assert!(board.is_empty());
    }

    #[test]
    fn a_call_missing_from_a_later_snapshot_has_ended() {
        let mut board = Board::default();
        board.merge_snapshot(vec![call("e", 2, &[]), call("f", 1, &[])]);
        assert_eq!(board.ids(), ["f", "e"], "oldest first");
        let ended = board.merge_snapshot(vec![call("f", 1, &[])]);
        assert_eq!(ended, ["e"]);
        assert!(board.call("e").unwrap().ended.is_some());
        assert!(board.call("f").unwrap().ended.is_none());
    }
}
