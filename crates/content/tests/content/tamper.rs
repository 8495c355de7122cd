//! A changed, missing or extra byte anywhere is refused, with an error naming the region, and
//! nothing is left behind.

use std::io::Cursor;

use rms_content::{ContentError, ContentKey, info, open, open_in_memory};

use crate::common::*;

/// One DER element: tag, offset, header length, content length.
#[derive(Debug, Clone, Copy)]
struct Tlv {
    tag: u8,
    at: usize,
    header: usize,
    len: usize,
}

impl Tlv {
    fn content(&self) -> usize {
        self.at + self.header
    }
    fn end(&self) -> usize {
        self.content() + self.len
    }
}

/// Reads the element at `at` (a test's own minimal DER reader, independent of the crate's).
fn tlv(der: &[u8], at: usize) -> Tlv {
    let tag = der[at];
    let first = der[at + 1];
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        let len = der[at + 2..at + 2 + n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (2 + n, len)
    };
    Tlv {
        tag,
        at,
        header,
        len,
    }
}

fn children(der: &[u8], parent: Tlv) -> Vec<Tlv> {
    let mut out = Vec::new();
    let mut at = parent.content();
    while at < parent.end() {
        let child = tlv(der, at);
        at = child.end();
        out.push(child);
    }
    out
}

/// Where things are in a protected file.
struct Map {
    content_type: Tlv,
    aed_version: Tlv,
    ktri_version: Tlv,
    key_id: Tlv,
    key_algorithm: Tlv,
    encrypted_key: Tlv,
    server_url: Tlv,
    publishing_license: Tlv,
    eci_content_type: Tlv,
    gcm_oid: Tlv,
    nonce: Tlv,
    icv_len: Tlv,
    ciphertext: Tlv,
    mac: Tlv,
}

fn map(file: &[u8]) -> Map {
    let info = tlv(file, 0);
    let [content_type, explicit] = children(file, info)[..] else {
        panic!()
    };
    let aed = tlv(file, explicit.content());
    let [aed_version, recipients, eci, mac] = children(file, aed)[..] else {
        panic!("{:?}", children(file, aed))
    };
    let [ktri, ori] = children(file, recipients)[..] else {
        panic!()
    };
    assert_eq!((ktri.tag, ori.tag), (0x30, 0xa4));
    let [ktri_version, key_id, key_algorithm, encrypted_key] = children(file, ktri)[..] else {
        panic!()
    };
    let [_, acquisition] = children(file, ori)[..] else {
        panic!()
    };
    let [server_url, publishing_license] = children(file, acquisition)[..] else {
        panic!()
    };
    let [eci_content_type, algorithm, ciphertext] = children(file, eci)[..] else {
        panic!()
    };
    let [gcm_oid, params] = children(file, algorithm)[..] else {
        panic!()
    };
    let [nonce, icv_len] = children(file, params)[..] else {
        panic!()
    };
    assert_eq!(mac.end(), file.len());
    Map {
        content_type,
        aed_version,
        ktri_version,
        key_id,
        key_algorithm,
        encrypted_key,
        server_url,
        publishing_license,
        eci_content_type,
        gcm_oid,
        nonce,
        icv_len,
        ciphertext,
        mac,
    }
}

fn flipped(file: &[u8], at: usize) -> Vec<u8> {
    let mut out = file.to_vec();
    out[at] ^= 0x01;
    out
}

/// Opens `file` into a fresh folder; asserts it fails and leaves the folder empty.
fn refused(file: &[u8], key: &ContentKey) -> ContentError {
    let dir = tempfile::tempdir().unwrap();
    let err = open(
        Cursor::new(file),
        key,
        &dir.path().join("opened"),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        listing(dir.path()).is_empty(),
        "{err}: left {:?}",
        listing(dir.path())
    );
    let again = open_in_memory(file, key, 1 << 30).unwrap_err();
    assert_eq!(again.to_string(), err.to_string());
    err
}

