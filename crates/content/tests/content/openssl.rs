//! OpenSSL both ways: `openssl cms -decrypt` opens our files with the licensing cluster's key
//! and SLC; what `openssl cms -encrypt` makes is refused with a specific error.

use std::io::Cursor;

use rms_cert::certificate_to_pem;
use rms_content::{CHUNK_LEN, ContentError, ContentKey, info, protect_to_vec};

use crate::common::*;

/// Writes the cluster's SLC and key and `file` into `dir`.
fn lay_out(dir: &std::path::Path, file: &[u8]) {
    std::fs::write(
        dir.join("licensing-slc.pem"),
        certificate_to_pem(CLUSTER.licensing.certificate()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("licensing-key.pem"),
        CLUSTER.key.to_pkcs8_pem().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("f.rms"), file).unwrap();
}

/// Splits what `openssl cms -decrypt` outputs into the DER header and the file's bytes.
fn split_header(out: &[u8]) -> (&[u8], &[u8]) {
    assert_eq!(
        out[0], 0x30,
        "the output starts with the header, a DER SEQUENCE"
    );
    let header_len = match out[1] {
        n @ 0..=0x7f => 2 + usize::from(n),
        0x81 => 3 + usize::from(out[2]),
        0x82 => 4 + (usize::from(out[2]) << 8 | usize::from(out[3])),
        other => panic!("header length form {other:#x}"),
    };
    out.split_at(header_len)
}

#[test]
fn openssl_decrypts_a_small_file_with_the_cluster_key() {
    if !have_openssl("openssl_decrypts_a_small_file_with_the_cluster_key") {
        return;
    }
    let key = ContentKey::generate().unwrap();
    let plaintext = b"The quarterly figures, for Alice's eyes only.\n";
    let file = protect_to_vec(&key, &envelope(&key), &metadata(), plaintext).unwrap();
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), &file);
    // As docs/protected-file.md says it.
    let out = openssl(
        dir.path(),
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "f.rms",
            "-recip",
            "licensing-slc.pem",
            "-inkey",
            "licensing-key.pem",
            "-out",
            "plain.bin",
        ],
    );
    assert_ok(&out, "openssl cms -decrypt");
    let decrypted = std::fs::read(dir.path().join("plain.bin")).unwrap();
    let (header, content) = split_header(&decrypted);
    assert_eq!(content, plaintext);
    assert!(header.windows(20).any(|w| w == b"quarterly report.txt"));
    assert!(
        header
            .windows(25)
            .any(|w| w == b"text/plain; charset=utf-8")
    );

    // The header parses as DER: asn1parse of exactly its octets shows its fields.
    std::fs::write(dir.path().join("header.der"), header).unwrap();
    let out = openssl(
        dir.path(),
        &["asn1parse", "-inform", "DER", "-in", "header.der"],
    );
    assert_ok(&out, "openssl asn1parse");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(text.contains("1.3.6.1.4.1.32473.3.2"), "{text}");
    assert!(text.contains(":quarterly report.txt"), "{text}");
    // The documented way to strip it: its length is hl + l of asn1parse's first line (which
    // then complains about the file's bytes after the header).
    let out = openssl(
        dir.path(),
        &["asn1parse", "-inform", "DER", "-in", "plain.bin"],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let first = printed.lines().next().unwrap_or_default();
    let field = |name: &str| -> usize {
        let start = first.find(name).unwrap() + name.len();
        first[start..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(field("hl=") + field(" l="), header.len(), "{first}");

    // Without -recip, OpenSSL tries the key on every key-transport recipient: same result.
    let out = openssl(
        dir.path(),
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "f.rms",
            "-inkey",
            "licensing-key.pem",
            "-out",
            "plain2.bin",
        ],
    );
    assert_ok(&out, "openssl cms -decrypt without -recip");
    assert_eq!(
        std::fs::read(dir.path().join("plain2.bin")).unwrap(),
        decrypted
    );

    // And it prints the clear part, the URL among it.
    let out = openssl(
        dir.path(),
        &["cms", "-cmsout", "-print", "-inform", "DER", "-in", "f.rms"],
    );
    assert_ok(&out, "openssl cms -cmsout -print");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("d.ori"), "{printed}");
    assert!(printed.contains(SERVER_URL), "{printed}");
}

#[test]
fn openssl_decrypts_a_multi_chunk_file_so_the_streaming_gcm_is_exact() {
    if !have_openssl("openssl_decrypts_a_multi_chunk_file_so_the_streaming_gcm_is_exact") {
        return;
    }
    let key = ContentKey::generate().unwrap();
    let plaintext = content(2 * CHUNK_LEN + 12_345);
    let file = protect_to_vec(&key, &envelope(&key), &metadata(), &plaintext).unwrap();
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), &file);
    let out = openssl(
        dir.path(),
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "f.rms",
            "-recip",
            "licensing-slc.pem",
            "-inkey",
            "licensing-key.pem",
            "-out",
            "plain.bin",
        ],
    );
    assert_ok(&out, "openssl cms -decrypt");
    let decrypted = std::fs::read(dir.path().join("plain.bin")).unwrap();
    assert_eq!(split_header(&decrypted).1, plaintext.as_slice());

    // OpenSSL checks the tag: one flipped octet of ciphertext and it refuses.
    let mut altered = file.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x40;
    std::fs::write(dir.path().join("f.rms"), &altered).unwrap();
    let out = openssl(
        dir.path(),
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "f.rms",
            "-recip",
            "licensing-slc.pem",
            "-inkey",
            "licensing-key.pem",
            "-out",
            "plain.bin",
        ],
    );
    assert!(
        !out.status.success(),
        "OpenSSL accepted an altered ciphertext"
    );
}

#[test]
fn openssl_made_auth_enveloped_data_is_refused_as_not_ours() {
    if !have_openssl("openssl_made_auth_enveloped_data_is_refused_as_not_ours") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path(), b"");
    std::fs::write(dir.path().join("plain.txt"), b"made by openssl").unwrap();
    for extra in [&[][..], &["-keyid"]] {
        let mut args = vec![
            "cms",
            "-encrypt",
            "-aes-256-gcm",
            "-binary",
            "-in",
            "plain.txt",
            "-outform",
            "DER",
            "-out",
            "openssl.der",
        ];
        args.extend_from_slice(extra);
        args.push("licensing-slc.pem");
        let out = openssl(dir.path(), &args);
        assert_ok(&out, "openssl cms -encrypt -aes-256-gcm");
        let der = std::fs::read(dir.path().join("openssl.der")).unwrap();
        let err = info(Cursor::new(&der)).unwrap_err();
        assert!(
            matches!(err, ContentError::NoLicenseAcquisition),
            "{extra:?}: {err}"
        );
        let err = rms_content::open_in_memory(&der, &ContentKey::generate().unwrap(), 1 << 20)
            .unwrap_err();
        assert!(matches!(err, ContentError::NoLicenseAcquisition), "{err}");
        println!("{extra:?}: {err}");
    }
}
