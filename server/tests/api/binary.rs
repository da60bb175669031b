//! The `switchboard` binary itself: start-up errors, and the embedded database's lifecycle.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;
use switchboard::postgres::{EmbeddedOptions, EmbeddedPostgres, PgBinaries};
use switchboard::testing::tools_dir;

fn switchboard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    // Isolate from a developer's .env and environment.
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SWITCHBOARD_TOOLS_DIR", tools_dir())
        .current_dir(std::env::temp_dir());
    cmd
}

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[test]
fn a_bad_setting_stops_start_up_with_a_message_naming_the_variable() {
    let output = switchboard()
        .env("RAG_CHUNK_LIMIT", "many")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("RAG_CHUNK_LIMIT must be a whole number from 1 to 50, got \"many\""),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_database_without_pgvector_is_refused_by_name() {
    // A copy of the PostgreSQL install with the vector extension removed.
    let copy = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(tools_dir().join("pgserver"))
        .arg(tools_dir().join("pgserver.libs"))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let extensions = copy
        .path()
        .join("pgserver/pginstall/share/postgresql/extension");
    let extensions = if extensions.is_dir() {
        extensions
    } else {
        copy.path().join("pgserver/pginstall/share/extension")
    };
    let mut removed = 0;
    for entry in std::fs::read_dir(&extensions).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("vector")
        {
            std::fs::remove_file(path).unwrap();
            removed += 1;
        }
    }
    assert!(
        removed > 0,
        "found the vector extension files to remove in {}",
        extensions.display()
    );
    let data = tempfile::tempdir().unwrap();
    let cluster = EmbeddedPostgres::start(EmbeddedOptions {
        binaries: PgBinaries::locate(copy.path()).unwrap(),
        data_dir: data.path().join("pg"),
        ephemeral: true,
        port: None,
    })
    .await
    .unwrap();

    let output = switchboard()
        .env("DATABASE_URL", cluster.url())
        .env("LEPTOS_SITE_ADDR", free_addr())
        .arg("migrate")
        .output()
        .unwrap();

    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("no `vector` extension"), "{all}");
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn the_embedded_database_starts_with_the_server_and_stops_with_it() {
    let data = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let mut child = switchboard()
        .env("SWITCHBOARD_DATA_DIR", data.path())
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let ready = wait_until_ready(&format!("http://{addr}/readyz"), Duration::from_secs(60)).await;
    assert!(ready, "the server never became ready");
    let pg_dir = data.path().join("postgres");
    assert!(
        pg_dir.join("PG_VERSION").is_file(),
        "initdb ran in {}",
        pg_dir.display()
    );
    assert!(
        pg_dir.join("postmaster.pid").is_file(),
        "postgres is running"
    );
    offline_knowledge_round_trip(&format!("http://{addr}")).await;

    terminate_cleanly(&mut child);
    assert!(
        !pg_dir.join("postmaster.pid").exists(),
        "postgres stopped with the server"
    );

    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let announced = stdout
        .lines()
        .any(|l| l.contains("embedded PostgreSQL at") && l.contains("DATABASE_URL"));
    assert!(
        announced,
        "one line says where the data lives and how to use another database:\n{stdout}"
    );
}

