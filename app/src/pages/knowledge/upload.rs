//! The drop zone: files dropped or picked are sent by the browser, one request per file, to
//! `POST /api/v1/knowledge` (the session cookie authenticates it). A file the server refuses
//! (413 too large, 415 not a type we read) keeps its row with the server's sentence; an
//! accepted one becomes a document row at once and then follows the live progress.

use leptos::prelude::*;

use super::live::LiveState;
use super::{Agents, ScopeSelect};
use crate::dto::DocumentView;

/// Where a file is (only the browser sends files).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum UploadState {
    /// On its way.
    Sending,
    /// Refused, with the server's sentence.
    Rejected(String),
}

/// A file picked for upload that the server has not accepted (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UploadRow {
    /// Tells rows apart (two files may share a name).
    pub(super) key: u64,
    /// The file's name.
    pub(super) filename: String,
    /// Its size.
    pub(super) size_bytes: i64,
    /// Where it is.
    pub(super) state: UploadState,
}

/// The uploads of this page: rows in flight or refused, and documents just accepted.
#[derive(Debug, Clone, Copy)]
pub(super) struct Uploads {
    /// Files sending or refused, newest first.
    pub(super) rows: RwSignal<Vec<UploadRow>>,
    /// Documents the server accepted, shown until the reloaded list has them.
    pub(super) recent: RwSignal<Vec<DocumentView>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    live: LiveState,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    next_key: StoredValue<u64>,
}

impl Uploads {
    /// No uploads yet; accepting one reloads `live`'s list.
    pub(super) fn new(live: LiveState) -> Self {
        Self {
            rows: RwSignal::new(Vec::new()),
            recent: RwSignal::new(Vec::new()),
            live,
            next_key: StoredValue::new(0),
        }
    }

    /// Forgets a refused file.
    pub(super) fn dismiss(self, key: u64) {
        self.rows.update(|rows| rows.retain(|row| row.key != key));
    }

    /// Sends every file, each in its own request, scoped to `agent_id` (empty: all agents).
    #[cfg(feature = "hydrate")]
    fn send_all(self, files: web_sys::FileList, agent_id: String) {
        for file in (0..files.length()).filter_map(|i| files.get(i)) {
            let key = self.next_key.get_value();
            self.next_key.set_value(key + 1);
            let row = UploadRow {
                key,
                filename: file.name(),
                size_bytes: file.size() as i64,
                state: UploadState::Sending,
            };
            self.rows.update(|rows| rows.insert(0, row.clone()));
            let agent_id = agent_id.clone();
            leptos::task::spawn_local(async move {
                match send(&file, &agent_id).await {
                    Ok(id) => {
                        self.dismiss(key);
                        self.recent.update(|recent| {
                            recent.insert(
                                0,
                                DocumentView {
                                    id,
                                    agent_id: Some(agent_id).filter(|a| !a.is_empty()),
                                    title: row.filename.clone(),
                                    filename: row.filename,
                                    size_bytes: row.size_bytes,
                                    status: "pending".into(),
                                    error: None,
                                    chunk_count: 0,
                                    chunks_embedded: 0,
                                    chunks_total: 0,
                                },
                            )
                        });
                        self.live.reload();
                    }
                    Err(message) => self.rows.update(|rows| {
                        if let Some(row) = rows.iter_mut().find(|row| row.key == key) {
                            row.state = UploadState::Rejected(message);
                        }
                    }),
                }
            });
        }
    }
}

/// The upload answer's documents (`{"documents": [{"id": …}]}`).
#[cfg(feature = "hydrate")]
#[derive(serde::Deserialize)]
struct Accepted {
    documents: Vec<AcceptedDocument>,
}

#[cfg(feature = "hydrate")]
#[derive(serde::Deserialize)]
struct AcceptedDocument {
    id: String,
}

/// The API's error body (`{"error": "…"}`).
#[cfg(feature = "hydrate")]
#[derive(serde::Deserialize)]
struct Refused {
    error: String,
}

