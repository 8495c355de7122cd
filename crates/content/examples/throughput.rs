//! Throughput of the streaming AES-256-GCM candidates in memory, beside `openssl speed -evp
//! aes-256-gcm -bytes 16384` measured in the same run: why `src/gcm.rs` is built as it is.
//! Protecting and opening files is measured by the `content_speed` example.
//!
//! ```text
//! cargo run --release -p rms-content --example throughput -- 1GiB [--rounds N]
//! ```
//!
//! It measures, for `SIZE` octets, sealed and opened over and over in one 1 MiB buffer, each
//! candidate first checked against aws-lc's one-shot AES-256-GCM:
//!
//! - `aws-lc ctr + aws-lc ghash`: the crate's construction (`src/gcm.rs`, compiled here);
//! - `aws-lc ctr + rustcrypto ghash`: the `ghash` crate (CLMUL) for the hash;
//! - `rustcrypto aes-ctr + ghash`: `aes`, `ctr` and `ghash`, no aws-lc;
//! - `aws-lc one-shot (16 KiB)`: not streaming; what `openssl speed` measures, for scale;
//!
//! and the peak resident memory (`VmHWM` of `/proc/self/status`).
//!
//! Each measurement is the best of `--rounds` (default 3), timed two ways: by the CPU time of
//! this thread (`/proc/thread-self/schedstat`, user and system time), against `openssl
//! speed`'s default figure, which divides by OpenSSL's user CPU time; and by the wall clock,
//! against `openssl speed -elapsed`. On a machine shared with other work the CPU-time ratio is
//! the stable one: both sides then count only the time they ran.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub,
    dead_code
)]

#[path = "../src/gcm.rs"]
mod gcm;

use std::process::Command;
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use ghash::universal_hash::UniversalHash;

const CHUNK: usize = 1 << 20;
const KEY: [u8; 32] = [0x42; 32];
const NONCE: [u8; 12] = [0x24; 12];

#[allow(
    clippy::cast_precision_loss,
    reason = "figures for people: octet counts as f64 are exact below 2^53, and the last digit would not matter"
)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = args
        .first()
        .map(|s| parse_size(s).unwrap_or_else(|| panic!("cannot read the size {s:?}")))
        .unwrap_or(1 << 30);
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let rounds: usize = option("--rounds").map_or(3, |r| r.parse().expect("--rounds N"));

    println!(
        "size: {} octets ({:.2} GiB), best of {rounds}",
        size,
        size as f64 / (1u64 << 30) as f64
    );
    let openssl_cpu = openssl_speed(false);
    let openssl_wall = openssl_speed(true);
    match (openssl_cpu, openssl_wall) {
        (Some(cpu), Some(wall)) => println!(
            "openssl speed -evp aes-256-gcm -bytes 16384: {} per CPU second, {} per wall second (-elapsed)",
            gbps(cpu),
            gbps(wall)
        ),
        _ => println!("openssl speed: not available (no openssl on the PATH)"),
    }
    let report = |name: &str, m: Measure| {
        let cpu = size as f64 / m.cpu.as_secs_f64();
        let wall = size as f64 / m.wall.as_secs_f64();
        let ratio = |rate: f64, reference: Option<f64>| {
            reference.map_or(String::new(), |o| format!(" (ratio {:.2})", rate / o))
        };
        println!(
            "  {name:<42} cpu {}{}   wall {}{}",
            gbps(cpu),
            ratio(cpu, openssl_cpu),
            gbps(wall),
            ratio(wall, openssl_wall)
        );
    };

    println!("\nstreaming AES-256-GCM in memory (1 MiB chunks):");
    check_candidates();
    let candidates: [(&str, Candidate); 4] = [
        ("aws-lc ctr + aws-lc ghash (chosen)", run_crate_gcm),
        (
            "aws-lc ctr + rustcrypto ghash",
            run_aws_ctr_rustcrypto_ghash,
        ),
        ("rustcrypto aes-ctr + ghash", run_rustcrypto),
        ("aws-lc one-shot (16 KiB)", run_one_shot),
    ];
    for (name, run) in candidates {
        for (direction, open) in [("seal", false), ("open", true)] {
            report(
                &format!("{name} {direction}"),
                best(rounds, || run(size, open)),
            );
        }
    }

    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        });
    println!(
        "\npeak resident memory: {}",
        hwm.as_deref().unwrap_or("unknown (no /proc)")
    );
}

fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let unit = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(unit)
}

fn gbps(rate: f64) -> String {
    format!("{:6.2} GB/s", rate / 1e9)
}

/// Seals (or opens) a number of octets; returns how long that took.
type Candidate = fn(u64, bool) -> Measure;

/// How long something took: on this thread's CPU and on the wall clock.
#[derive(Clone, Copy)]
struct Measure {
    cpu: Duration,
    wall: Duration,
}

