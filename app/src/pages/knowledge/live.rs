//! Live progress: the `document.progress` events of `/events/knowledge`, and how they are
//! merged with the server's list and the uploads in flight into the rows the page shows.
//! Everything but [`subscribe`] is pure and tested here; `subscribe` is the browser's half.
//!
//! Ordering without clocks: every recorded event gets the next number, and each list fetch
//! notes the number reached when its request went out. An event applies to a listed document
//! only if it is newer than that list, so a slow reload never rolls progress back and a
//! late reload never loses an event.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::Deserialize;

use super::upload::UploadRow;
use crate::dto::{AgentChoice, DocumentView};

/// One `document.progress` event (the bus's `LiveEvent::DocumentProgress`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(super) struct Progress {
    /// The document.
    pub(super) document_id: String,
    /// `pending`, `processing`, `ready` or `failed`.
    pub(super) status: String,
    /// Chunks embedded so far.
    pub(super) chunks_embedded: i32,
    /// Chunks in the document (0 until it is chunked).
    pub(super) chunks_total: i32,
    /// Why it failed.
    pub(super) error: Option<String>,
}

impl Progress {
    /// Whether ingestion has finished (the list is then reloaded for the final numbers).
    pub(super) fn is_settled(&self) -> bool {
        matches!(self.status.as_str(), "ready" | "failed")
    }
}

/// The latest progress per document, each stamped with the number of events seen at arrival.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Overlay {
    seen: u64,
    latest: HashMap<String, (u64, Progress)>,
}

impl Overlay {
    /// How many (distinct) events have been recorded.
    pub(super) fn seen(&self) -> u64 {
        self.seen
    }

    /// Records `progress`; `false` when it repeats what is already known (nothing to redraw).
    pub(super) fn record(&mut self, progress: Progress) -> bool {
        if self
            .latest
            .get(&progress.document_id)
            .is_some_and(|(_, known)| *known == progress)
        {
            return false;
        }
        self.seen += 1;
        self.latest
            .insert(progress.document_id.clone(), (self.seen, progress));
        true
    }

    /// `doc` as the events received after its list was fetched (at `listed_at`) leave it.
    pub(super) fn apply(&self, mut doc: DocumentView, listed_at: u64) -> DocumentView {
        if let Some((at, progress)) = self.latest.get(&doc.id)
            && *at > listed_at
        {
            doc.status.clone_from(&progress.status);
            doc.chunks_embedded = progress.chunks_embedded;
            doc.chunks_total = progress.chunks_total;
            doc.error.clone_from(&progress.error);
            if progress.status == "ready" {
                doc.chunk_count = progress.chunks_total;
            }
        }
        doc
    }
}

/// One row of the documents list.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Row {
    /// A file on its way to the server, or refused by it.
    Upload(UploadRow),
    /// A stored document, with the name of its scope.
    Document {
        /// The document as last known.
        doc: DocumentView,
        /// `All agents` or the agent's name.
        scope: String,
    },
}

impl Row {
    /// Changes whenever what the row shows changes, so the list redraws only those rows.
    pub(super) fn key(&self) -> String {
        match self {
            Row::Upload(upload) => format!("upload:{}:{:?}", upload.key, upload.state),
            Row::Document { doc, scope } => format!(
                "{}:{}:{}/{}:{}:{:?}:{}:{}",
                doc.id,
                doc.status,
                doc.chunks_embedded,
                doc.chunks_total,
                doc.chunk_count,
                doc.error,
                doc.title,
                scope
            ),
        }
    }
}

