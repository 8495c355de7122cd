//! Protecting and opening a file, file to file, beside `openssl speed -evp aes-256-gcm` at
//! 16 KiB blocks measured in the same run, with the peak memory of each operation.
//!
//! ```text
//! cargo run --release -p rms-content --example content_speed -- [SIZE] [--rounds N] [--dir DIR] [--seconds S]
//! ```
//!
//! `SIZE` defaults to 1GiB (suffixes k, m, g: KiB, MiB, GiB). The example makes a licensing
//! cluster and a publishing license, writes a file of `SIZE` octets in a temporary folder in
//! `DIR` (default: the system's temporary folder), syncs it (so that the kernel's write-back of
//! it does not run during the measurements) and reads it once (so that it is in the page
//! cache). Then each of `--rounds` rounds (default 5) runs, one after the other:
//!
//! 1. `openssl speed -elapsed -evp aes-256-gcm -bytes 16384 -seconds S` (one thread; default
//!    `S` = 3), whose figure is per wall-clock second;
//! 2. a plain copy of the file (read and write in blocks of `CHUNK_LEN`, no crypto), for scale;
//! 3. `protect_file` of the file into a protected file beside it;
//! 4. `open_file` of that protected file into a third file, compared with the original
//!    afterwards (untimed).
//!
//! Steps 2 to 4 each run in a child process (this example started again with `--child`), which
//! times only the operation and reports its peak resident memory (`VmHWM`), so that the figure
//! is that of the operation and not of the PKI set up beforehand. Outputs are removed between
//! steps, so no step pays for deleting the previous one's file. Each round's throughputs are
//! divided by that round's OpenSSL figure; the summary gives the median over the rounds.
//!
//! The CPU time of the children (all threads, user and system, from `/proc/self/stat`) is
//! reported too: overlapping I/O with AES-GCM takes the wall-clock time down, not the CPU.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use rms_cert::{
    ContentPolicy, EnrollmentRequest, Grant, Issuer, RsaSigner, ServerId, ServerIdentity,
    ServerRole, Signer, UsageRights, issue_publishing_license,
};
use rms_content::{CHUNK_LEN, ContentKey, Envelope, FileMetadata, info, open_file, protect_file};
use rms_policy::ValidityPolicy;

/// Block of the plain copy (the size of the crate's reads and writes) and of writing the input.
const BLOCK: usize = CHUNK_LEN;

