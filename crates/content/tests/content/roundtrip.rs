//! Round trips through files and memory, the clear part, progress, and refused inputs.

use std::io::Cursor;

use rms_cert::{Grantee, LicenseBody, Signer, issue_use_license, unwrap_content_key};
use rms_content::{
    CHUNK_LEN, ContentError, ContentKey, Envelope, MAX_ENCRYPTED_LEN, Progress, info, open,
    open_file, open_in_memory, protect, protect_file,
};
use time::Duration;

use crate::common::*;

/// Protects `len` octets file to file and opens them again, checking everything on the way.
fn round_trip_through_files(len: usize) {
    let dir = tempfile::tempdir().unwrap();
    let key = ContentKey::generate().unwrap();
    let envelope = envelope(&key);
    let plaintext = content(len);
    let source = dir.path().join("report.txt");
    std::fs::write(&source, &plaintext).unwrap();
    let protected_path = dir.path().join("report.txt.rms");
    let mut protect_progress = Vec::new();
    let written = protect_file(
        &key,
        &envelope,
        &metadata(),
        &source,
        &protected_path,
        &mut |p: Progress| protect_progress.push(p),
    )
    .unwrap();
    let protected = std::fs::read(&protected_path).unwrap();
    assert_eq!(written, protected.len() as u64);
    assert!(
        !protected
            .windows(16)
            .any(|w| plaintext.len() >= 16 && w == &plaintext[..16])
    );
    assert_eq!(
        protect_progress.last().map(|p| (p.done, p.total)),
        Some((len as u64, len as u64))
    );
    assert!(protect_progress.windows(2).all(|w| w[0].done < w[1].done));

    let clear = info(std::fs::File::open(&protected_path).unwrap()).unwrap();
    assert_eq!(clear.envelope(), &envelope);
    assert_eq!(clear.total_len(), protected.len() as u64);
    let header_len = clear.encrypted_len() - len as u64;
    assert!((60..200).contains(&header_len), "{header_len}");
    // One chunk of the header and the file at a time.
    assert_eq!(
        protect_progress.len(),
        usize::try_from(clear.encrypted_len())
            .unwrap()
            .div_ceil(CHUNK_LEN)
    );

    let opened_path = dir.path().join("opened.txt");
    let mut open_progress = Vec::new();
    let opened = open_file(&protected_path, &key, &opened_path, &mut |p: Progress| {
        open_progress.push(p)
    })
    .unwrap();
    assert_eq!(opened.len(), len as u64);
    assert_eq!(opened.is_empty(), len == 0);
    assert_eq!(opened.metadata(), &metadata());
    assert_eq!(std::fs::read(&opened_path).unwrap(), plaintext);
    assert_eq!(
        open_progress.last().map(|p| (p.done, p.total)),
        Some((len as u64, len as u64))
    );
    // Nothing else was left in the folder: no temporary files.
    assert_eq!(
        listing(dir.path()),
        ["opened.txt", "report.txt", "report.txt.rms"]
    );

    let in_memory = open_in_memory(&protected, &key, len as u64).unwrap();
    assert_eq!(in_memory.content(), plaintext.as_slice());
    assert_eq!(in_memory.metadata(), &metadata());
}

#[test]
fn an_empty_file_round_trips() {
    round_trip_through_files(0);
}

#[test]
fn a_one_byte_file_round_trips() {
    round_trip_through_files(1);
}

#[test]
fn a_one_mebibyte_file_round_trips() {
    round_trip_through_files(1 << 20);
}

#[test]
fn a_multi_chunk_file_round_trips() {
    // Three full chunks and a tail that is not a whole block.
    round_trip_through_files(3 * CHUNK_LEN + 4_321);
}

#[test]
fn sizes_around_the_chunk_and_block_boundaries_round_trip() {
    let key = ContentKey::generate().unwrap();
    let envelope = envelope(&key);
    for len in [
        15,
        16,
        17,
        CHUNK_LEN - 700,
        CHUNK_LEN - 1,
        CHUNK_LEN,
        CHUNK_LEN + 1,
    ] {
        let plaintext = content(len);
        let mut file = Vec::new();
        protect(
            &key,
            &envelope,
            &metadata(),
            plaintext.as_slice(),
            len as u64,
            &mut file,
            &mut |_| {},
        )
        .unwrap();
        let opened = open_in_memory(&file, &key, len as u64).unwrap();
        assert_eq!(opened.content(), plaintext.as_slice(), "{len}");
    }
}

#[test]
fn two_protections_of_the_same_file_differ() {
    let key = ContentKey::generate().unwrap();
    let envelope = envelope(&key);
    let a = rms_content::protect_to_vec(&key, &envelope, &metadata(), b"same").unwrap();
    let b = rms_content::protect_to_vec(&key, &envelope, &metadata(), b"same").unwrap();
    assert_eq!(a.len(), b.len());
    assert_ne!(a, b, "a fresh nonce each time");
}