/// With no OpenAI key (the environment is cleared), a signed-in owner uploads a document and
/// the search test finds it: the local model is the default.
async fn offline_knowledge_round_trip(base: &str) {
    let (client, signed_up) = sign_up(base, "Offline Pizzeria", "owner@offline.example").await;
    assert!(
        signed_up.status().as_u16() < 400,
        "{:?}",
        signed_up.status()
    );
    let faq = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../src/knowledge/testdata/pizzeria-faq.md"
    ))
    .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(faq).file_name("faq.md"),
    );
    let uploaded = client
        .post(format!("{base}/api/v1/knowledge"))
        .header("origin", base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), reqwest::StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let listed: serde_json::Value = client
            .post(format!("{base}/api/knowledge/list"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if listed[0]["status"] == "ready" {
            break;
        }
        assert_ne!(listed[0]["status"], "failed", "{listed}");
        assert!(
            Instant::now() < deadline,
            "the document never became ready: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found: serde_json::Value = client
        .post(format!("{base}/api/knowledge/search"))
        .header("accept", "application/json")
        .form(&[("query", "Can I order by phone?")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let top = found[0]["content"].as_str().unwrap_or_default();
    assert!(top.contains("555-0100"), "{found}");
}

/// Signs an owner up at `base` through the sign-up form's server function; the client keeps
/// the session cookie.
async fn sign_up(base: &str, org: &str, email: &str) -> (reqwest::Client, reqwest::Response) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{base}/api/signup"))
        .header("accept", "application/json")
        .form(&[
            ("org_name", org),
            ("name", "Owner"),
            ("email", email),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    (client, response)
}

async fn wait_until_ready(url: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(url).await
            && response.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Sends SIGTERM and asserts a clean exit within 30 s.
fn terminate_cleanly(child: &mut std::process::Child) {
    let term = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    let status = wait_for_exit(child, Duration::from_secs(30));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "clean exit on SIGTERM"
    );
}

fn wait_for_exit(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[tokio::test]
async fn simulate_calls_an_agent_offline_and_writes_what_it_said() {
    let (url, pool) = switchboard::testing::fresh_database().await;
    let (org, agent) = switchboard::testing::seed_org_with_agent(&pool, "Sim").await;
    switchboard::store::agents::insert_phone_number(&pool, org, "+14155550177", Some(agent))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (wav, out) = (dir.path().join("caller.wav"), dir.path().join("agent.wav"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    for n in 0..24_000 {
        // 1.5 s of silence while the greeting plays, then a second of "speech".
        let speaking = (12_000..20_000).contains(&n);
        let t = n as f32 / 8_000.0;
        let sample = if speaking {
            (t * 440.0 * std::f32::consts::TAU).sin() * 10_000.0
        } else {
            0.0
        };
        writer.write_sample(sample as i16).unwrap();
    }
    writer.finalize().unwrap();

    let output = tokio::task::spawn_blocking({
        let (wav, out) = (wav.clone(), out.clone());
        move || {
            switchboard()
                .env("DATABASE_URL", url)
                .env("LOG_LEVEL", "warn")
                .args([
                    "simulate",
                    "--agent",
                    "front desk",
                    "--linger",
                    "3",
                    "--wav",
                ])
                .arg(&wav)
                .arg("--out")
                .arg(&out)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    println!("{stdout}"); // `--nocapture` shows what a person running it sees
    assert!(stdout.contains("offline fake engine"), "{stdout}");
    assert!(stdout.contains("calling Front desk"), "{stdout}");
    assert!(
        stdout.contains(" agent: "),
        "the transcript is printed: {stdout}"
    );
    assert!(stdout.contains("first agent audio"), "{stdout}");
    assert!(
        stdout.contains("summary: "),
        "the offline fakes summarise the call too: {stdout}"
    );
    let written = hound::WavReader::open(&out).unwrap();
    assert!(
        written.len() > 1_600,
        "at least 0.2 s of agent audio: {}",
        written.len()
    );
    let lines: i64 = sqlx::query_scalar("select count(*) from call_transcript_lines")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(lines >= 1);
}

/// `switchboard fakes` stands in for both clouds: a server pointed at it assigns a number
/// through the fake Twilio REST API, the fake phone dials it, the fake Realtime engine talks, and
/// the fake chat API summarises — a whole call with no account anywhere.
#[tokio::test]
async fn the_offline_fakes_run_a_whole_call_dialled_to_an_assigned_number() {
    let (openai_port, twilio_port) = (free_port(), free_port());
    let mut fakes = switchboard()
        .args(["fakes", "--openai-port", &openai_port.to_string()])
        .args([
            "--twilio-port",
            &twilio_port.to_string(),
            "--number",
            "+15005550123",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (openai, twilio) = (
        format!("http://127.0.0.1:{openai_port}/v1"),
        format!("http://127.0.0.1:{twilio_port}"),
    );
    assert!(
        wait_until_ready(&format!("{twilio}/_fake/health"), Duration::from_secs(30)).await,
        "the fakes did not start"
    );
    let app = crate::helpers::spawn_app_with(&[
        ("OPENAI_BASE_URL", &openai),
        ("OPENAI_API_KEY", "sk-fake-offline"),
        ("EMBEDDINGS", "local"),
        ("TWILIO_API_BASE", &twilio),
        (
            "TWILIO_ACCOUNT_SID",
            switchboard::fakes::twilio::FAKE_ACCOUNT_SID,
        ),
        (
            "TWILIO_AUTH_TOKEN",
            switchboard::fakes::twilio::FAKE_AUTH_TOKEN,
        ),
    ])
    .await;
    let (org, agent) = switchboard::testing::seed_org_with_agent(&app.pool, "Dialled").await;
    switchboard::store::agents::insert_phone_number(&app.pool, org, "+15005550123", Some(agent))
        .await
        .unwrap();
    // What assigning the number does on Twilio's side.
    use switchboard::twilio_rest::{TwilioRest, TwilioRestConfig};
    let rest = TwilioRest::new(
        TwilioRestConfig::new(
            switchboard::fakes::twilio::FAKE_ACCOUNT_SID,
            switchboard::fakes::twilio::FAKE_AUTH_TOKEN,
        )
        .with_api_base(&twilio),
    )
    .unwrap();
    let number = rest.list_incoming_numbers().await.unwrap().remove(0);
    rest.configure_number(
        &number.sid,
        &app.url("/twilio/voice"),
        &app.url("/twilio/status"),
    )
    .await
    .unwrap();

    let dialled: serde_json::Value = reqwest::Client::new()
        .post(format!("{twilio}/_fake/dial"))
        .form(&[
            ("From", "+15005550006"),
            ("To", "+15005550123"),
            ("Seconds", "5"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call_sid = dialled["sid"].as_str().expect("the call's sid").to_owned();

    // The call ends, Twilio reports `completed`, and the summary job writes its summary.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (status, summary) = loop {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("select status, summary from calls where call_sid = $1")
                .bind(&call_sid)
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        if let Some((status, Some(summary))) = row.clone()
            && status == "completed"
        {
            break (status, summary);
        }
        assert!(
            Instant::now() < deadline,
            "the call did not finish: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, "completed");
    assert!(!summary.is_empty());
    let agent_lines: i64 = sqlx::query_scalar(
        "select count(*) from call_transcript_lines l join calls c on c.id = l.call_id \
          where c.call_sid = $1 and l.role = 'agent'",
    )
    .bind(&call_sid)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(agent_lines >= 1, "the agent spoke");
    app.stop().await;
    fakes.kill().unwrap();
    let _ = fakes.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_database_command_serves_one_migrated_cluster_that_two_instances_share() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut database = switchboard()
        .env("SWITCHBOARD_DATA_DIR", data.path())
        .args(["database", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first line of stdout is the URL, printed once the schema is in place.
    let mut stdout = std::io::BufReader::new(database.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    assert_eq!(line.trim(), format!("DATABASE_URL={url}"));
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let migrated: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        migrated > 0,
        "migrations applied before the URL was printed"
    );

    // Two instances on it: a user signed up on one is a user on the other.
    let (first, second) = (free_addr(), free_addr());
    let mut servers: Vec<_> = [&first, &second]
        .into_iter()
        .map(|addr| {
            switchboard()
                .env("DATABASE_URL", &url)
                .env("LEPTOS_SITE_ADDR", addr)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for addr in [&first, &second] {
        let readyz = format!("http://{addr}/readyz");
        let ready = wait_until_ready(&readyz, Duration::from_secs(60)).await;
        assert!(ready, "{addr} never became ready");
    }
    let (client, signed_up) = sign_up(
        &format!("http://{first}"),
        "Shared Pizzeria",
        "owner@shared.example",
    )
    .await;
    assert!(signed_up.status().is_success(), "{:?}", signed_up.status());
    let me: serde_json::Value = client
        .post(format!("http://{second}/api/me"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["org_name"], "Shared Pizzeria", "{me}");

    for server in &mut servers {
        let _ = server.kill();
        let _ = server.wait();
    }
    conn.close().await.unwrap();
    terminate_cleanly(&mut database);
    assert!(
        !data.path().join("postgres/postmaster.pid").exists(),
        "postgres stopped with the command"
    );
}
