//! Configuration: parsed once from the environment (and `.env`) at start-up.
//!
//! Nothing else reads environment variables. Every error names the variable
//! and says what is wrong; secrets are wrapped so `Debug` never prints them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that needs it (an HTTP header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`LEPTOS_SITE_ADDR`, default `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// The database to use, or the embedded cluster.
    pub database: DatabaseConfig,
    /// The URL Twilio and browsers reach us at (`PUBLIC_BASE_URL`), no trailing slash. Unset:
    /// each request's own `X-Forwarded-Proto`/`X-Forwarded-Host` (or `Host`) say, which works
    /// behind a proxy that sets them; outbound calls need it set.
    pub public_base_url: Option<String>,
    /// Where the built site (JS, wasm, CSS) is (`LEPTOS_SITE_ROOT`, default `target/site`).
    pub site_root: PathBuf,
    /// OpenAI settings.
    pub openai: OpenAiConfig,
    /// Twilio settings.
    pub twilio: TwilioConfig,
    /// Retrieval defaults.
    pub rag: RagConfig,
    /// Documents: how they are embedded, how large they may be, how many workers ingest them.
    pub knowledge: KnowledgeConfig,
    /// Logging.
    pub log: LogConfig,
    /// How long live calls may go on after SIGTERM (`SHUTDOWN_DRAIN_SECS`, default 30).
    pub shutdown_drain: std::time::Duration,
}

/// Which PostgreSQL to use.
#[derive(Debug, Clone)]
pub enum DatabaseConfig {
    /// `DATABASE_URL` was set.
    External {
        /// The connection URL (may hold a password).
        url: Secret,
    },
    /// Run a private cluster under `data_dir` with binaries from `tools_dir`.
    Embedded {
        /// `SWITCHBOARD_DATA_DIR`/postgres (default `./data/postgres`).
        data_dir: PathBuf,
        /// `SWITCHBOARD_TOOLS_DIR` (default `./.tools`), holding the unpacked `pgserver` wheel.
        tools_dir: PathBuf,
    },
}

/// OpenAI settings.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// `OPENAI_API_KEY`; without it the product runs offline (local embeddings, no live engine).
    pub api_key: Option<Secret>,
    /// `OPENAI_BASE_URL`, default `https://api.openai.com/v1`.
    pub base_url: String,
    /// `OPENAI_REALTIME_MODEL`, default `gpt-realtime`.
    pub realtime_model: String,
    /// `OPENAI_SUMMARY_MODEL`, default `gpt-4o-mini`.
    pub summary_model: String,
}

/// Twilio settings.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// `TWILIO_ACCOUNT_SID`.
    pub account_sid: Option<String>,
    /// `TWILIO_AUTH_TOKEN`: signs webhooks and authenticates REST calls.
    pub auth_token: Option<Secret>,
    /// `TWILIO_API_BASE`, default `https://api.twilio.com`.
    pub api_base: String,
}

/// Retrieval defaults, overridable per agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RagConfig {
    /// `RAG_CHUNK_LIMIT`, default 5.
    pub chunk_limit: u32,
    /// `RAG_SIMILARITY_THRESHOLD`: default 0.7 with OpenAI embeddings,
    /// [`LOCAL_SIMILARITY_THRESHOLD`] with the local model.
    pub similarity_threshold: f32,
}

/// The default similarity threshold with the local model: it keeps 94 % of the relevant top-5
/// hits of the evaluation set, where 0.7 keeps 3 %.
pub const LOCAL_SIMILARITY_THRESHOLD: f32 = 0.35;

/// Which embedder turns documents and queries into vectors.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbeddingsConfig {
    /// all-MiniLM-L6-v2 in-process, from `EMBEDDING_MODEL_DIR` (default
    /// `$SWITCHBOARD_TOOLS_DIR/all-minilm-l6-v2`): the default without an OpenAI key, so
    /// everything works offline.
    Local {
        /// Where `model.safetensors`, `tokenizer.json` and `config.json` are.
        model_dir: PathBuf,
    },
    /// An OpenAI-compatible `/embeddings` endpoint at `OPENAI_BASE_URL`.
    OpenAi {
        /// `OPENAI_EMBEDDING_MODEL`, default `text-embedding-3-small`.
        model: String,
    },
}

