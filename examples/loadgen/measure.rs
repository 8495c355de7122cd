//! How the load generator measures: clients and the raw signing rate take turns.
//!
//! A phase is split into rounds. In each round the clients run against the servers for the
//! round's length (after a short ramp, not counted), then they pause, their requests in flight
//! finish, and the same key signs on as many threads as the servers have for as long again,
//! with the servers idle. Each round thus pairs a server rate with a raw rate measured seconds
//! apart, so that a machine whose speed drifts (shared cores, frequency scaling) moves both
//! alike, and the spread of the per-round ratios shows how steady the machine was.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rms::keys::PrivateKey;
use rms::transport::{Client, ClientOptions, Method};
use tokio::sync::watch;

use crate::Result;

/// How hard and how long a phase runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    /// Concurrent keep-alive clients.
    pub(crate) clients: usize,
    /// Counted time in all, split among the rounds.
    pub(crate) measured: Duration,
    /// Rounds the counted time is split into.
    pub(crate) rounds: usize,
    /// Time before the first round, not counted.
    pub(crate) warmup: Duration,
}

/// One request of a client (over HTTP or in process), as a future that says whether it was
/// granted.
pub(crate) type Call = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>> + Send + Sync,
>;

/// Whom the clients ask.
pub(crate) enum Target<'a> {
    /// The servers over HTTP, each client on a keep-alive connection of its own.
    Http {
        /// Server URLs; the clients are spread over them round robin.
        urls: Vec<String>,
        /// Bearer token of every client.
        token: &'a str,
        /// Path posted to.
        path: &'a str,
        /// JSON body posted.
        body: &'a [u8],
    },
    /// The roles themselves, called on the runtimes the servers would run on (no HTTP, no
    /// JSON, no client runtime): what the service layer alone can issue.
    InProcess {
        /// The nodes' runtimes and their call; the clients are spread over them round robin.
        nodes: Vec<(tokio::runtime::Handle, Call)>,
    },
}

/// What drives a phase: the clients, their request, and the key of the raw rate.
pub(crate) struct Load<'a> {
    /// How hard and how long.
    pub(crate) pace: Pace,
    /// Whom the clients ask, and what.
    pub(crate) target: Target<'a>,
    /// The servers' signing key, for the raw rate.
    pub(crate) key: &'a dyn PrivateKey,
    /// Threads of the raw rate: as many as the servers have in all.
    pub(crate) raw_threads: usize,
}

/// One round: the servers' rate and the raw rate measured right after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Round {
    /// Answers per second while the clients ran.
    pub(crate) rate: f64,
    /// Signatures per second of the raw signers.
    pub(crate) raw: f64,
}

/// What one phase measured.
pub(crate) struct Phase {
    /// Latencies of the answers counted, in microseconds.
    pub(crate) latencies_us: Vec<u64>,
    /// The rounds, in order.
    pub(crate) rounds: Vec<Round>,
    /// Failed requests, counted or not.
    pub(crate) errors: u64,
    /// Successful answers including ramps and warm-up, to compare with the database.
    pub(crate) all_successes: u64,
    /// Threads of the raw rate.
    pub(crate) raw_threads: usize,
}

impl Phase {
    /// Mean answers per second over the rounds.
    pub(crate) fn rate(&self) -> f64 {
        mean(self.rounds.iter().map(|r| r.rate))
    }

    /// Mean raw signatures per second over the rounds.
    pub(crate) fn raw_rate(&self) -> f64 {
        mean(self.rounds.iter().map(|r| r.raw))
    }

    /// The servers' rate over the raw rate (both over the same lengths of time).
    pub(crate) fn ratio(&self) -> f64 {
        self.rate() / self.raw_rate()
    }

    /// The lowest and the highest ratio of a single round.
    pub(crate) fn ratio_range(&self) -> (f64, f64) {
        self.rounds
            .iter()
            .map(|r| r.rate / r.raw)
            .fold((f64::INFINITY, 0.0), |(low, high), x| {
                (low.min(x), high.max(x))
            })
    }

    /// The `p`th percentile of the counted latencies, in milliseconds.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "statistics: counts and microseconds are exact as f64 below 2^53; p in 0..=100 \
                  rounds to an index in 0..=last (and `as` saturates, min(last) clamps)"
    )]
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let Some(last) = sorted.len().checked_sub(1) else {
            return 0.0;
        };
        let index = ((p / 100.0) * last as f64).round() as usize;
        sorted
            .get(index.min(last))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "statistics: a count is exact as f64 below 2^53"
)]
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// What the clients are told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Run,
    Pause,
    Stop,
}

/// Counters the clients share with the conductor.
#[derive(Default)]
struct Shared {
    successes: AtomicU64,
    errors: AtomicU64,
    in_flight: AtomicUsize,
    /// Whether an answer arriving now is counted (its latency recorded).
    counting: AtomicBool,
}

/// A request that has been sent and not yet answered; dropping it marks it answered.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Ramp after the clients resume, before a round is counted: long enough for every client to
/// have a request in flight again.
const RAMP: Duration = Duration::from_millis(250);

