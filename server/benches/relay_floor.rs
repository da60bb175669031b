//! The floor under `call_load`: what the same traffic costs a process that does nothing but
//! move it. Each call is two loopback TCP connections to a relay process — the caller's and the
//! engine's — and both ends send one 320-byte message every 20 ms (a Twilio `media` frame and a
//! Realtime audio delta are about that size). The relay copies every byte it reads on one
//! connection to the other, in 4 KiB reads on a default tokio runtime: no WebSocket framing, no
//! JSON, no call session, no marks. It is the smallest amount of work any bridge that forwards
//! each 20 ms frame as it arrives must do, so its CPU per call-minute is a lower bound for
//! `switchboard`'s figure in `call_load` (which also reads Twilio's mark echoes).
//!
//! `--relay epoll` runs the relay without tokio: one thread, mio's epoll, edge-triggered reads
//! until each socket is drained, and `--coalesce-us N` makes it sleep N µs before each wait, so
//! several arrivals share a wake-up. Both are there to show the floor is the kernel's, not tokio's.
//!
//! With `--traffic caller` only the caller's side sends: the agent is silent, and what is left
//! is the traffic every Twilio bridge carries for the whole call (Twilio streams the caller's
//! line, silence included, as a frame every 20 ms, and each must reach the engine as it comes).
//!
//! ```text
//! cargo bench -p server --bench relay_floor                       # 10, 100, 200, 500, 1000 calls
//! cargo bench -p server --bench relay_floor -- --calls 200 --window 30 --traffic caller
//! cargo bench -p server --bench relay_floor -- --calls 200 --relay epoll --coalesce-us 250
//! ```

#[path = "support/proc.rs"]
mod proc;

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// One message: a frame's worth of JSON, stamped with its send time in the first 8 bytes.
const MESSAGE_BYTES: usize = 320;
/// A message delivered later than this has missed its 20 ms slot.
const LATE_US: u32 = 20_000;
const FRAME: Duration = Duration::from_millis(20);

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_us() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut calls = vec![10, 100, 200, 500, 1000];
    let mut window = Duration::from_secs(20);
    let mut agent_talks = true;
    let mut relay = RelayKind::Tokio;
    let mut coalesce = Duration::ZERO;
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--calls" => calls = pair[1].split(',').filter_map(|n| n.parse().ok()).collect(),
            "--window" => window = Duration::from_secs(pair[1].parse().unwrap_or(20)),
            "--traffic" => agent_talks = pair[1] != "caller",
            "--relay" if pair[1] == "epoll" => relay = RelayKind::Epoll,
            "--coalesce-us" => coalesce = Duration::from_micros(pair[1].parse().unwrap_or(0)),
            _ => {}
        }
    }
    if args.iter().any(|a| a == RELAY_PROCESS) {
        return match relay {
            RelayKind::Tokio => tokio::runtime::Runtime::new()?.block_on(tokio_relay()),
            RelayKind::Epoll => epoll_relay(coalesce),
        };
    }
    let relay_args = [
        RELAY_PROCESS.to_owned(),
        "--relay".to_owned(),
        relay.name().to_owned(),
        "--coalesce-us".to_owned(),
        coalesce.as_micros().to_string(),
    ];
    tokio::runtime::Runtime::new()?.block_on(load(&calls, window, agent_talks, &relay_args))
}

/// Run by the bench as its own child: the relay process.
const RELAY_PROCESS: &str = "--relay-process";

#[derive(Clone, Copy)]
enum RelayKind {
    Tokio,
    Epoll,
}

impl RelayKind {
    fn name(self) -> &'static str {
        match self {
            Self::Tokio => "tokio",
            Self::Epoll => "epoll",
        }
    }
}

/// The relay process: prints its port, then pairs connections in accept order (caller, engine)
/// and copies each one's bytes to the other until either closes.
async fn tokio_relay() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    loop {
        let (caller, _) = listener.accept().await?;
        let (engine, _) = listener.accept().await?;
        let (caller_rx, caller_tx) = nodelay(caller)?.into_split();
        let (engine_rx, engine_tx) = nodelay(engine)?.into_split();
        tokio::spawn(copy(caller_rx, engine_tx));
        tokio::spawn(copy(engine_rx, caller_tx));
    }
}

fn nodelay(socket: TcpStream) -> std::io::Result<TcpStream> {
    socket.set_nodelay(true)?;
    Ok(socket)
}