/// Knowledge-base settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeConfig {
    /// `EMBEDDINGS`: `local` or `openai`; default `openai` when `OPENAI_API_KEY` is set, else `local`.
    pub embeddings: EmbeddingsConfig,
    /// `KNOWLEDGE_MAX_UPLOAD_MB`, default 20.
    pub max_upload_bytes: usize,
    /// `JOB_WORKERS`: background jobs (ingestion, summaries) run at once on this instance, default 2.
    pub job_workers: usize,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// `LOG_LEVEL`: an `EnvFilter` directive such as `info` or `switchboard=debug,info`.
    pub level: String,
    /// `LOG_FORMAT`: `pretty` (default) or `json`.
    pub json: bool,
}

/// A configuration error: which variable, and what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable} {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong, as the end of a sentence.
    pub problem: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let addr = parse_or(
            &get,
            "LEPTOS_SITE_ADDR",
            "127.0.0.1:3000".parse().expect("valid"),
            "must be an address like 127.0.0.1:3000",
        )?;
        let public_base_url = match get("PUBLIC_BASE_URL") {
            Some(url) => Some(http_url("PUBLIC_BASE_URL", &url)?),
            None => None,
        };
        let database = match get("DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DatabaseConfig::External {
                    url: Secret::new(url),
                }
            }
            Some(_) => {
                return Err(ConfigError {
                    variable: "DATABASE_URL",
                    problem:
                        "must start with postgres:// (or unset it to use the embedded PostgreSQL)"
                            .into(),
                });
            }
            None => {
                let data: PathBuf = get("SWITCHBOARD_DATA_DIR")
                    .unwrap_or_else(|| "data".into())
                    .into();
                DatabaseConfig::Embedded {
                    data_dir: data.join("postgres"),
                    tools_dir: get("SWITCHBOARD_TOOLS_DIR")
                        .unwrap_or_else(|| ".tools".into())
                        .into(),
                }
            }
        };
        let openai = OpenAiConfig {
            api_key: get("OPENAI_API_KEY").map(Secret::new),
            base_url: http_url(
                "OPENAI_BASE_URL",
                &get("OPENAI_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()),
            )?,
            realtime_model: get("OPENAI_REALTIME_MODEL").unwrap_or_else(|| "gpt-realtime".into()),
            summary_model: get("OPENAI_SUMMARY_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
        };
        let twilio = TwilioConfig {
            account_sid: get("TWILIO_ACCOUNT_SID"),
            auth_token: get("TWILIO_AUTH_TOKEN").map(Secret::new),
            api_base: http_url(
                "TWILIO_API_BASE",
                &get("TWILIO_API_BASE").unwrap_or_else(|| "https://api.twilio.com".into()),
            )?,
        };
        if let Some(sid) = &twilio.account_sid
            && !(sid.starts_with("AC") && sid.len() == 34)
        {
            return Err(ConfigError {
                variable: "TWILIO_ACCOUNT_SID",
                problem: "must be your Twilio Account SID: 34 characters starting with AC".into(),
            });
        }
        let chunk_limit: u32 = parse_or(
            &get,
            "RAG_CHUNK_LIMIT",
            5,
            "must be a whole number from 1 to 50",
        )?;
        if !(1..=50).contains(&chunk_limit) {
            return Err(ConfigError {
                variable: "RAG_CHUNK_LIMIT",
                problem: format!("must be a whole number from 1 to 50, got {chunk_limit}"),
            });
        }
        let knowledge = knowledge_config(&get, openai.api_key.is_some())?;
        // Cosine scores depend on the model: all-MiniLM-L6-v2 rates relevant passages around
        // 0.4–0.65 (the evaluation in src/knowledge/eval), so 0.7 would drop nearly all of them.
        let default_threshold = match knowledge.embeddings {
            EmbeddingsConfig::Local { .. } => LOCAL_SIMILARITY_THRESHOLD,
            EmbeddingsConfig::OpenAi { .. } => 0.7,
        };
        let similarity_threshold: f32 = parse_or(
            &get,
            "RAG_SIMILARITY_THRESHOLD",
            default_threshold,
            "must be a number from 0 to 1, like 0.7",
        )?;
        if !(0.0..=1.0).contains(&similarity_threshold) {
            return Err(ConfigError {
                variable: "RAG_SIMILARITY_THRESHOLD",
                problem: format!(
                    "must be a number from 0 to 1, like 0.7, got {similarity_threshold}"
                ),
            });
        }
        let level = get("LOG_LEVEL").unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
            return Err(ConfigError {
                variable: "LOG_LEVEL",
                problem: format!(
                    "must be a level (error, warn, info, debug, trace) or a filter like `switchboard=debug,info`, got {level:?}"
                ),
            });
        }
        let json = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => false,
            Some("json") => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: "LOG_FORMAT",
                    problem: format!("must be `pretty` or `json`, got {other:?}"),
                });
            }
        };
        let drain_secs: u64 = parse_or(
            &get,
            "SHUTDOWN_DRAIN_SECS",
            30,
            "must be a whole number of seconds, like 30",
        )?;
        Ok(Config {
            shutdown_drain: std::time::Duration::from_secs(drain_secs),
            addr,
            database,
            public_base_url,
            site_root: get("LEPTOS_SITE_ROOT")
                .unwrap_or_else(|| "target/site".into())
                .into(),
            openai,
            twilio,
            rag: RagConfig {
                chunk_limit,
                similarity_threshold,
            },
            knowledge,
            log: LogConfig { level, json },
        })
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