#[test]
fn a_user_opens_with_the_key_from_their_use_license() {
    let (key, plaintext, file) = protected(10_000);
    // The client reads the publishing license from the file and asks for a use license...
    let clear = info(Cursor::new(&file)).unwrap();
    let publishing = clear.envelope().publishing();
    assert_eq!(clear.envelope().server_url(), SERVER_URL);
    assert_eq!(
        publishing
            .grant_for("alice@example.com")
            .map(|g| g.principal()),
        Some("alice@example.com")
    );
    let grantee = Grantee::new("alice@example.com", CLUSTER.user.public_key()).unwrap();
    let use_license = issue_use_license(
        &CLUSTER.licensing,
        CLUSTER.key.private_key(),
        publishing,
        &grantee,
        NOW + Duration::hours(1),
    )
    .unwrap();
    let LicenseBody::Use(body) = use_license.body() else {
        panic!("not a use license")
    };
    // ... unwraps the content key with the user's key, and opens.
    let unwrapped = unwrap_content_key(CLUSTER.user.private_key(), body.content_key()).unwrap();
    let content_key = ContentKey::from_bytes(&unwrapped).unwrap();
    assert_eq!(content_key.as_bytes(), key.as_bytes());
    let opened = open_in_memory(&file, &content_key, 1 << 20).unwrap();
    assert_eq!(opened.into_content(), plaintext);
}

#[test]
fn another_key_opens_nothing_and_leaves_nothing() {
    let (_, _, file) = protected(3 * CHUNK_LEN);
    let other = ContentKey::generate().unwrap();
    let err = open_in_memory(&file, &other, 1 << 30).unwrap_err();
    // The header decrypts to noise, before any content is produced.
    assert!(
        matches!(err, ContentError::HeaderUnreadable { .. }),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = open(
        Cursor::new(&file),
        &other,
        &dir.path().join("out"),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, ContentError::HeaderUnreadable { .. }),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn an_existing_destination_is_replaced_only_on_success() {
    let (key, plaintext, file) = protected(5_000);
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("report.txt");
    std::fs::write(&destination, b"previous").unwrap();
    let mut altered = file.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    let err = open(Cursor::new(&altered), &key, &destination, &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, ContentError::AuthenticationFailed { .. }),
        "{err}"
    );
    assert_eq!(std::fs::read(&destination).unwrap(), b"previous");
    assert_eq!(listing(dir.path()), ["report.txt"]);
    open(Cursor::new(&file), &key, &destination, &mut |_| {}).unwrap();
    assert_eq!(std::fs::read(&destination).unwrap(), plaintext);
}

#[test]
fn the_in_memory_cap_is_enforced() {
    let (key, _, file) = protected(10_000);
    assert!(open_in_memory(&file, &key, 10_000).is_ok());
    let err = open_in_memory(&file, &key, 9_999).unwrap_err();
    assert!(
        matches!(
            err,
            ContentError::ExceedsMemoryLimit {
                length: 10_000,
                limit: 9_999
            }
        ),
        "{err}"
    );
    // Far over the cap: refused from the sizes alone, before decrypting.
    let err = open_in_memory(&file, &ContentKey::generate().unwrap(), 10).unwrap_err();
    assert!(
        matches!(err, ContentError::ExceedsMemoryLimit { limit: 10, .. }),
        "{err}"
    );
}

#[test]
fn input_shorter_or_longer_than_announced_is_refused() {
    let key = ContentKey::generate().unwrap();
    let envelope = envelope(&key);
    let err = protect(
        &key,
        &envelope,
        &metadata(),
        &b"12345"[..],
        6,
        Vec::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ContentError::InputTooShort {
                expected: 6,
                read: 5
            }
        ),
        "{err}"
    );
    let err = protect(
        &key,
        &envelope,
        &metadata(),
        &b"12345"[..],
        4,
        Vec::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, ContentError::InputTooLong { expected: 4 }),
        "{err}"
    );
}

#[test]
fn content_over_the_gcm_limit_is_refused_before_anything_is_written() {
    let key = ContentKey::generate().unwrap();
    let mut out = Vec::new();
    let err = protect(
        &key,
        &envelope(&key),
        &metadata(),
        std::io::empty(),
        MAX_ENCRYPTED_LEN,
        &mut out,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, ContentError::TooLarge { limit, .. } if limit == MAX_ENCRYPTED_LEN),
        "{err}"
    );
    assert!(out.is_empty());
}

#[test]
fn protect_file_leaves_nothing_when_the_source_is_missing() {
    let key = ContentKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = protect_file(
        &key,
        &envelope(&key),
        &metadata(),
        &dir.path().join("missing"),
        &dir.path().join("out.rms"),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, ContentError::Io { .. }), "{err}");
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn envelopes_refuse_use_licenses_and_bad_urls() {
    let key = ContentKey::generate().unwrap();
    let license = publishing_license(&key);
    let LicenseBody::Publishing(body) = license.body() else {
        panic!()
    };
    let grantee = Grantee::new("alice@example.com", CLUSTER.user.public_key()).unwrap();
    let use_license = issue_use_license(
        &CLUSTER.licensing,
        CLUSTER.key.private_key(),
        body,
        &grantee,
        NOW,
    )
    .unwrap();
    assert!(matches!(
        Envelope::new(use_license, SERVER_URL),
        Err(ContentError::NotPublishingLicense)
    ));
    assert!(matches!(
        Envelope::new(license.clone(), "licensing.example.com"),
        Err(ContentError::InvalidServerUrl { .. })
    ));
    let key_id = body.content_key().recipient_key_id().to_vec();
    let envelope = Envelope::new(license, SERVER_URL).unwrap();
    assert_eq!(envelope.recipient_key_id(), key_id.as_slice());
}