/// Runs a phase: the warm-up, then `pace.rounds` rounds of clients and raw signing in turn.
pub(crate) fn drive(load: &Load<'_>) -> Result<Phase> {
    let runtime = crate::runtime("loadgen-client", 1)?;
    let shared = Arc::new(Shared::default());
    let (gate, gate_rx) = watch::channel(Gate::Pause);
    let pace = load.pace;
    let round_length = pace.measured / u32::try_from(pace.rounds.max(1))?;
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for index in 0..pace.clients {
            let (runtime, call) = match &load.target {
                Target::Http {
                    urls,
                    token,
                    path,
                    body,
                } => {
                    let client = Client::new(
                        &urls[index % urls.len()],
                        ClientOptions {
                            token: Some((*token).to_owned()),
                            ..ClientOptions::default()
                        },
                    )?;
                    (
                        tokio::runtime::Handle::current(),
                        http_call(client, path, body),
                    )
                }
                Target::InProcess { nodes } => nodes[index % nodes.len()].clone(),
            };
            tasks.push(runtime.spawn(client_loop(call, gate_rx.clone(), shared.clone())));
        }
        let mut rounds = Vec::new();
        for round in 0..pace.rounds.max(1) {
            gate.send_replace(Gate::Run);
            tokio::time::sleep(if round == 0 {
                pace.warmup.max(RAMP)
            } else {
                RAMP
            })
            .await;
            let (before, started) = (shared.successes.load(Ordering::SeqCst), Instant::now());
            shared.counting.store(true, Ordering::SeqCst);
            tokio::time::sleep(round_length).await;
            shared.counting.store(false, Ordering::SeqCst);
            let (after, elapsed) = (shared.successes.load(Ordering::SeqCst), started.elapsed());
            gate.send_replace(Gate::Pause);
            while shared.in_flight.load(Ordering::SeqCst) > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let raw = raw_signing_rate(load.key, load.raw_threads, round_length)?;
            #[allow(
                clippy::cast_precision_loss,
                reason = "statistics: a count is exact as f64 below 2^53"
            )]
            let rate = (after - before) as f64 / elapsed.as_secs_f64();
            println!(
                "  round {}: {rate:.1}/s, raw {raw:.1}/s, ratio {:.3}",
                round + 1,
                rate / raw
            );
            rounds.push(Round { rate, raw });
        }
        gate.send_replace(Gate::Stop);
        let mut latencies_us = Vec::new();
        for task in tasks {
            latencies_us.extend(task.await?);
        }
        Ok(Phase {
            latencies_us,
            rounds,
            errors: shared.errors.load(Ordering::SeqCst),
            all_successes: shared.successes.load(Ordering::SeqCst),
            raw_threads: load.raw_threads,
        })
    })
}

/// A client's request over HTTP: posts `body` to `path`.
fn http_call(client: Client, path: &str, body: &[u8]) -> Call {
    // Shared, not cloned per request, so that the only copy a request makes is the body it
    // sends.
    let (client, path, body) = (Arc::new(client), Arc::<str>::from(path), body.to_vec());
    Arc::new(move || {
        let (client, path, body) = (client.clone(), path.clone(), body.clone());
        Box::pin(async move {
            client
                .send(Method::POST, &path, Some(body))
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    })
}

/// One client: makes its call again and again while the gate says run; returns the latencies
/// of its counted answers.
async fn client_loop(call: Call, mut gate: watch::Receiver<Gate>, shared: Arc<Shared>) -> Vec<u64> {
    let mut latencies = Vec::new();
    loop {
        match gate.wait_for(|g| *g != Gate::Pause).await.map(|g| *g) {
            Ok(Gate::Run) => {}
            Ok(Gate::Stop | Gate::Pause) | Err(_) => return latencies,
        }
        let in_flight = InFlight::new(&shared.in_flight);
        let sent = Instant::now();
        let outcome = call().await;
        match outcome {
            Ok(_) => {
                if shared.counting.load(Ordering::SeqCst) {
                    // Saturating: u64 microseconds are 584,000 years.
                    latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                }
                shared.successes.fetch_add(1, Ordering::SeqCst);
            }
            Err(error) => {
                if shared.errors.fetch_add(1, Ordering::SeqCst) < 3 {
                    eprintln!("loadgen: request failed: {error}");
                }
            }
        }
        drop(in_flight);
    }
}

/// The raw rate: the key signing on `threads` threads for `length`, in signatures per second.
#[allow(
    clippy::cast_precision_loss,
    reason = "statistics: a count is exact as f64 below 2^53"
)]
pub(crate) fn raw_signing_rate(
    key: &dyn PrivateKey,
    threads: usize,
    length: Duration,
) -> Result<f64> {
    let stop = AtomicBool::new(false);
    let message = [0x5au8; 1024];
    let started = Instant::now();
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        if key.sign(&message).is_err() {
                            return Err("raw signing failed");
                        }
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        std::thread::sleep(length);
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| "raw signing thread panicked")?)
            .collect::<std::result::Result<Vec<u64>, &str>>()
    })?;
    Ok(counts.iter().sum::<u64>() as f64 / started.elapsed().as_secs_f64())
}

/// OpenSSL's RSA signing and verifying rates on `threads` processes
/// (`openssl speed -multi THREADS -seconds SECONDS rsaBITS`), when `openssl` is on the PATH.
pub(crate) fn openssl_rates(threads: usize, seconds: u64, bits: usize) -> Option<(f64, f64)> {
    let mut command = std::process::Command::new("openssl");
    command.arg("speed");
    if threads > 1 {
        command.args(["-multi", &threads.to_string()]);
    }
    let out = command
        .args(["-seconds", &seconds.to_string(), &format!("rsa{bits}")])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The summary line: `rsa 2048 bits 0.000269s 0.000008s   3720.0 119000.0` (the per-second
    // figures are the last two numbers; with -multi they are the sum over the processes).
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("rsa") && l.contains(&format!("{bits} bits")))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter(|w| !w.ends_with('s'))
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers.as_slice() {
        [.., sign, verify] if numbers.len() >= 3 => Some((*sign, *verify)),
        _ => None,
    }
}