/// The rows, newest first: uploads in flight or refused, documents accepted but not yet in the
/// list (`recent`), then the list (fetched at `listed_at`), all with the latest live progress.
pub(super) fn rows(
    overlay: &Overlay,
    listed_at: u64,
    listed: &[DocumentView],
    recent: &[DocumentView],
    uploads: &[UploadRow],
    agents: &[AgentChoice],
) -> Vec<Row> {
    let scope = |doc: &DocumentView| match &doc.agent_id {
        None => "All agents".to_owned(),
        Some(id) => agents
            .iter()
            .find(|a| &a.id == id)
            .map_or_else(|| "One agent".to_owned(), |a| a.name.clone()),
    };
    let document = |doc: DocumentView, listed_at| Row::Document {
        scope: scope(&doc),
        doc: overlay.apply(doc, listed_at),
    };
    let fresh = recent
        .iter()
        .filter(|doc| !listed.iter().any(|l| l.id == doc.id))
        .map(|doc| document(doc.clone(), 0));
    uploads
        .iter()
        .cloned()
        .map(Row::Upload)
        .chain(fresh)
        .chain(listed.iter().map(|doc| document(doc.clone(), listed_at)))
        .collect()
}

/// Drops from `recent` the documents `listed` has; whether any went.
pub(super) fn forget_listed(recent: &mut Vec<DocumentView>, listed: &[DocumentView]) -> bool {
    let before = recent.len();
    recent.retain(|doc| !listed.iter().any(|l| l.id == doc.id));
    recent.len() != before
}

/// The page's live state: what the event stream reported, and a counter that reloads the list.
#[derive(Debug, Clone, Copy)]
pub(super) struct LiveState {
    /// Progress received since the page loaded.
    pub(super) overlay: RwSignal<Overlay>,
    /// Bumped to reload the list from the server.
    pub(super) reload: RwSignal<u32>,
}

impl LiveState {
    /// Nothing received yet.
    pub(super) fn new() -> Self {
        Self {
            overlay: RwSignal::new(Overlay::default()),
            reload: RwSignal::new(0),
        }
    }

    /// Reloads the list.
    pub(super) fn reload(self) {
        self.reload.update(|n| *n = n.wrapping_add(1));
    }

    /// Records an event; a document that settled reloads the list for its final numbers.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(super) fn receive(self, progress: Progress) {
        let settled = progress.is_settled();
        let mut new = false;
        self.overlay.maybe_update(|overlay| {
            new = overlay.record(progress);
            new
        });
        if new && settled {
            self.reload();
        }
    }
}

