//! An agent's prompt history: every save that changes the system, inbound or outbound prompt
//! or the greeting is a numbered version (1, 2, …), written in the same transaction as the
//! agent row, so the newest version is always what the agent says.
//!
//! Restoring a version saves its text again as a new version: history only grows. The line
//! diff between two versions ([`diff`]) is pure.

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// The texts a version records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Prompts {
    /// The system prompt.
    pub system_prompt: String,
    /// Added to the system prompt on inbound calls.
    pub inbound_prompt: String,
    /// Added to the system prompt on outbound calls.
    pub outbound_prompt: String,
    /// What the agent says first.
    pub greeting: String,
}

impl Prompts {
    /// The texts with their labels, in the order the editor shows them.
    pub fn labelled(&self) -> [(&'static str, &str); 4] {
        [
            ("System prompt", &self.system_prompt),
            ("Greeting", &self.greeting),
            ("Inbound prompt", &self.inbound_prompt),
            ("Outbound prompt", &self.outbound_prompt),
        ]
    }
}

/// One saved version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PromptVersion {
    /// 1 for the agent's first save, then one more per change.
    pub version: i32,
    /// Its texts.
    #[sqlx(flatten)]
    pub prompts: Prompts,
    /// Who saved it (name, else email), if they still exist.
    pub author: Option<String>,
    /// When it was saved.
    pub created_at: OffsetDateTime,
}

/// Writes `prompts` as agent `agent_id`'s next version; returns its number.
///
/// Call inside the transaction that changed the agent, after locking its row
/// (`select … for update`), so two saves cannot take the same number.
pub(crate) async fn record(
    conn: &mut PgConnection,
    org_id: Uuid,
    agent_id: Uuid,
    author: Option<Uuid>,
    prompts: &Prompts,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "insert into agent_prompt_versions \
             (org_id, agent_id, version, system_prompt, inbound_prompt, outbound_prompt, greeting, created_by) \
         select $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7 \
           from agent_prompt_versions where org_id = $1 and agent_id = $2 \
         returning version",
    )
    .bind(org_id)
    .bind(agent_id)
    .bind(&prompts.system_prompt)
    .bind(&prompts.inbound_prompt)
    .bind(&prompts.outbound_prompt)
    .bind(&prompts.greeting)
    .bind(author)
    .fetch_one(conn)
    .await
}

const SELECT_VERSION: &str = "select v.version, v.system_prompt, v.inbound_prompt, v.outbound_prompt, v.greeting, \
            nullif(coalesce(nullif(u.name, ''), u.email), '') as author, v.created_at \
       from agent_prompt_versions v left join users u on u.id = v.created_by";

/// Agent `agent_id`'s versions, newest first (empty when the agent is not in `org_id`).
pub async fn list(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
) -> Result<Vec<PromptVersion>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SELECT_VERSION} where v.org_id = $1 and v.agent_id = $2 order by v.version desc"
    ))
    .bind(org_id)
    .bind(agent_id)
    .fetch_all(pool)
    .await
}

/// Version `version` of agent `agent_id`, if both exist in `org_id`.
pub async fn get(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
    version: i32,
) -> Result<Option<PromptVersion>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SELECT_VERSION} where v.org_id = $1 and v.agent_id = $2 and v.version = $3"
    ))
    .bind(org_id)
    .bind(agent_id)
    .bind(version)
    .fetch_optional(pool)
    .await
}

/// What restoring a version did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The old text is the agent's prompt again, saved as this new version.
    AsVersion(i32),
    /// The agent already says exactly that; nothing was written.
    Unchanged,
}

/// Makes version `version`'s text agent `agent_id`'s prompts again, as a new version.
/// `None` when the agent or the version is not in `org_id`.
pub async fn restore(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
    version: i32,
    author: Option<Uuid>,
) -> Result<Option<Restored>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let current: Option<Prompts> = sqlx::query_as(
        "select system_prompt, inbound_prompt, outbound_prompt, greeting \
           from agents where org_id = $1 and id = $2 for update",
    )
    .bind(org_id)
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = current else {
        return Ok(None);
    };
    let old: Option<Prompts> = sqlx::query_as(
        "select system_prompt, inbound_prompt, outbound_prompt, greeting \
           from agent_prompt_versions where org_id = $1 and agent_id = $2 and version = $3",
    )
    .bind(org_id)
    .bind(agent_id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(old) = old else {
        return Ok(None);
    };
    if old == current {
        return Ok(Some(Restored::Unchanged));
    }
    sqlx::query(
        "update agents set system_prompt = $3, inbound_prompt = $4, outbound_prompt = $5, \
                greeting = $6, updated_at = now() \
          where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(agent_id)
    .bind(&old.system_prompt)
    .bind(&old.inbound_prompt)
    .bind(&old.outbound_prompt)
    .bind(&old.greeting)
    .execute(&mut *tx)
    .await?;
    let new = record(&mut tx, org_id, agent_id, author, &old).await?;
    tx.commit().await?;
    Ok(Some(Restored::AsVersion(new)))
}

/// How a diff line changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineChange {
    /// In both versions.
    Same,
    /// Only in the older version.
    Removed,
    /// Only in the newer version.
    Added,
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// How it changed.
    pub change: LineChange,
    /// Its text, without the line break.
    pub text: String,
}

/// A run of changed lines with up to [`CONTEXT_LINES`] unchanged lines around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@`, as `diff -u` writes it.
    pub header: String,
    /// Its lines.
    pub lines: Vec<DiffLine>,
}