#[allow(
    clippy::cast_precision_loss,
    reason = "figures for people: octet counts and KiB as f64 are exact below 2^53, and the last digit would not matter"
)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..]);
        return;
    }
    let size = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map_or(1 << 30, |s| {
            parse_size(s).unwrap_or_else(|| panic!("cannot read the size {s:?}"))
        });
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let dir = option("--dir").map_or_else(std::env::temp_dir, PathBuf::from);
    let rounds: usize = option("--rounds").map_or(5, |r| r.parse().expect("--rounds N"));
    let seconds: u32 = option("--seconds").map_or(3, |s| s.parse().expect("--seconds S"));

    let work = tempfile::tempdir_in(&dir).expect("a folder to work in");
    let plain = work.path().join("plain.bin");
    let protected = work.path().join("plain.bin.rms");
    let opened = work.path().join("opened.bin");
    let copy = work.path().join("copy.bin");
    let envelope_file = work.path().join("envelope.rms");

    println!(
        "size {size} octets ({:.2} GiB), {rounds} rounds, in {}",
        size as f64 / f64::from(1u32 << 30),
        dir.display()
    );
    println!("load average before: {}", load_average());
    let (key, envelope) = publishing();
    // The children get the envelope from the clear part of a small protected file, and the
    // (throw-away) content key in hex.
    let metadata = FileMetadata::new("plain.bin", "application/octet-stream").unwrap();
    std::fs::write(
        &envelope_file,
        rms_content::protect_to_vec(&key, &envelope, &metadata, b"").unwrap(),
    )
    .unwrap();
    let key_hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    write_input(&plain, size);
    warm(&plain);

    let mut table: Vec<Round> = Vec::new();
    println!(
        "\n         openssl GB/s  | copy  | protect_file: GB/s, ratio wall (cpu), peak | open_file: the same"
    );
    println!("round    wall    cpu   | GB/s  |");
    for round in 1..=rounds {
        let openssl = openssl_speed(seconds, true);
        let openssl_cpu = openssl_speed(seconds, false);
        let copied = run_child(&["copy", path(&plain), path(&copy)]);
        remove(&copy);
        let protect = run_child(&[
            "protect",
            &key_hex,
            path(&envelope_file),
            path(&plain),
            path(&protected),
        ]);
        let open = run_child(&["open", &key_hex, path(&protected), path(&opened)]);
        remove(&protected);
        assert!(same_content(&plain, &opened), "the opened file differs");
        remove(&opened);
        let r = Round {
            openssl,
            openssl_cpu,
            copy: size as f64 / copied.wall,
            protect,
            open,
        };
        let op = |c: &Child| {
            format!(
                "{:5.2}  {:4.2} ({:4.2})  {:3} MiB",
                size as f64 / c.wall / 1e9,
                size as f64 / c.wall / r.openssl,
                size as f64 / c.cpu / r.openssl_cpu,
                c.peak_kib / 1024
            )
        };
        println!(
            "{round:>5}  {:5.2}  {:5.2}  | {:5.2} | {}      | {}",
            r.openssl / 1e9,
            r.openssl_cpu / 1e9,
            r.copy / 1e9,
            op(&r.protect),
            op(&r.open),
        );
        table.push(r);
    }
    let median_of = |f: &dyn Fn(&Round) -> f64| median(table.iter().map(f).collect());
    println!("\nmedian of {rounds} rounds:");
    println!(
        "  openssl speed -evp aes-256-gcm, 16384-byte blocks: {:.2} GB/s per wall second \
         (-elapsed), {:.2} GB/s per CPU second",
        median_of(&|r| r.openssl) / 1e9,
        median_of(&|r| r.openssl_cpu) / 1e9
    );
    println!(
        "  copy, no crypto: {:.2} GB/s, ratio {:.2}",
        median_of(&|r| r.copy) / 1e9,
        median_of(&|r| r.copy / r.openssl)
    );
    let operations: [(&str, ChildOf); 2] =
        [("protect_file", |r| r.protect), ("open_file", |r| r.open)];
    for (name, child) in operations {
        let wall_ratios: Vec<f64> = table
            .iter()
            .map(|r| size as f64 / child(r).wall / r.openssl)
            .collect();
        let (low, high) = wall_ratios
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
        println!(
            "  {name}: {:.2} GB/s, ratio {:.2} (rounds {low:.2} to {high:.2}); per CPU second \
             (all threads) {:.2} GB/s, ratio {:.2}; peak RSS {:.1} MiB",
            median_of(&|r| size as f64 / child(r).wall) / 1e9,
            median(wall_ratios.clone()),
            median_of(&|r| size as f64 / child(r).cpu) / 1e9,
            median_of(&|r| size as f64 / child(r).cpu / r.openssl_cpu),
            table.iter().map(|r| child(r).peak_kib).max().unwrap_or(0) as f64 / 1024.0,
        );
    }
    println!("load average after: {}", load_average());
}

/// Which child's figures of a round.
type ChildOf = fn(&Round) -> Child;

struct Round {
    openssl: f64,
    openssl_cpu: f64,
    copy: f64,
    protect: Child,
    open: Child,
}

/// What a child reports: wall-clock and CPU seconds of the operation, peak RSS in KiB.
#[derive(Clone, Copy)]
struct Child {
    wall: f64,
    cpu: f64,
    peak_kib: u64,
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn remove(p: &Path) {
    std::fs::remove_file(p).unwrap();
}

fn run_child(args: &[&str]) -> Child {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--child")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace();
    let mut next = || fields.next().expect("three figures from the child");
    Child {
        wall: next().parse().unwrap(),
        cpu: next().parse().unwrap(),
        peak_kib: next().parse().unwrap(),
    }
}

/// In the child: one operation, then "wall-seconds cpu-seconds peak-KiB" on stdout.
fn child(args: &[String]) {
    let arg = |i: usize| args.get(i).expect("child arguments").as_str();
    let key_of = |hex: &str| {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        ContentKey::from_bytes(&bytes).unwrap()
    };
    let (cpu_before, start) = (cpu_seconds(), Instant::now());
    match arg(0) {
        "copy" => copy_file(Path::new(arg(1)), Path::new(arg(2))),
        "protect" => {
            let key = key_of(arg(1));
            let envelope = info(std::fs::File::open(arg(2)).unwrap())
                .unwrap()
                .envelope()
                .clone();
            let metadata = FileMetadata::new("plain.bin", "application/octet-stream").unwrap();
            let (cpu, now) = (cpu_seconds(), Instant::now());
            protect_file(
                &key,
                &envelope,
                &metadata,
                Path::new(arg(3)),
                Path::new(arg(4)),
                &mut |_| {},
            )
            .unwrap();
            report(cpu, now);
            return;
        }
        "open" => {
            let key = key_of(arg(1));
            open_file(Path::new(arg(2)), &key, Path::new(arg(3)), &mut |_| {}).unwrap();
        }
        other => panic!("unknown child operation {other}"),
    }
    report(cpu_before, start);
}

fn report(cpu_before: f64, start: Instant) {
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!("{wall} {cpu} {peak}");
}

/// User and system CPU time of this process, every thread (ended ones too), from
/// `/proc/self/stat` (in clock ticks of 1/100 s, the unit Linux reports there).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = match unit.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(unit)
}