fn knowledge_config(
    get: &impl Fn(&str) -> Option<String>,
    has_openai_key: bool,
) -> Result<KnowledgeConfig, ConfigError> {
    let embeddings = match get("EMBEDDINGS").as_deref() {
        Some("local") => "local",
        Some("openai") if has_openai_key => "openai",
        Some("openai") => {
            return Err(ConfigError {
                variable: "EMBEDDINGS",
                problem: "is `openai`, which needs OPENAI_API_KEY (or use `local`)".into(),
            });
        }
        Some(other) => {
            return Err(ConfigError {
                variable: "EMBEDDINGS",
                problem: format!("must be `local` or `openai`, got {other:?}"),
            });
        }
        None if has_openai_key => "openai",
        None => "local",
    };
    let embeddings = if embeddings == "openai" {
        EmbeddingsConfig::OpenAi {
            model: get("OPENAI_EMBEDDING_MODEL").unwrap_or_else(|| "text-embedding-3-small".into()),
        }
    } else {
        EmbeddingsConfig::Local {
            model_dir: match get("EMBEDDING_MODEL_DIR") {
                Some(dir) => dir.into(),
                None => {
                    PathBuf::from(get("SWITCHBOARD_TOOLS_DIR").unwrap_or_else(|| ".tools".into()))
                        .join("all-minilm-l6-v2")
                }
            },
        }
    };
    let max_upload_mb: usize = parse_or(
        get,
        "KNOWLEDGE_MAX_UPLOAD_MB",
        20,
        "must be a whole number of megabytes from 1 to 500",
    )?;
    if !(1..=500).contains(&max_upload_mb) {
        return Err(ConfigError {
            variable: "KNOWLEDGE_MAX_UPLOAD_MB",
            problem: format!(
                "must be a whole number of megabytes from 1 to 500, got {max_upload_mb}"
            ),
        });
    }
    let job_workers: usize =
        parse_or(get, "JOB_WORKERS", 2, "must be a whole number from 1 to 32")?;
    if !(1..=32).contains(&job_workers) {
        return Err(ConfigError {
            variable: "JOB_WORKERS",
            problem: format!("must be a whole number from 1 to 32, got {job_workers}"),
        });
    }
    Ok(KnowledgeConfig {
        embeddings,
        max_upload_bytes: max_upload_mb * 1024 * 1024,
        job_workers,
    })
}

fn parse_or<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
    expected: &str,
) -> Result<T, ConfigError> {
    match get(variable) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| ConfigError {
            variable,
            problem: format!("{expected}, got {raw:?}"),
        }),
    }
}