/// The best of `rounds` (by CPU time, and by wall time apart).
fn best(rounds: usize, mut f: impl FnMut() -> Measure) -> Measure {
    let all: Vec<Measure> = (0..rounds.max(1)).map(|_| f()).collect();
    Measure {
        cpu: all.iter().map(|m| m.cpu).min().unwrap_or_default(),
        wall: all.iter().map(|m| m.wall).min().unwrap_or_default(),
    }
}

/// CPU time of this thread so far (user and system), from `/proc/self/schedstat`
/// (nanoseconds); zero where there is none.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .or_else(|_| std::fs::read_to_string("/proc/self/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn timed(f: impl FnOnce()) -> Measure {
    let (cpu, wall) = (cpu_time(), Instant::now());
    f();
    Measure {
        cpu: cpu_time().saturating_sub(cpu),
        wall: wall.elapsed(),
    }
}

/// `openssl speed -evp aes-256-gcm -bytes 16384`, in octets per second: per second of
/// OpenSSL's user CPU time (its default), or per wall-clock second (`-elapsed`).
fn openssl_speed(elapsed: bool) -> Option<f64> {
    let mut args = vec!["speed"];
    if elapsed {
        args.push("-elapsed");
    }
    args.extend(["-evp", "aes-256-gcm", "-bytes", "16384", "-seconds", "3"]);
    let out = Command::new("openssl").args(&args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.to_ascii_uppercase().starts_with("AES-256-GCM"))?;
    let value = line.split_whitespace().last()?.trim_end_matches('k');
    value.parse::<f64>().ok().map(|k| k * 1000.0)
}

// --- The candidates, each sealing (or opening) `size` octets in 1 MiB chunks.

fn run_crate_gcm(size: u64, open: bool) -> Measure {
    let mut buf = vec![0x5au8; CHUNK];
    timed(|| {
        let mut gcm = gcm::StreamingGcm::new(&KEY, &NONCE, &[]).unwrap();
        for_chunks(size, &mut buf, |chunk| {
            if open {
                gcm.open_chunk(chunk).unwrap();
            } else {
                gcm.seal_chunk(chunk).unwrap();
            }
        });
        std::hint::black_box(gcm.tag());
    })
}

/// aws-lc's AES-256-CTR with the `ghash` crate's GHASH.
struct AwsCtrRustCryptoGhash {
    ctr: EncryptingKey,
    ghash: ghash::GHash,
    counter: u128,
    ek_j0: [u8; 16],
    len: u64,
}

impl AwsCtrRustCryptoGhash {
    fn new() -> Self {
        let ctr = EncryptingKey::ctr(UnboundCipherKey::new(&AES_256, &KEY).unwrap()).unwrap();
        let block = |counter: u128| {
            let mut b = [0u8; 16];
            ctr.less_safe_encrypt(
                &mut b,
                EncryptionContext::Iv128(FixedLength::from(counter.to_be_bytes())),
            )
            .unwrap();
            b
        };
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(&NONCE);
        j0[15] = 1;
        let j0 = u128::from_be_bytes(j0);
        let h = block(0);
        let ek_j0 = block(j0);
        Self {
            ghash: ghash::GHash::new(&h.into()),
            ctr,
            counter: j0 + 1,
            ek_j0,
            len: 0,
        }
    }

    fn ctr(&mut self, chunk: &mut [u8]) {
        let context = EncryptionContext::Iv128(FixedLength::from(self.counter.to_be_bytes()));
        self.ctr.less_safe_encrypt(chunk, context).unwrap();
        self.counter += chunk.len().div_ceil(16) as u128;
        self.len += chunk.len() as u64;
    }

    fn seal(&mut self, chunk: &mut [u8]) {
        self.ctr(chunk);
        self.ghash.update_padded(chunk);
    }

    fn open(&mut self, chunk: &mut [u8]) {
        self.ghash.update_padded(chunk);
        self.ctr(chunk);
    }

    fn tag(mut self) -> [u8; 16] {
        let lengths = u128::from(self.len * 8).to_be_bytes();
        self.ghash.update(&[lengths.into()]);
        let s: [u8; 16] = self.ghash.finalize().into();
        let mut tag = [0u8; 16];
        for i in 0..16 {
            tag[i] = s[i] ^ self.ek_j0[i];
        }
        tag
    }
}

fn run_aws_ctr_rustcrypto_ghash(size: u64, open: bool) -> Measure {
    let mut buf = vec![0x5au8; CHUNK];
    timed(|| {
        let mut gcm = AwsCtrRustCryptoGhash::new();
        for_chunks(size, &mut buf, |chunk| {
            if open {
                gcm.open(chunk);
            } else {
                gcm.seal(chunk);
            }
        });
        std::hint::black_box(gcm.tag());
    })
}

/// RustCrypto's AES-256-CTR (`aes`, `ctr`) with its GHASH.
struct RustCryptoGcm {
    ctr: ctr::Ctr128BE<aes::Aes256>,
    ghash: ghash::GHash,
    ek_j0: [u8; 16],
    len: u64,
}

