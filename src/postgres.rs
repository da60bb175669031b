//! The embedded PostgreSQL + pgvector cluster Switchboard runs when no
//! `DATABASE_URL` is given, and the throw-away clusters tests run on.
//!
//! The binaries come from the PyPI wheel `pgserver` (PostgreSQL 16 with
//! pgvector), unpacked by the README's set-up into `.tools/pgserver`.
//!
//! Lifecycle: [`EmbeddedPostgres::start`] runs `initdb` on first use, starts
//! `postgres` on a free loopback port behind a tiny shell watchdog, and waits
//! until it accepts connections. The watchdog holds a pipe from us: when we
//! call [`EmbeddedPostgres::stop`] — or our process dies for any reason — the
//! pipe closes and the watchdog asks PostgreSQL for a fast shutdown, so no
//! cluster is ever left running behind us.
//!
//! PostgreSQL refuses to run as root. As root we run it in a user namespace
//! (`unshare --user`, files stay root-owned) or, where namespaces are not
//! allowed, as `nobody` through `setpriv` (the data directory is chowned).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sqlx::Connection;
use tokio::process::{Child, ChildStdin, Command};

/// What can go wrong starting or stopping an embedded cluster.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The PostgreSQL binaries are not where we looked.
    #[error(
        "PostgreSQL binaries not found in {dir} (run `make setup`, or set DATABASE_URL to use your own PostgreSQL)"
    )]
    BinariesMissing {
        /// The directory that should hold `bin/postgres`.
        dir: PathBuf,
    },
    /// `initdb` failed; `log` holds its output.
    #[error("initdb failed for {data_dir}: {log}")]
    InitDb {
        /// The data directory being initialised.
        data_dir: PathBuf,
        /// The tail of initdb's output.
        log: String,
    },
    /// The server exited or never accepted connections.
    #[error("PostgreSQL did not start (log {log_path}): {log}")]
    Start {
        /// Where the full server log is.
        log_path: PathBuf,
        /// The tail of the server log.
        log: String,
    },
    /// A file system or process error.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// Where the PostgreSQL + pgvector binaries are.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    bin_dir: PathBuf,
}

impl PgBinaries {
    /// Finds the binaries inside an unpacked `pgserver` wheel directory
    /// (the one holding `pgserver/pginstall/bin`).
    pub fn locate(tools_dir: &Path) -> Result<Self, EmbeddedError> {
        let bin_dir = tools_dir.join("pgserver/pginstall/bin");
        if bin_dir.join("postgres").is_file() && bin_dir.join("initdb").is_file() {
            Ok(Self { bin_dir })
        } else {
            Err(EmbeddedError::BinariesMissing {
                dir: tools_dir.to_path_buf(),
            })
        }
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

/// How a cluster should be started.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// The binaries to run.
    pub binaries: PgBinaries,
    /// The cluster's data directory; created and initialised if empty.
    pub data_dir: PathBuf,
    /// A throw-away cluster (tests): fsync off, and the data directory is
    /// deleted when the cluster stops, even if this process dies first.
    pub ephemeral: bool,
    /// The loopback port to listen on; a free one when `None`.
    pub port: Option<u16>,
}

/// A running PostgreSQL cluster owned by this process.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    watchdog: Child,
    lifeline: Option<ChildStdin>,
    port: u16,
    data_dir: PathBuf,
    log_path: PathBuf,
}

/// How PostgreSQL gets a non-root user when we are root.
#[derive(Debug, Clone, Copy)]
enum Identity {
    Same,
    UserNamespace,
    Nobody,
}

