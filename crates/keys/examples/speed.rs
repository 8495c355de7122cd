//! Raw RSA-2048 rates of every backend, beside OpenSSL's in the same run.
//!
//! ```sh
//! cargo run --release -p rms-keys --features rust-crypto --example speed -- --seconds 3
//! ```
//!
//! Prints sign, verify, OAEP encrypt and decrypt per second on one thread for each software
//! backend; runs `openssl speed -seconds N rsa2048` when `openssl` is on the PATH and prints
//! each rate as a ratio to OpenSSL's; and, when SoftHSM2 is installed, makes a token in a
//! temporary directory and measures signing and OAEP decryption in it (in a child process,
//! since SoftHSM reads `SOFTHSM2_CONF` once per process).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use rms_keys::{
    Backend, KeyLocation, PrivateKey, PublicKey, SignatureAlgorithm, Signer, SoftwareKey,
};

const SOFTHSM_MODULES: [&str; 2] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
];

/// Operations per second of `op` run for `length`.
#[allow(
    clippy::cast_precision_loss,
    reason = "a rate for people: the count is exact as f64 below 2^53"
)]
fn rate(length: Duration, mut op: impl FnMut()) -> f64 {
    op();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < length {
        op();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

struct Rates {
    sign: f64,
    verify: f64,
    encrypt: f64,
    decrypt: f64,
}

fn measure(key: &dyn PrivateKey, public: &PublicKey, length: Duration) -> Rates {
    let message = [0x42u8; 256];
    let signature = key.sign(&message).unwrap();
    let wrapped = public.encrypt_oaep_sha256(&[7; 32]).unwrap();
    Rates {
        sign: rate(length, || {
            key.sign(&message).unwrap();
        }),
        verify: rate(length, || {
            public
                .verify(SignatureAlgorithm::RSA_PKCS1_SHA256, &message, &signature)
                .unwrap();
        }),
        encrypt: rate(length, || {
            public.encrypt_oaep_sha256(&[7; 32]).unwrap();
        }),
        decrypt: rate(length, || {
            key.decrypt_oaep_sha256(&wrapped).unwrap();
        }),
    }
}

/// OpenSSL's sign, verify, encrypt and decrypt rates (the last two only from OpenSSL 3).
fn openssl_speed(seconds: u64) -> Option<[Option<f64>; 4]> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("rsa") && l.contains("2048 bits"))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter(|w| !w.ends_with('s'))
        .filter_map(|w| w.parse().ok())
        .filter(|n| *n != 2048.0)
        .collect();
    match numbers.as_slice() {
        [sign, verify, encrypt, decrypt] => {
            Some([Some(*sign), Some(*verify), Some(*encrypt), Some(*decrypt)])
        }
        [sign, verify] => Some([Some(*sign), Some(*verify), None, None]),
        _ => None,
    }
}

fn print(name: &str, rates: &Rates, openssl: Option<&[Option<f64>; 4]>) {
    let ratio = |ours: f64, index: usize| {
        openssl
            .and_then(|o| o[index])
            .map_or(String::new(), |theirs| {
                format!(" ({:.2} x OpenSSL)", ours / theirs)
            })
    };
    println!(
        "{name:>14}: sign {:>8.0}/s{}  verify {:>8.0}/s{}  OAEP encrypt {:>8.0}/s{}  OAEP decrypt {:>8.0}/s{}",
        rates.sign,
        ratio(rates.sign, 0),
        rates.verify,
        ratio(rates.verify, 1),
        rates.encrypt,
        ratio(rates.encrypt, 2),
        rates.decrypt,
        ratio(rates.decrypt, 3),
    );
}

fn softhsm_child(uri: &str, seconds: u64) {
    let location: KeyLocation = uri.parse().unwrap();
    let key = location.generate(2048).unwrap();
    let public = PublicKey::from_spki(&key.public_key()).unwrap();
    let rates = measure(key.as_ref(), &public, Duration::from_secs(seconds));
    println!(
        "{:>14}: sign {:>8.0}/s  OAEP decrypt {:>8.0}/s  (one thread, one session)",
        "SoftHSM2", rates.sign, rates.decrypt
    );
}

fn softhsm(seconds: u64) {
    let Some(module) = SOFTHSM_MODULES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    else {
        println!("SoftHSM2: skipped, no module (apt-get install softhsm2)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("rms-keys-speed-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("pin"), "1234\n").unwrap();
    let init = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            "speed",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .output();
    if !init.is_ok_and(|o| o.status.success()) {
        println!("SoftHSM2: skipped, softhsm2-util could not make a token");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let uri = format!(
        "pkcs11:token=speed;object=bench?module-path={}&pin-source=file:{}",
        module.display(),
        dir.join("pin").display()
    );
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--softhsm-child", &uri, "--seconds", &seconds.to_string()])
        .env("SOFTHSM2_CONF", &conf)
        .status()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "the SoftHSM measurement failed");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = value("--seconds").map_or(3, |s| s.parse().expect("--seconds N"));
    if let Some(uri) = value("--softhsm-child") {
        softhsm_child(&uri, seconds);
        return;
    }
    println!("RSA-2048, one thread, {seconds} s per operation");
    let mut measured = Vec::new();
    for backend in Backend::software_built() {
        let key = SoftwareKey::generate_with(backend, 2048).unwrap();
        let public = PublicKey::from_spki_with(backend, &key.public_key()).unwrap();
        measured.push((
            backend.to_string(),
            measure(&key, &public, Duration::from_secs(seconds)),
        ));
    }
    let openssl = openssl_speed(seconds);
    match &openssl {
        Some(o) => println!(
            "{:>14}: sign {:>8.0}/s  verify {:>8.0}/s  (openssl speed -seconds {seconds} rsa2048)",
            "OpenSSL",
            o[0].unwrap_or_default(),
            o[1].unwrap_or_default()
        ),
        None => println!(
            "OpenSSL: not measured (openssl not on the PATH, or its output not understood)"
        ),
    }
    for (name, rates) in &measured {
        print(name, rates, openssl.as_ref());
    }
    softhsm(seconds);
}