impl RustCryptoGcm {
    fn new() -> Self {
        use aes::cipher::{BlockCipherEncrypt, KeyInit as _, KeyIvInit};
        let aes = aes::Aes256::new(&KEY.into());
        let mut h = [0u8; 16].into();
        aes.encrypt_block(&mut h);
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(&NONCE);
        j0[15] = 1;
        let mut ek_j0 = j0.into();
        aes.encrypt_block(&mut ek_j0);
        let first = (u128::from_be_bytes(j0) + 1).to_be_bytes();
        Self {
            ctr: ctr::Ctr128BE::<aes::Aes256>::new(&KEY.into(), &first.into()),
            ghash: ghash::GHash::new(&h),
            ek_j0: ek_j0.into(),
            len: 0,
        }
    }

    fn seal(&mut self, chunk: &mut [u8]) {
        use aes::cipher::StreamCipher;
        self.ctr.apply_keystream(chunk);
        self.ghash.update_padded(chunk);
        self.len += chunk.len() as u64;
    }

    fn open(&mut self, chunk: &mut [u8]) {
        use aes::cipher::StreamCipher;
        self.ghash.update_padded(chunk);
        self.ctr.apply_keystream(chunk);
        self.len += chunk.len() as u64;
    }

    fn tag(mut self) -> [u8; 16] {
        let lengths = u128::from(self.len * 8).to_be_bytes();
        self.ghash.update(&[lengths.into()]);
        let s: [u8; 16] = self.ghash.finalize().into();
        let mut tag = [0u8; 16];
        for i in 0..16 {
            tag[i] = s[i] ^ self.ek_j0[i];
        }
        tag
    }
}

fn run_rustcrypto(size: u64, open: bool) -> Measure {
    let mut buf = vec![0x5au8; CHUNK];
    timed(|| {
        let mut gcm = RustCryptoGcm::new();
        for_chunks(size, &mut buf, |chunk| {
            if open {
                gcm.open(chunk);
            } else {
                gcm.seal(chunk);
            }
        });
        std::hint::black_box(gcm.tag());
    })
}

/// aws-lc's one-shot AES-256-GCM on 16 KiB messages (what `openssl speed` does), `size`
/// octets in all. Opening here decrypts and checks each message's own tag.
fn run_one_shot(size: u64, open: bool) -> Measure {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &KEY).unwrap());
    let mut buf = vec![0x5au8; 16384];
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(NONCE), Aad::empty(), &mut buf)
        .unwrap();
    let sealed = buf.clone();
    timed(|| {
        let mut done = 0;
        while done < size {
            if open {
                buf.copy_from_slice(&sealed);
                key.open_separate_gather(
                    Nonce::assume_unique_for_key(NONCE),
                    Aad::empty(),
                    &sealed,
                    tag.as_ref(),
                    &mut buf,
                )
                .unwrap();
            } else {
                let _ = std::hint::black_box(
                    key.seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(NONCE),
                        Aad::empty(),
                        &mut buf,
                    )
                    .unwrap(),
                );
            }
            done += buf.len() as u64;
        }
    })
}

fn for_chunks(size: u64, buf: &mut [u8], mut f: impl FnMut(&mut [u8])) {
    let mut done = 0u64;
    while done < size {
        let n = usize::try_from(size - done).map_or(buf.len(), |left| left.min(buf.len()));
        f(&mut buf[..n]);
        done += n as u64;
    }
}

/// Every candidate seals to what aws-lc's one-shot GCM seals, over several chunkings.
fn check_candidates() {
    for len in [0usize, 1, 100, CHUNK, 2 * CHUNK + 33] {
        #[allow(clippy::cast_possible_truncation, reason = "i * 31 % 251 is below 251")]
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &KEY).unwrap());
        let mut expected = plaintext.clone();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(NONCE),
            Aad::empty(),
            &mut expected,
        )
        .unwrap();

        let mut data = plaintext.clone();
        let mut a = gcm::StreamingGcm::new(&KEY, &NONCE, &[]).unwrap();
        data.chunks_mut(CHUNK)
            .for_each(|c| a.seal_chunk(c).unwrap());
        data.extend_from_slice(&a.tag());
        assert_eq!(data, expected, "aws-lc ctr + aws-lc ghash, {len} octets");

        let mut data = plaintext.clone();
        let mut b = AwsCtrRustCryptoGhash::new();
        data.chunks_mut(CHUNK).for_each(|c| b.seal(c));
        data.extend_from_slice(&b.tag());
        assert_eq!(
            data, expected,
            "aws-lc ctr + rustcrypto ghash, {len} octets"
        );

        let mut data = plaintext.clone();
        let mut c = RustCryptoGcm::new();
        data.chunks_mut(CHUNK).for_each(|ch| c.seal(ch));
        data.extend_from_slice(&c.tag());
        assert_eq!(data, expected, "rustcrypto, {len} octets");
    }
    println!("  (each candidate checked against aws-lc's one-shot AES-256-GCM first)");
}