#[test]
fn tampering_in_each_region_is_refused_specifically() {
    let (key, plaintext, file) = protected(3 * (1 << 20) + 100);
    let m = map(&file);
    assert_eq!(
        open_in_memory(&file, &key, 1 << 30).unwrap().content(),
        plaintext.as_slice()
    );
    let last = |t: Tlv| t.end() - 1;
    type Check = fn(&ContentError) -> bool;
    let cases: Vec<(&str, usize, Check)> = vec![
        ("the outer tag", 0, |e| {
            matches!(e, ContentError::Malformed { at: 0, .. })
        }),
        ("the content type", last(m.content_type), |e| {
            matches!(e, ContentError::NotAuthEnvelopedData { .. })
        }),
        ("the AuthEnvelopedData version", last(m.aed_version), |e| {
            matches!(
                e,
                ContentError::Unsupported {
                    what: "AuthEnvelopedData version",
                    ..
                }
            )
        }),
        ("the key-transport version", last(m.ktri_version), |e| {
            matches!(
                e,
                ContentError::Malformed {
                    what: "the key-transport recipient info",
                    ..
                }
            )
        }),
        ("the key identifier", last(m.key_id), |e| {
            matches!(
                e,
                ContentError::RecipientMismatch {
                    field: "key identifier",
                    ..
                }
            )
        }),
        (
            "the key-encryption algorithm",
            m.key_algorithm.content() + 10,
            |e| {
                matches!(
                    e,
                    ContentError::RecipientMismatch {
                        field: "key-encryption algorithm",
                        ..
                    }
                )
            },
        ),
        ("the encrypted key", last(m.encrypted_key), |e| {
            matches!(
                e,
                ContentError::RecipientMismatch {
                    field: "encrypted key",
                    ..
                }
            )
        }),
        ("the server URL", last(m.server_url), |e| {
            matches!(e, ContentError::ClearPartAltered { .. })
        }),
        // The last octet of the publishing license is in its signature.
        (
            "the publishing license's signature",
            last(m.publishing_license),
            |e| matches!(e, ContentError::ClearPartAltered { .. }),
        ),
        (
            "the encrypted content type",
            last(m.eci_content_type),
            |e| {
                matches!(
                    e,
                    ContentError::Unsupported {
                        what: "encrypted content type",
                        ..
                    }
                )
            },
        ),
        ("the content-encryption algorithm", last(m.gcm_oid), |e| {
            matches!(
                e,
                ContentError::Unsupported {
                    what: "content-encryption algorithm",
                    ..
                }
            )
        }),
        ("the nonce", m.nonce.content(), |e| {
            matches!(
                e,
                ContentError::HeaderUnreadable { .. } | ContentError::AuthenticationFailed { .. }
            )
        }),
        ("the ICV length", last(m.icv_len), |e| {
            matches!(
                e,
                ContentError::Unsupported {
                    what: "GCM tag length",
                    ..
                }
            )
        }),
        ("the encrypted header", m.ciphertext.content(), |e| {
            matches!(e, ContentError::HeaderUnreadable { .. })
        }),
        (
            "the ciphertext",
            m.ciphertext.content() + (1 << 20) + 7,
            |e| matches!(e, ContentError::AuthenticationFailed { .. }),
        ),
        (
            "the last octet of the ciphertext",
            last(m.ciphertext),
            |e| matches!(e, ContentError::AuthenticationFailed { .. }),
        ),
        ("the mac's tag", m.mac.at, |e| {
            matches!(
                e,
                ContentError::Malformed {
                    what: "the mac",
                    ..
                }
            )
        }),
        ("the mac's length", m.mac.at + 1, |e| {
            matches!(
                e,
                ContentError::Unsupported { what: "mac", .. } | ContentError::Malformed { .. }
            )
        }),
        ("the GCM tag", last(m.mac), |e| {
            matches!(e, ContentError::AuthenticationFailed { .. })
        }),
    ];
    for (region, at, check) in cases {
        let err = refused(&flipped(&file, at), &key);
        assert!(check(&err), "{region} (byte {at}): {err:?}");
        println!("{region} (byte {at}): {err}");
    }
    // A clear part that still decodes is read by `info`, which authenticates nothing...
    for at in [last(m.server_url), last(m.publishing_license)] {
        assert!(info(Cursor::new(flipped(&file, at))).is_ok());
    }
    // ... and an authentication failure names the tag's bytes.
    let err = refused(&flipped(&file, last(m.mac)), &key);
    let (start, end) = (m.mac.content() as u64, m.mac.end() as u64);
    assert!(
        matches!(err, ContentError::AuthenticationFailed { at, end: e } if at == start && e == end),
        "{err}"
    );
}

