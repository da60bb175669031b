//! The documents list: one row per document (or upload) with its status badge, progress bar,
//! chunk count, size, scope and error, and the delete and re-process forms.

use leptos::prelude::*;

use super::live::Row;
use super::upload::{UploadRow, UploadState, Uploads};
use crate::api::knowledge::{DeleteDocument, ReprocessDocument};
use crate::components::form::FormError;
use crate::dto::DocumentView;

/// Bytes for people: `512 bytes`, `3 KiB`, `1.2 MiB` (as the server's upload messages say it).
pub(super) fn human_size(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b >= KIB * KIB {
        let mib = b / (KIB * KIB);
        if mib.fract() < 0.05 {
            format!("{mib:.0} MiB")
        } else {
            format!("{mib:.1} MiB")
        }
    } else if b >= KIB {
        format!("{:.0} KiB", b / KIB)
    } else if bytes == 1 {
        "1 byte".to_owned()
    } else {
        format!("{bytes} bytes")
    }
}

/// How far along a document is: the bar's percentage, and what it means in words.
pub(super) fn progress(doc: &DocumentView) -> (u8, String) {
    let share = |done: i32, total: i32| {
        if total <= 0 {
            0
        } else {
            u8::try_from((i64::from(done.clamp(0, total)) * 100 / i64::from(total)).min(100))
                .unwrap_or(100)
        }
    };
    match doc.status.as_str() {
        "ready" => (100, "Ready".to_owned()),
        "failed" => (
            share(doc.chunks_embedded, doc.chunks_total),
            "Failed".to_owned(),
        ),
        "processing" if doc.chunks_total > 0 => (
            share(doc.chunks_embedded, doc.chunks_total),
            format!(
                "Embedding chunk {} of {}",
                doc.chunks_embedded, doc.chunks_total
            ),
        ),
        "processing" => (0, "Reading and splitting".to_owned()),
        _ => (0, "Waiting to be processed".to_owned()),
    }
}

/// `1 chunk`, `12 chunks`.
fn chunks(n: i32) -> String {
    if n == 1 {
        "1 chunk".to_owned()
    } else {
        format!("{n} chunks")
    }
}

/// The status badge: its words and colours.
fn badge(status: &str) -> (&'static str, &'static str) {
    match status {
        "ready" => (
            "Ready",
            "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
        ),
        "failed" => ("Failed", "bg-red-50 text-red-700 ring-red-600/20"),
        "processing" => (
            "Processing",
            "bg-indigo-50 text-indigo-700 ring-indigo-600/20",
        ),
        "sending" => (
            "Uploading",
            "bg-indigo-50 text-indigo-700 ring-indigo-600/20",
        ),
        "rejected" => ("Refused", "bg-red-50 text-red-700 ring-red-600/20"),
        _ => ("Waiting", "bg-slate-100 text-slate-700 ring-slate-500/20"),
    }
}

#[component]
fn Badge(status: &'static str) -> impl IntoView {
    let (label, colours) = badge(status);
    view! {
        <span class=format!("inline-flex shrink-0 items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {colours}")>
            {label}
        </span>
    }
}

#[component]
fn ProgressBar(
    /// What the bar is for, e.g. the document's title.
    of: String,
    /// 0–100.
    percent: u8,
    /// The state in words (read by screen readers and tests).
    text: String,
    /// Bar colour class.
    colour: &'static str,
    /// Whether it pulses (nothing measurable yet).
    #[prop(optional)]
    busy: bool,
) -> impl IntoView {
    let label = text.clone();
    view! {
        <div
            role="progressbar"
            aria-label=format!("{of} progress")
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=percent.to_string()
            aria-valuetext=text.clone()
            class="mt-3 flex items-center gap-3"
        >
            <div class="h-2 flex-1 overflow-hidden rounded-full bg-slate-100">
                <div
                    class=format!("h-2 rounded-full transition-[width] duration-300 {colour}")
                    class:animate-pulse=busy
                    style=format!("width: {}%", if busy { percent.max(15) } else { percent })
                ></div>
            </div>
            <span class="w-44 shrink-0 truncate text-right text-xs text-slate-500 sm:w-52">{label}</span>
        </div>
    }
}