impl Identity {
    async fn detect() -> Self {
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        if !root {
            return Identity::Same;
        }
        let userns = Command::new("unshare")
            .args(["--user", "--map-user=1000", "--map-group=1000", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if userns {
            Identity::UserNamespace
        } else {
            Identity::Nobody
        }
    }

    fn command(self, program: &Path) -> Command {
        let mut cmd = match self {
            Identity::Same => Command::new(program),
            Identity::UserNamespace => {
                let mut cmd = Command::new("unshare");
                cmd.args(["--user", "--map-user=1000", "--map-group=1000"]);
                cmd.arg(program);
                cmd
            }
            Identity::Nobody => {
                let mut cmd = Command::new("setpriv");
                cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
                cmd.arg(program);
                cmd
            }
        };
        cmd.env("LC_ALL", "C");
        cmd
    }

    async fn own(self, dir: &Path) -> Result<(), EmbeddedError> {
        if let Identity::Nobody = self {
            let status = Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(dir)
                .status()
                .await
                .map_err(io("chown the data directory"))?;
            if !status.success() {
                return Err(EmbeddedError::Io {
                    context: format!("chown nobody {}", dir.display()),
                    source: std::io::Error::other(status.to_string()),
                });
            }
        }
        Ok(())
    }
}

/// Starts `"$@"` (postgres) and stops it with SIGINT (fast shutdown) once our
/// end of its stdin closes; exits with postgres' status if it dies first. An
/// ephemeral cluster's directory is deleted once postgres has exited.
/// (A background job's stdin is /dev/null in a non-interactive shell, so the
/// lifeline is handed to it as fd 3 explicitly.)
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null & pid=$!
( cat <&3 >/dev/null; kill -INT "$pid" 2>/dev/null ) &
exec 3<&-
wait "$pid"; status=$?
if [ -n "${SWITCHBOARD_PG_DISPOSE:-}" ]; then rm -rf "$SWITCHBOARD_PG_DISPOSE"; fi
exit "$status""#;

impl EmbeddedPostgres {
    /// Initialises the data directory if needed, starts the server and waits
    /// until it accepts connections.
    pub async fn start(options: EmbeddedOptions) -> Result<Self, EmbeddedError> {
        let identity = Identity::detect().await;
        let data_dir = absolute(&options.data_dir)?;
        // An ephemeral cluster keeps its log inside the directory that is disposed of.
        let log_path = if options.ephemeral {
            data_dir.join("server.log")
        } else {
            data_dir.with_extension("log")
        };
        if let Some(parent) = data_dir.parent() {
            std::fs::create_dir_all(parent).map_err(io(format!("create {}", parent.display())))?;
        }
        if !data_dir.join("PG_VERSION").is_file() {
            init_db(&options.binaries, identity, &data_dir).await?;
        }
        identity.own(&data_dir).await?;

        let port = match options.port {
            Some(port) => port,
            None => free_port()?,
        };
        let log = std::fs::File::create(&log_path)
            .map_err(io(format!("create {}", log_path.display())))?;
        let postgres = identity.command(&options.binaries.bin("postgres"));
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(WATCHDOG).arg("sh");
        cmd.arg(postgres.as_std().get_program());
        cmd.args(postgres.as_std().get_args());
        cmd.arg("-D").arg(&data_dir);
        cmd.args(["-p", &port.to_string()]);
        cmd.args(["-c", "listen_addresses=127.0.0.1"]);
        cmd.args(["-c", "unix_socket_directories="]);
        cmd.args(["-c", "max_connections=300"]);
        if options.ephemeral {
            for setting in [
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ] {
                cmd.args(["-c", setting]);
            }
            cmd.env("SWITCHBOARD_PG_DISPOSE", &data_dir);
        }
        cmd.env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(log.try_clone().map_err(io("clone log handle"))?)
            .stderr(log)
            // Its own process group: a ctrl-c in the terminal must reach us
            // first, so calls can drain before the database goes away.
            .process_group(0);
        let mut watchdog = cmd.spawn().map_err(io("spawn postgres"))?;
        let lifeline = watchdog.stdin.take();
        let mut cluster = Self {
            watchdog,
            lifeline,
            port,
            data_dir,
            log_path,
        };
        cluster.wait_ready().await?;
        Ok(cluster)
    }

    /// The URL of the cluster's `postgres` database (trust authentication on loopback).
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of one database in this cluster.
    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server (fast shutdown) and waits for it to exit.
    pub async fn stop(mut self) -> Result<(), EmbeddedError> {
        drop(self.lifeline.take());
        match tokio::time::timeout(Duration::from_secs(30), self.watchdog.wait()).await {
            Ok(status) => status.map(drop).map_err(io("wait for postgres to stop")),
            Err(_) => {
                let _ = self.watchdog.start_kill();
                Err(EmbeddedError::Start {
                    log_path: self.log_path.clone(),
                    log: "PostgreSQL did not stop within 30 s".into(),
                })
            }
        }
    }

    async fn wait_ready(&mut self) -> Result<(), EmbeddedError> {
        let url = self.url();
        for _ in 0..300 {
            if let Some(status) = self.watchdog.try_wait().map_err(io("poll postgres"))? {
                return Err(self.start_error(format!("postgres exited with {status}")));
            }
            if let Ok(conn) = sqlx::PgConnection::connect(&url).await {
                let _ = conn.close().await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(self.start_error("not accepting connections after 30 s".into()))
    }

    fn start_error(&self, what: String) -> EmbeddedError {
        EmbeddedError::Start {
            log_path: self.log_path.clone(),
            log: format!("{what}; {}", tail(&self.log_path)),
        }
    }
}

async fn init_db(
    binaries: &PgBinaries,
    identity: Identity,
    data_dir: &Path,
) -> Result<(), EmbeddedError> {
    std::fs::create_dir_all(data_dir).map_err(io(format!("create {}", data_dir.display())))?;
    identity.own(data_dir).await?;
    let output = identity
        .command(&binaries.bin("initdb"))
        .arg("-D")
        .arg(data_dir)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ])
        .output()
        .await
        .map_err(io("run initdb"))?;
    if output.status.success() {
        return Ok(());
    }
    let log = String::from_utf8_lossy(&output.stderr).trim().to_string();
    // A half-initialised directory would make every later start fail the same way.
    let _ = std::fs::remove_dir_all(data_dir);
    Err(EmbeddedError::InitDb {
        data_dir: data_dir.to_path_buf(),
        log,
    })
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(path).map_err(io(format!("resolve {}", path.display())))
}

fn free_port() -> Result<u16, EmbeddedError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(io("find a free loopback port"))?;
    let port = listener.local_addr().map_err(io("read the port"))?.port();
    Ok(port)
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_name_the_directory_and_the_fix() {
        let err = PgBinaries::locate(Path::new("/nonexistent/tools")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("/nonexistent/tools"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn the_log_tail_keeps_the_last_lines_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pg.log");
        std::fs::write(&path, "1\n2\n3\n4\n5\n6\n7\n").unwrap();
        assert_eq!(tail(&path), "3 | 4 | 5 | 6 | 7");
    }
}