/// Listens on `/events/knowledge` until the page goes away. Each (re)connection and each
/// `lagged` notice reloads the list, since events may have been missed meanwhile; the browser
/// reconnects by itself after a network error.
#[cfg(feature = "hydrate")]
pub(super) fn subscribe(state: LiveState) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    let Ok(source) = EventSource::new("/events/knowledge") else {
        leptos::logging::warn!("cannot open /events/knowledge");
        return;
    };
    let progress = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(data) = event.data().as_string() else {
            return;
        };
        match serde_json::from_str::<Progress>(&data) {
            Ok(progress) => state.receive(progress),
            Err(e) => leptos::logging::warn!("unreadable document.progress event: {e}"),
        }
    });
    let resync = Closure::<dyn Fn()>::new(move || state.reload());
    for (event, listener) in [
        ("document.progress", progress.as_ref()),
        ("open", resync.as_ref()),
        ("lagged", resync.as_ref()),
    ] {
        if let Err(e) = source.add_event_listener_with_callback(event, listener.unchecked_ref()) {
            leptos::logging::warn!("cannot listen for {event}: {e:?}");
        }
    }
    // The closures must live as long as the source; all three go when the page does.
    let handle = send_wrapper::SendWrapper::new((source, progress, resync));
    on_cleanup(move || {
        let (source, _progress, _resync) = handle.take();
        source.close();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::knowledge::upload::UploadState;

    fn doc(id: &str, status: &str) -> DocumentView {
        DocumentView {
            id: id.into(),
            agent_id: None,
            title: format!("Doc {id}"),
            filename: format!("{id}.md"),
            size_bytes: 10,
            status: status.into(),
            error: None,
            chunk_count: 0,
            chunks_embedded: 0,
            chunks_total: 0,
        }
    }

    fn progress(id: &str, status: &str, done: i32, total: i32) -> Progress {
        Progress {
            document_id: id.into(),
            status: status.into(),
            chunks_embedded: done,
            chunks_total: total,
            error: None,
        }
    }

    fn shown(rows: &[Row]) -> Vec<(String, String, i32)> {
        rows.iter()
            .map(|row| match row {
                Row::Upload(u) => (u.filename.clone(), "upload".into(), 0),
                Row::Document { doc, .. } => (doc.id.clone(), doc.status.clone(), doc.chunk_count),
            })
            .collect()
    }

    #[test]
    fn the_bus_event_decodes_with_its_type_tag() {
        let json = r#"{"type":"document_progress","document_id":"d1","status":"processing","chunks_embedded":2,"chunks_total":5,"error":null}"#;
        let decoded: Progress = serde_json::from_str(json).unwrap();
        assert_eq!(decoded, progress("d1", "processing", 2, 5));
    }

    #[test]
    fn a_repeated_event_is_not_recorded_twice() {
        let mut overlay = Overlay::default();
        assert!(overlay.record(progress("d1", "processing", 1, 4)));
        assert!(!overlay.record(progress("d1", "processing", 1, 4)));
        assert!(overlay.record(progress("d1", "processing", 2, 4)));
        assert_eq!(overlay.seen(), 2);
    }

    #[test]
    fn events_newer_than_the_list_override_it_and_older_ones_do_not() {
        let mut overlay = Overlay::default();
        overlay.record(progress("d1", "processing", 1, 4));
        let listed_at = overlay.seen();
        overlay.record(progress("d2", "ready", 3, 3));
        let listed = [doc("d1", "processing"), doc("d2", "processing")];
        let rows = rows(&overlay, listed_at, &listed, &[], &[], &[]);
        assert_eq!(
            shown(&rows),
            [
                ("d1".into(), "processing".into(), 0),
                ("d2".into(), "ready".into(), 3)
            ]
        );
    }

    #[test]
    fn uploads_and_accepted_documents_come_first_until_the_list_has_them() {
        let upload = UploadRow {
            key: 7,
            filename: "menu.pdf".into(),
            size_bytes: 2048,
            state: UploadState::Sending,
        };
        let recent = [doc("new", "pending"), doc("old", "pending")];
        let listed = [doc("old", "ready")];
        let rows = rows(
            &Overlay::default(),
            0,
            &listed,
            &recent,
            std::slice::from_ref(&upload),
            &[],
        );
        assert_eq!(
            shown(&rows),
            [
                ("menu.pdf".into(), "upload".into(), 0),
                ("new".into(), "pending".into(), 0),
                ("old".into(), "ready".into(), 0)
            ]
        );
    }

    #[test]
    fn an_accepted_upload_is_forgotten_once_listed_so_a_delete_sticks() {
        let mut recent = vec![doc("new", "pending"), doc("listed", "pending")];
        assert!(forget_listed(&mut recent, &[doc("listed", "ready")]));
        assert_eq!(recent, [doc("new", "pending")]);
        assert!(!forget_listed(&mut recent, &[]));
        // Deleted after it was listed: neither list nor `recent` shows it any more.
        let rows = rows(&Overlay::default(), 0, &[], &recent[..0], &[], &[]);
        assert!(rows.is_empty());
    }

    #[test]
    fn a_document_shows_its_agents_name_as_scope() {
        let mut scoped = doc("d1", "ready");
        scoped.agent_id = Some("a1".into());
        let agents = [AgentChoice {
            id: "a1".into(),
            name: "Front desk".into(),
        }];
        let rows = rows(
            &Overlay::default(),
            0,
            &[scoped, doc("d2", "ready")],
            &[],
            &[],
            &agents,
        );
        let scopes: Vec<_> = rows
            .iter()
            .map(|r| match r {
                Row::Document { scope, .. } => scope.as_str(),
                Row::Upload(_) => "",
            })
            .collect();
        assert_eq!(scopes, ["Front desk", "All agents"]);
    }
}