/// Uploads one file; the new document's id, or the sentence to show next to the file.
#[cfg(feature = "hydrate")]
async fn send(file: &web_sys::File, agent_id: &str) -> Result<String, String> {
    use gloo_net::http::Request;

    let unreachable = |_| "Could not reach the server. Check your connection and try again.";
    let form = web_sys::FormData::new().map_err(|_| "Your browser cannot send files.")?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| "Your browser cannot send this file.")?;
    if !agent_id.is_empty() {
        form.append_with_str("agent_id", agent_id)
            .map_err(|_| "Your browser cannot send files.")?;
    }
    let response = Request::post("/api/v1/knowledge")
        .body(form)
        .map_err(unreachable)?
        .send()
        .await
        .map_err(unreachable)?;
    if response.status() == 202 {
        let accepted: Accepted = response
            .json()
            .await
            .map_err(|_| "The server's answer was unreadable. Reload the page to see the file.")?;
        return accepted
            .documents
            .into_iter()
            .next()
            .map(|d| d.id)
            .ok_or_else(|| "The server accepted nothing.".to_owned());
    }
    let status = response.status();
    match response.json::<Refused>().await {
        Ok(refused) => Err(refused.error),
        Err(_) if status == 413 => Err(format!(
            "\"{}\" is larger than the upload limit. Split it into smaller files.",
            file.name()
        )),
        Err(_) => Err(format!("The server refused the file (HTTP {status}).")),
    }
}

/// The drop zone with its file picker and scope.
#[component]
pub(super) fn UploadZone(uploads: Uploads, agents: Agents) -> impl IntoView {
    let (dragging, set_dragging) = signal(false);
    let scope = RwSignal::new(String::new());
    #[cfg(not(feature = "hydrate"))]
    let _ = (uploads, scope);

    let on_pick = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input: Option<web_sys::HtmlInputElement> =
                _ev.target().and_then(|t| t.dyn_into().ok());
            if let Some(input) = input {
                if let Some(files) = input.files() {
                    uploads.send_all(files, scope.get_untracked());
                }
                // Picking the same file again should send it again.
                input.set_value("");
            }
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        set_dragging.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            uploads.send_all(files, scope.get_untracked());
        }
    };
    let on_drag_over = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        set_dragging.set(true);
    };

    view! {
        <section aria-labelledby="upload-heading" class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="upload-heading" class="text-lg font-semibold">"Upload files"</h2>
            <p class="mt-1 text-sm text-slate-600">
                ".txt, .md, .html, .pdf or .docx — several at once. Each shows its progress below."
            </p>
            <label
                for="knowledge-files"
                class="mt-4 flex cursor-pointer flex-col items-center justify-center rounded-lg border-2 border-dashed px-6 py-10 text-center transition-colors"
                class=(["border-indigo-500", "bg-indigo-50"], move || dragging.get())
                class=(["border-slate-300", "hover:border-indigo-400"], move || !dragging.get())
                on:dragover=on_drag_over
                on:dragenter=on_drag_over
                on:dragleave=move |_| set_dragging.set(false)
                on:drop=on_drop
            >
                <span class="text-sm font-medium text-slate-800">"Drop files here"</span>
                <span class="mt-1 text-sm text-slate-600">
                    "or " <span class="font-medium text-indigo-600 underline">"choose files"</span>
                </span>
                <input
                    id="knowledge-files"
                    name="file"
                    type="file"
                    multiple=true
                    accept=".txt,.text,.md,.markdown,.html,.htm,.pdf,.docx"
                    aria-label="Choose files to upload"
                    class="sr-only"
                    on:change=on_pick
                />
            </label>
            // As inner HTML: a browser with JavaScript parses `<noscript>` as text, which
            // hydration must not walk into.
            <noscript inner_html=r#"<p class="mt-2 text-sm text-amber-700">Uploading files needs JavaScript; you can still paste text.</p>"# />
            <div class="mt-4">
                <ScopeSelect
                    id="upload-scope"
                    name="agent_id"
                    label="Who may use these files"
                    agents
                    on_change=Callback::new(move |value| scope.set(value))
                />
            </div>
        </section>
    }
}