/// The changes to one text between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    /// Which text ("System prompt", "Greeting", …).
    pub label: &'static str,
    /// Its hunks, in order.
    pub hunks: Vec<Hunk>,
}

/// Unchanged lines shown around each change.
pub const CONTEXT_LINES: usize = 3;

/// The line diff from `old` to `new`: only the texts that changed, each as hunks.
pub fn diff(old: &Prompts, new: &Prompts) -> Vec<TextChange> {
    old.labelled()
        .into_iter()
        .zip(new.labelled())
        .filter(|((_, a), (_, b))| a != b)
        .map(|((label, a), (_, b))| TextChange {
            label,
            hunks: line_hunks(a, b),
        })
        .collect()
}

/// The hunks turning `old` into `new`, line by line.
pub fn line_hunks(old: &str, new: &str) -> Vec<Hunk> {
    let diff = TextDiff::from_lines(old, new);
    diff.grouped_ops(CONTEXT_LINES)
        .into_iter()
        .map(|group| {
            let (first, last) = (&group[0], &group[group.len() - 1]);
            let old_range = first.old_range().start..last.old_range().end;
            let new_range = first.new_range().start..last.new_range().end;
            let lines = group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| DiffLine {
                    change: match change.tag() {
                        ChangeTag::Equal => LineChange::Same,
                        ChangeTag::Delete => LineChange::Removed,
                        ChangeTag::Insert => LineChange::Added,
                    },
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                })
                .collect();
            Hunk {
                header: format!(
                    "@@ -{} +{} @@",
                    unified_range(old_range),
                    unified_range(new_range)
                ),
                lines,
            }
        })
        .collect()
}

/// `start,len` with a 1-based start (`diff -u`'s convention; an empty range names the line before).
fn unified_range(range: std::ops::Range<usize>) -> String {
    let len = range.end - range.start;
    let start = if len == 0 {
        range.start
    } else {
        range.start + 1
    };
    format!("{start},{len}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_database, seed_org, seed_org_with_agent};

    fn prompts(system: &str) -> Prompts {
        Prompts {
            system_prompt: system.into(),
            ..Prompts::default()
        }
    }

    fn rendered(hunk: &Hunk) -> Vec<String> {
        hunk.lines
            .iter()
            .map(|l| {
                let sign = match l.change {
                    LineChange::Same => ' ',
                    LineChange::Removed => '-',
                    LineChange::Added => '+',
                };
                format!("{sign}{}", l.text)
            })
            .collect()
    }

    #[test]
    fn a_changed_line_is_removed_then_added_between_its_neighbours() {
        let hunks = line_hunks("one\ntwo\nthree\n", "one\n2\nthree\n");
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].header, "@@ -1,3 +1,3 @@");
        assert_eq!(rendered(&hunks[0]), [" one", "-two", "+2", " three"]);
    }

    #[test]
    fn distant_changes_are_separate_hunks_with_three_lines_of_context() {
        let old: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let new = old
            .replace("line 2\n", "line two\n")
            .replace("line 18\n", "");
        let hunks = line_hunks(&old, &new);
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[0].header, "@@ -1,5 +1,5 @@");
        assert_eq!(hunks[1].header, "@@ -15,6 +15,5 @@");
        assert_eq!(
            rendered(&hunks[1]),
            [
                " line 15", " line 16", " line 17", "-line 18", " line 19", " line 20"
            ]
        );
    }

    #[test]
    fn only_texts_that_changed_are_listed() {
        let old = prompts("Be brief.");
        let new = Prompts {
            greeting: "Hi!".into(),
            ..old.clone()
        };
        let changes = diff(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].label, "Greeting");
        assert_eq!(rendered(&changes[0].hunks[0]), ["+Hi!"]);
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn a_text_without_a_final_newline_diffs_by_line() {
        let hunks = line_hunks("a\nb", "a\nc");
        assert_eq!(rendered(&hunks[0]), [" a", "-b", "+c"]);
    }

    #[tokio::test]
    async fn versions_number_up_and_a_restore_is_a_new_version() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        for text in ["first", "second"] {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("update agents set system_prompt = $1 where id = $2")
                .bind(text)
                .bind(agent)
                .execute(&mut *tx)
                .await
                .unwrap();
            record(&mut tx, org, agent, None, &prompts(text))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let versions = list(&pool, org, agent).await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            [2, 1]
        );

        let restored = restore(&pool, org, agent, 1, None).await.unwrap();
        assert_eq!(restored, Some(Restored::AsVersion(3)));
        let v3 = get(&pool, org, agent, 3).await.unwrap().unwrap();
        assert_eq!(v3.prompts.system_prompt, "first");
        let now: String = sqlx::query_scalar("select system_prompt from agents where id = $1")
            .bind(agent)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(now, "first");
        assert_eq!(
            restore(&pool, org, agent, 3, None).await.unwrap(),
            Some(Restored::Unchanged)
        );
    }

    #[tokio::test]
    async fn another_organization_sees_and_restores_nothing() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        let other = seed_org(&pool, "Other").await;
        let mut tx = pool.begin().await.unwrap();
        record(&mut tx, org, agent, None, &prompts("mine"))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert!(list(&pool, other, agent).await.unwrap().is_empty());
        assert!(get(&pool, other, agent, 1).await.unwrap().is_none());
        assert_eq!(restore(&pool, other, agent, 1, None).await.unwrap(), None);
        assert_eq!(list(&pool, org, agent).await.unwrap().len(), 1);
    }
}