async fn copy(mut from: OwnedReadHalf, mut to: OwnedWriteHalf) {
    let mut buffer = [0u8; 4096];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The same relay on one thread with mio's epoll. Connection `2k` is call `k`'s caller and
/// `2k + 1` its engine; a socket is read until it would block (edge-triggered), each read written
/// whole to its peer. Sleeping `coalesce` before each wait lets arrivals pile up per wake-up.
fn epoll_relay(coalesce: Duration) -> anyhow::Result<()> {
    use mio::{Events, Interest, Poll, Token};
    const LISTENER: Token = Token(usize::MAX);
    let mut poll = Poll::new()?;
    let mut listener = mio::net::TcpListener::bind("127.0.0.1:0".parse()?)?;
    println!("{}", listener.local_addr()?.port());
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut sockets: Vec<mio::net::TcpStream> = Vec::new();
    let mut events = Events::with_capacity(1024);
    loop {
        if !coalesce.is_zero() {
            std::thread::sleep(coalesce);
        }
        poll.poll(&mut events, None)?;
        for event in &events {
            if event.token() != LISTENER {
                pump(&mut sockets, event.token().0);
                continue;
            }
            while let Ok((mut socket, _)) = listener.accept() {
                socket.set_nodelay(true)?;
                let token = Token(sockets.len());
                poll.registry()
                    .register(&mut socket, token, Interest::READABLE)?;
                sockets.push(socket);
                // A caller's bytes that came before its engine was accepted were left unread.
                pump(&mut sockets, token.0 ^ 1);
            }
        }
    }
}

/// Copies what socket `from` has to its peer, until it would block; nothing while the peer is
/// not accepted yet. Writes spin on a full send buffer, which this traffic never fills.
fn pump(sockets: &mut [mio::net::TcpStream], from: usize) {
    use std::io::{ErrorKind, Read, Write};
    let to = from ^ 1;
    if to >= sockets.len() || from >= sockets.len() {
        return;
    }
    let mut buffer = [0u8; 4096];
    loop {
        match sockets[from].read(&mut buffer) {
            Ok(0) => {
                let _ = sockets[to].shutdown(std::net::Shutdown::Write);
                return;
            }
            Ok(n) => {
                let mut rest = &buffer[..n];
                while !rest.is_empty() {
                    match sockets[to].write(rest) {
                        Ok(written) => rest = &rest[written..],
                        Err(e) if e.kind() == ErrorKind::WouldBlock => std::hint::spin_loop(),
                        Err(_) => return,
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return, // WouldBlock: drained
        }
    }
}

/// What one direction of every call adds to.
#[derive(Default)]
struct Direction {
    sent: AtomicU64,
    latencies: Mutex<Vec<u32>>,
}

async fn load(
    calls: &[usize],
    window: Duration,
    agent_talks: bool,
    relay_args: &[String],
) -> anyhow::Result<()> {
    now_us();
    println!(
        "relay_floor: raw TCP relay ({}, coalescing {} µs), {MESSAGE_BYTES}-byte messages every 20 ms {}",
        relay_args[2],
        relay_args[4],
        if agent_talks {
            "both ways"
        } else {
            "from the caller only"
        }
    );
    println!(
        "{:>6} {:>21} {:>21} {:>14} {:>6} {:>10} {:>13} {:>9}",
        "calls",
        "caller→engine p50/p99",
        "engine→caller p50/p99",
        "CPU s/call-min",
        "kernel",
        "RSS/call",
        "late in/out",
        "bench CPU"
    );
    for &n in calls {
        let mut relay = Relay::start(relay_args)?;
        let rss_idle = relay.rss_kib();
        let (inbound, outbound) = (
            Arc::new(Direction::default()),
            Arc::new(Direction::default()),
        );
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        for i in 0..n {
            // Accept order pairs the two connections, so open them one after the other.
            let caller = nodelay(TcpStream::connect(("127.0.0.1", relay.port)).await?)?;
            let engine = nodelay(TcpStream::connect(("127.0.0.1", relay.port)).await?)?;
            // Spread the calls' 20 ms phases, as real calls would be.
            let phase = FRAME * i as u32 / n as u32;
            let (caller_rx, caller_tx) = caller.into_split();
            let (engine_rx, engine_tx) = engine.into_split();
            tasks.push(tokio::spawn(send(
                caller_tx,
                phase,
                inbound.clone(),
                stop.clone(),
                true,
            )));
            tasks.push(tokio::spawn(send(
                engine_tx,
                phase,
                outbound.clone(),
                stop.clone(),
                agent_talks,
            )));
            tasks.push(tokio::spawn(receive(engine_rx, inbound.clone())));
            tasks.push(tokio::spawn(receive(caller_rx, outbound.clone())));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (cpu0, bench0) = (relay.cpu(), proc::own_cpu_secs());
        let t0 = Instant::now();
        tokio::time::sleep(window).await;
        let (cpu1, bench1) = (relay.cpu(), proc::own_cpu_secs());
        let cpu = cpu1.since(cpu0);
        let elapsed = t0.elapsed().as_secs_f64();
        let rss = relay.rss_kib();
        stop.cancel();
        for task in tasks {
            task.await?;
        }
        relay.stop();

        let mut row = Vec::new();
        let mut late = Vec::new();
        for direction in [&inbound, &outbound] {
            let mut latencies = std::mem::take(&mut *direction.latencies.lock().expect("ok"));
            let sent = direction.sent.load(Ordering::Relaxed) as usize;
            anyhow::ensure!(
                latencies.len() == sent,
                "{} of {sent} messages arrived",
                latencies.len()
            );
            late.push(latencies.iter().filter(|&&l| l > LATE_US).count());
            latencies.sort_unstable();
            let at = |p: f64| latencies[((p / 100.0) * (latencies.len() - 1) as f64) as usize];
            row.push(if latencies.is_empty() {
                "-".to_owned()
            } else {
                format!("{}/{} µs", at(50.0), at(99.0))
            });
        }
        println!(
            "{n:>6} {:>21} {:>21} {:>14.4} {:>5.0}% {:>7.0} KiB {:>13} {:>8.0}%",
            row[0],
            row[1],
            cpu.total() / (n as f64 * elapsed / 60.0),
            100.0 * cpu.system / cpu.total(),
            rss.saturating_sub(rss_idle) as f64 / n as f64,
            format!("{}/{}", late[0], late[1]),
            100.0 * (bench1 - bench0) / elapsed,
        );
    }
    println!(
        "\nCPU and RSS are the relay process's, kernel its share of CPU spent in the kernel; bench CPU is this process (both ends of every call)."
    );
    Ok(())
}

/// One stamped message every 20 ms until `stop` (none if not `talks`); then closes its side of
/// the connection.
async fn send(
    mut socket: OwnedWriteHalf,
    phase: Duration,
    direction: Arc<Direction>,
    stop: CancellationToken,
    talks: bool,
) {
    if !talks {
        stop.cancelled().await;
        let _ = socket.shutdown().await;
        return;
    }
    let mut message = [b'x'; MESSAGE_BYTES];
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + phase, FRAME);
    let mut sent = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticker.tick() => {
                message[..8].copy_from_slice(&now_us().to_le_bytes());
                if socket.write_all(&message).await.is_err() {
                    break;
                }
                sent += 1;
            }
        }
    }
    direction.sent.fetch_add(sent, Ordering::Relaxed);
    let _ = socket.shutdown().await;
}

/// Reads whole messages until the relay closes the connection, recording each one's latency.
async fn receive(socket: OwnedReadHalf, direction: Arc<Direction>) {
    let mut reader = BufReader::with_capacity(4096, socket);
    let mut latencies = Vec::with_capacity(4096);
    let mut message = [0u8; MESSAGE_BYTES];
    while reader.read_exact(&mut message).await.is_ok() {
        let sent = u64::from_le_bytes(message[..8].try_into().expect("8 bytes"));
        latencies.push(now_us().saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
    }
    direction.latencies.lock().expect("ok").extend(latencies);
}

/// The relay: this bench binary again, as [`RELAY_PROCESS`].
struct Relay {
    child: Child,
    port: u16,
}

impl Relay {
    fn start(args: &[String]) -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()?;
        let mut port = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("piped")),
            &mut port,
        )?;
        Ok(Self {
            port: port.trim().parse()?,
            child,
        })
    }

    fn cpu(&self) -> proc::CpuTimes {
        proc::cpu_times(self.child.id())
    }

    fn rss_kib(&self) -> u64 {
        proc::rss_kib(self.child.id())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}