/// `openssl speed [-elapsed] -evp aes-256-gcm -bytes 16384`, in octets per wall-clock second
/// (`-elapsed`) or per second of its user CPU time (without).
fn openssl_speed(seconds: u32, elapsed: bool) -> f64 {
    let seconds = seconds.to_string();
    let out = Command::new("openssl")
        .arg("speed")
        .args(elapsed.then_some("-elapsed"))
        .args(["-evp", "aes-256-gcm", "-bytes", "16384"])
        .args(["-seconds", &seconds])
        .output()
        .expect("openssl on the PATH");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .rev()
        .find(|l| l.to_ascii_uppercase().starts_with("AES-256-GCM"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.trim_end_matches('k').parse::<f64>().ok())
        .map(|k| k * 1000.0)
        .expect("a figure from openssl speed")
}

fn write_input(path: &Path, size: u64) {
    let mut file = std::fs::File::create(path).unwrap();
    let mut buf = vec![0u8; BLOCK];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut done = 0u64;
    while done < size {
        for b in buf.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state.to_le_bytes()[0];
        }
        let n = usize::try_from(size - done).map_or(BLOCK, |left| left.min(BLOCK));
        file.write_all(&buf[..n]).unwrap();
        done += n as u64;
    }
    file.sync_all().unwrap();
}

fn warm(path: &Path) {
    let mut file = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; BLOCK];
    while file.read(&mut buf).unwrap() > 0 {}
}

fn copy_file(from: &Path, to: &Path) {
    let mut input = std::fs::File::open(from).unwrap();
    let mut output = std::fs::File::create(to).unwrap();
    // Page-aligned: the kernel's copies run at half speed on some x86 processors when the
    // destination is 1 to 63 octets past the source modulo 4 KiB, as it is for a fresh
    // allocation (16 octets past a page) read into from the start of a file.
    let mut storage = vec![0u8; BLOCK + 4096];
    let start = (4096 - storage.as_ptr() as usize % 4096) % 4096;
    let buf = &mut storage[start..start + BLOCK];
    loop {
        let n = read_full(&mut input, buf);
        if n == 0 {
            break;
        }
        output.write_all(&buf[..n]).unwrap();
    }
}

fn same_content(a: &Path, b: &Path) -> bool {
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; BLOCK], vec![0u8; BLOCK]);
    loop {
        let n = read_full(&mut a, &mut x);
        let m = read_full(&mut b, &mut y);
        if n != m || x[..n] != y[..m] {
            return false;
        }
        if n == 0 {
            return true;
        }
    }
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    n
}

/// A content key and an envelope: a licensing cluster (authority, root, licensing server)
/// and a publishing license from it.
fn publishing() -> (ContentKey, Envelope) {
    let now = time::OffsetDateTime::now_utc();
    let key = || Arc::new(RsaSigner::generate(2048).unwrap());
    let authority_key: Arc<dyn Signer> = key();
    let authority = Issuer::create_authority(
        "CN=Content Speed Authority".parse().unwrap(),
        authority_key,
        ValidityPolicy::default(),
        now,
    )
    .unwrap();
    let enroll = |issuer: &Issuer, name: &str, role| {
        let signer = key();
        let identity = ServerIdentity::new(
            name,
            role,
            ServerId::random().unwrap(),
            "https://rms.example.com/_wmcs/certification",
        )
        .unwrap();
        let checked = EnrollmentRequest::new(&identity, signer.as_ref())
            .unwrap()
            .check()
            .unwrap();
        Issuer::new(signer, issuer.issue_slc(&checked, now).unwrap()).unwrap()
    };
    let root = enroll(&authority, "root", ServerRole::RootCertificationServer);
    let licensing = enroll(&root, "licensing", ServerRole::LicensingServer);
    let content_key = ContentKey::generate().unwrap();
    let policy = ContentPolicy::new(
        "content-speed",
        vec![Grant::new("alice@example.com", UsageRights::ALL).unwrap()],
    )
    .unwrap();
    let license =
        issue_publishing_license(&licensing, &policy, content_key.as_bytes(), now).unwrap();
    let envelope = Envelope::new(license, "https://rms.example.com/_wmcs/licensing").unwrap();
    (content_key, envelope)
}