/// The list, or its empty state.
#[component]
pub(super) fn DocumentList(
    rows: Memo<Vec<Row>>,
    delete: ServerAction<DeleteDocument>,
    reprocess: ServerAction<ReprocessDocument>,
    uploads: Uploads,
) -> impl IntoView {
    let failure = move |value: Option<Result<(), crate::error::AppError>>| {
        value.and_then(Result::err).map(|e| e.to_string())
    };
    let delete_error = Signal::derive(move || failure(delete.value().get()));
    let reprocess_error = Signal::derive(move || failure(reprocess.value().get()));
    view! {
        <div class="mt-4 space-y-2">
            <FormError message=delete_error />
            <FormError message=reprocess_error />
        </div>
        <Show
            when=move || rows.with(|rows| !rows.is_empty())
            fallback=|| {
                view! {
                    <div class="mt-4 rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
                        <p class="text-sm text-slate-600">"No documents yet. Upload files or paste text above."</p>
                    </div>
                }
            }
        >
            <ul
                aria-label="Documents"
                class="mt-4 divide-y divide-slate-200 overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm"
            >
                <For each=move || rows.get() key=Row::key let:row>
                    {match row {
                        Row::Upload(upload) => view! { <UploadItem upload uploads /> }.into_any(),
                        Row::Document { doc, scope } => {
                            view! { <DocumentItem doc scope delete reprocess /> }.into_any()
                        }
                    }}
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn DocumentItem(
    doc: DocumentView,
    scope: String,
    delete: ServerAction<DeleteDocument>,
    reprocess: ServerAction<ReprocessDocument>,
) -> impl IntoView {
    let (percent, text) = progress(&doc);
    let status: &'static str = badge_key(&doc.status);
    let colour = if doc.status == "failed" {
        "bg-red-500"
    } else if doc.status == "ready" {
        "bg-emerald-500"
    } else {
        "bg-indigo-500"
    };
    let busy = matches!(doc.status.as_str(), "pending" | "processing") && percent == 0;
    let mut details = Vec::new();
    if !doc.filename.is_empty() && doc.filename != doc.title {
        details.push(doc.filename.clone());
    }
    details.push(human_size(doc.size_bytes));
    details.push(scope);
    let chunk_count = (doc.status == "ready").then(|| chunks(doc.chunk_count));
    let (reprocess_id, delete_id) = (doc.id.clone(), doc.id.clone());
    let reprocess_label = format!("Re-process {}", doc.title);
    let delete_label = format!("Delete {}", doc.title);
    view! {
        <li class="px-4 py-4 sm:px-6" data-document-id=doc.id.clone()>
            <div class="flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
                <div class="min-w-0 flex-1">
                    <div class="flex items-center gap-2">
                        <p class="truncate text-sm font-medium text-slate-900" title=doc.title.clone()>{doc.title.clone()}</p>
                        <Badge status />
                    </div>
                    <p class="mt-1 text-xs text-slate-500">
                        {details.join(" · ")}
                        {chunk_count.map(|c| view! { " · " <span class="font-medium text-slate-700">{c}</span> })}
                    </p>
                </div>
                <div class="flex shrink-0 items-center gap-4">
                    <ActionForm action=reprocess>
                        <input type="hidden" name="id" value=reprocess_id />
                        <button
                            type="submit"
                            aria-label=reprocess_label
                            class="text-sm font-medium text-slate-600 hover:text-indigo-600"
                        >
                            "Re-process"
                        </button>
                    </ActionForm>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=delete_id />
                        <button
                            type="submit"
                            aria-label=delete_label
                            class="text-sm font-medium text-red-600 hover:text-red-800"
                        >
                            "Delete"
                        </button>
                    </ActionForm>
                </div>
            </div>
            <ProgressBar of=doc.title.clone() percent text colour busy />
            {doc.error.map(|error| view! { <p class="mt-2 text-sm text-red-600">{error}</p> })}
        </li>
    }
}

/// The badge for a document status (an unknown status reads as waiting).
fn badge_key(status: &str) -> &'static str {
    match status {
        "ready" => "ready",
        "failed" => "failed",
        "processing" => "processing",
        _ => "pending",
    }
}

#[component]
fn UploadItem(upload: UploadRow, uploads: Uploads) -> impl IntoView {
    let key = upload.key;
    let size = human_size(upload.size_bytes);
    let name = upload.filename.clone();
    view! {
        <li class="px-4 py-4 sm:px-6">
            <div class="flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
                <div class="min-w-0 flex-1">
                    <div class="flex items-center gap-2">
                        <p class="truncate text-sm font-medium text-slate-900" title=name.clone()>{name.clone()}</p>
                        <Badge status=match upload.state {
                            UploadState::Sending => "sending",
                            UploadState::Rejected(_) => "rejected",
                        } />
                    </div>
                    <p class="mt-1 text-xs text-slate-500">{size}</p>
                </div>
                {matches!(upload.state, UploadState::Rejected(_))
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                aria-label=format!("Dismiss {name}")
                                class="shrink-0 text-sm font-medium text-slate-600 hover:text-indigo-600"
                                on:click=move |_| uploads.dismiss(key)
                            >
                                "Dismiss"
                            </button>
                        }
                    })}
            </div>
            {match upload.state {
                UploadState::Sending => {
                    view! {
                        <ProgressBar of=name percent=0 text="Uploading".to_owned() colour="bg-indigo-500" busy=true />
                    }
                        .into_any()
                }
                UploadState::Rejected(message) => {
                    view! { <p role="alert" class="mt-2 text-sm text-red-600">{message}</p> }.into_any()
                }
            }}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(status: &str, done: i32, total: i32) -> DocumentView {
        DocumentView {
            id: "d".into(),
            agent_id: None,
            title: "T".into(),
            filename: String::new(),
            size_bytes: 1,
            status: status.into(),
            error: None,
            chunk_count: 0,
            chunks_embedded: done,
            chunks_total: total,
        }
    }

    #[test]
    fn sizes_read_like_the_servers_messages() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(3 * 1024 + 100), "3 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5 MiB");
        assert_eq!(human_size(1024 * 1024 * 12 / 10), "1.2 MiB");
    }

    #[test]
    fn progress_follows_the_embedded_share() {
        assert_eq!(progress(&doc("pending", 0, 0)).0, 0);
        assert_eq!(
            progress(&doc("processing", 0, 0)).1,
            "Reading and splitting"
        );
        assert_eq!(
            progress(&doc("processing", 3, 4)),
            (75, "Embedding chunk 3 of 4".to_owned())
        );
        assert_eq!(progress(&doc("processing", 9, 4)).0, 100);
        assert_eq!(progress(&doc("ready", 0, 0)), (100, "Ready".to_owned()));
        assert_eq!(progress(&doc("failed", 1, 2)), (50, "Failed".to_owned()));
    }

    #[test]
    fn one_chunk_is_singular() {
        assert_eq!(chunks(1), "1 chunk");
        assert_eq!(chunks(4), "4 chunks");
    }
}