#[test]
fn a_byte_appended_is_trailing_data() {
    let (key, _, file) = protected(1000);
    for extra in [&[0u8][..], b"\x30\x00", &[0xff; 100]] {
        let mut longer = file.clone();
        longer.extend_from_slice(extra);
        let err = refused(&longer, &key);
        assert!(
            matches!(err, ContentError::TrailingData { at, extra: n }
                if at == file.len() as u64 && n == extra.len() as u64),
            "{err}"
        );
        assert!(matches!(
            info(Cursor::new(&longer)),
            Err(ContentError::TrailingData { .. })
        ));
    }
}

#[test]
fn every_flipped_byte_of_a_small_file_is_refused() {
    let (key, plaintext, file) = protected(300);
    let m = map(&file);
    let mut ranks = std::collections::BTreeMap::new();
    for at in 0..file.len() {
        for mask in [0x01u8, 0x80] {
            let mut altered = file.clone();
            altered[at] ^= mask;
            let err = match open_in_memory(&altered, &key, 1 << 20) {
                Err(err) => err,
                Ok(opened) => panic!("byte {at} ^ {mask:#x} opened: {:?}", opened.metadata()),
            };
            if (m.ciphertext.content()..file.len()).contains(&at)
                && at != m.mac.at
                && at != m.mac.at + 1
            {
                assert_eq!(err.rank(), 300, "byte {at}: {err}");
            }
            *ranks.entry(err.rank()).or_insert(0) += 1;
        }
    }
    println!("{} octets, refusals by rank: {ranks:?}", file.len());
    assert_eq!(
        open_in_memory(&file, &key, 1 << 20).unwrap().content(),
        plaintext.as_slice()
    );
}

#[test]
fn truncation_at_every_offset_is_refused_as_truncation() {
    let (key, _, file) = protected(2000);
    for len in 0..file.len() {
        let err = open_in_memory(&file[..len], &key, 1 << 20).unwrap_err();
        assert!(
            matches!(err, ContentError::Truncated { at, .. } if at == len as u64),
            "cut at {len}: {err}"
        );
        let err = info(Cursor::new(&file[..len])).unwrap_err();
        assert!(
            matches!(err, ContentError::Truncated { .. }),
            "cut at {len}: {err}"
        );
    }
    // A large file cut in the ciphertext, through files.
    let (key, _, file) = protected(2 * (1 << 20));
    for len in [
        file.len() - 1,
        file.len() - 17,
        file.len() - 18,
        file.len() / 2,
        500,
    ] {
        let err = refused(&file[..len], &key);
        assert!(
            matches!(err, ContentError::Truncated { .. }),
            "cut at {len}: {err}"
        );
    }
}

#[test]
fn a_missing_or_inserted_byte_anywhere_is_refused() {
    let (key, _, file) = protected(700);
    for at in 0..file.len() {
        let mut shorter = file.clone();
        shorter.remove(at);
        assert!(
            open_in_memory(&shorter, &key, 1 << 20).is_err(),
            "byte {at} removed"
        );
        let mut longer = file.clone();
        longer.insert(at, file[at]);
        assert!(
            open_in_memory(&longer, &key, 1 << 20).is_err(),
            "byte {at} repeated"
        );
    }
}