fn http_url(variable: &'static str, raw: &str) -> Result<String, ConfigError> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !host.contains(char::is_whitespace) =>
        {
            Ok(raw.trim_end_matches('/').to_owned())
        }
        _ => Err(ConfigError {
            variable,
            problem: format!("must be an http(s) URL like https://example.com, got {raw:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_run_offline_on_the_embedded_database() {
        let config = config(&[]).unwrap();
        assert!(
            matches!(config.database, DatabaseConfig::Embedded { ref data_dir, .. } if data_dir == &PathBuf::from("data/postgres"))
        );
        assert_eq!(
            config.public_base_url, None,
            "the request's own headers decide"
        );
        assert_eq!(
            config.rag,
            RagConfig {
                chunk_limit: 5,
                similarity_threshold: LOCAL_SIMILARITY_THRESHOLD
            }
        );
        assert!(config.openai.api_key.is_none());
        assert_eq!(config.openai.realtime_model, "gpt-realtime");
        assert_eq!(
            config.knowledge,
            KnowledgeConfig {
                embeddings: EmbeddingsConfig::Local {
                    model_dir: ".tools/all-minilm-l6-v2".into()
                },
                max_upload_bytes: 20 * 1024 * 1024,
                job_workers: 2,
            }
        );
        assert!(!config.secure_cookies());
    }

    #[test]
    fn errors_name_the_variable_and_the_problem() {
        let err = config(&[("RAG_CHUNK_LIMIT", "lots")]).unwrap_err();
        assert_eq!(err.variable, "RAG_CHUNK_LIMIT");
        assert!(
            err.to_string()
                .starts_with("RAG_CHUNK_LIMIT must be a whole number"),
            "{err}"
        );
        assert!(err.to_string().contains("\"lots\""), "{err}");

        assert_eq!(
            config(&[("RAG_SIMILARITY_THRESHOLD", "1.5")])
                .unwrap_err()
                .variable,
            "RAG_SIMILARITY_THRESHOLD"
        );
        assert_eq!(
            config(&[("DATABASE_URL", "mysql://x")])
                .unwrap_err()
                .variable,
            "DATABASE_URL"
        );
        assert_eq!(
            config(&[("PUBLIC_BASE_URL", "example.com")])
                .unwrap_err()
                .variable,
            "PUBLIC_BASE_URL"
        );
        assert_eq!(
            config(&[("TWILIO_ACCOUNT_SID", "nope")])
                .unwrap_err()
                .variable,
            "TWILIO_ACCOUNT_SID"
        );
        assert_eq!(
            config(&[("LOG_FORMAT", "xml")]).unwrap_err().variable,
            "LOG_FORMAT"
        );
        assert_eq!(
            config(&[("LEPTOS_SITE_ADDR", "here")])
                .unwrap_err()
                .variable,
            "LEPTOS_SITE_ADDR"
        );
    }

    #[test]
    fn an_openai_key_switches_embeddings_to_openai_unless_told_otherwise() {
        let with_key = config(&[("OPENAI_API_KEY", "sk-x")]).unwrap();
        assert_eq!(with_key.rag.similarity_threshold, 0.7);
        assert_eq!(
            with_key.knowledge.embeddings,
            EmbeddingsConfig::OpenAi {
                model: "text-embedding-3-small".into()
            }
        );
        let local = config(&[("OPENAI_API_KEY", "sk-x"), ("EMBEDDINGS", "local")]).unwrap();
        assert!(matches!(
            local.knowledge.embeddings,
            EmbeddingsConfig::Local { .. }
        ));
        let err = config(&[("EMBEDDINGS", "openai")]).unwrap_err();
        assert_eq!(err.variable, "EMBEDDINGS");
        assert!(err.problem.contains("OPENAI_API_KEY"), "{err}");
        for (variable, value) in [
            ("EMBEDDINGS", "cohere"),
            ("KNOWLEDGE_MAX_UPLOAD_MB", "0"),
            ("KNOWLEDGE_MAX_UPLOAD_MB", "big"),
            ("JOB_WORKERS", "100"),
        ] {
            assert_eq!(config(&[(variable, value)]).unwrap_err().variable, variable);
        }
        let sized = config(&[("KNOWLEDGE_MAX_UPLOAD_MB", "5")]).unwrap();
        assert_eq!(sized.knowledge.max_upload_bytes, 5 * 1024 * 1024);
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let config = config(&[
            ("OPENAI_API_KEY", "sk-very-secret"),
            ("TWILIO_AUTH_TOKEN", "tw-very-secret"),
            ("DATABASE_URL", "postgres://u:db-very-secret@h/d"),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        for secret in ["sk-very-secret", "tw-very-secret", "db-very-secret"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        assert_eq!(config.openai.api_key.unwrap().expose(), "sk-very-secret");
    }

    #[test]
    fn https_public_urls_get_secure_cookies_and_lose_the_trailing_slash() {
        let config = config(&[("PUBLIC_BASE_URL", "https://calls.example.com/")]).unwrap();
        assert_eq!(
            config.public_base_url.as_deref(),
            Some("https://calls.example.com")
        );
        assert!(config.secure_cookies());
    }
}
