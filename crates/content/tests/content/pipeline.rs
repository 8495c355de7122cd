//! Files of several chunks go through two threads (I/O on the caller's, AES-GCM on another):
//! failures in a later chunk, on either side, stop everything with their own error and leave
//! nothing behind.

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use rms_content::{CHUNK_LEN, ContentError, ContentKey, info, open, open_in_memory, protect};

use crate::common::*;

/// Reads from `inner` until `fail_at` octets have been read, then fails.
struct FailingReader<R> {
    inner: R,
    read: u64,
    fail_at: u64,
}

impl<R: Read> Read for FailingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read >= self.fail_at {
            return Err(io::Error::other("the disk went away"));
        }
        let room = usize::try_from(self.fail_at - self.read).unwrap_or(usize::MAX);
        let n = buf.len().min(room);
        let got = self.inner.read(&mut buf[..n])?;
        self.read += got as u64;
        Ok(got)
    }
}

impl<R: Seek> Seek for FailingReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.read = 0;
        self.inner.seek(pos)
    }
}

/// Accepts `room` octets, then fails.
struct FailingWriter {
    written: usize,
    room: usize,
}

impl Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written + buf.len() > self.room {
            return Err(io::Error::other("the disk is full"));
        }
        self.written += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn io_error(err: &ContentError) -> (&'static str, String) {
    match err {
        ContentError::Io { what, source } => (what, source.to_string()),
        other => panic!("expected an I/O error, got {other}"),
    }
}

#[test]
fn a_read_error_in_a_later_chunk_stops_protecting_with_its_cause() {
    let key = ContentKey::generate().unwrap();
    let plaintext = content(5 * CHUNK_LEN);
    let reader = FailingReader {
        inner: plaintext.as_slice(),
        read: 0,
        fail_at: 3 * CHUNK_LEN as u64 + 7,
    };
    let mut chunks = 0;
    let err = protect(
        &key,
        &envelope(&key),
        &metadata(),
        reader,
        plaintext.len() as u64,
        io::sink(),
        &mut |_| chunks += 1,
    )
    .unwrap_err();
    assert_eq!(
        io_error(&err),
        (
            "reading the file to protect",
            "the disk went away".to_owned()
        )
    );
    assert!(chunks < 4, "{chunks} chunks written after the failure");
}

#[test]
fn input_ending_in_a_later_chunk_is_refused_with_what_was_read() {
    let key = ContentKey::generate().unwrap();
    let plaintext = content(3 * CHUNK_LEN + 5);
    let err = protect(
        &key,
        &envelope(&key),
        &metadata(),
        plaintext.as_slice(),
        6 * CHUNK_LEN as u64,
        io::sink(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ContentError::InputTooShort { expected, read }
                if expected == 6 * CHUNK_LEN as u64 && read == plaintext.len() as u64
        ),
        "{err}"
    );
}

#[test]
fn a_write_error_in_a_later_chunk_stops_protecting_with_its_cause() {
    let key = ContentKey::generate().unwrap();
    let plaintext = content(4 * CHUNK_LEN);
    let mut progress = Vec::new();
    let err = protect(
        &key,
        &envelope(&key),
        &metadata(),
        plaintext.as_slice(),
        plaintext.len() as u64,
        FailingWriter {
            written: 0,
            room: 2 * CHUNK_LEN - 1,
        },
        &mut |p| progress.push(p.done),
    )
    .unwrap_err();
    assert_eq!(
        io_error(&err),
        ("writing the protected file", "the disk is full".to_owned())
    );
    // The clear part before the ciphertext and the first chunk went out; the second did not
    // fit.
    assert_eq!(progress.len(), 1, "{progress:?}");
}

#[test]
fn a_read_error_in_a_later_chunk_stops_opening_and_leaves_nothing() {
    let (key, _, file) = protected(4 * CHUNK_LEN + 99);
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("opened");
    // Every seek resets the count, the last one to the start of the ciphertext: the failure
    // lands in its third chunk.
    let source = FailingReader {
        inner: Cursor::new(&file),
        read: 0,
        fail_at: 2 * CHUNK_LEN as u64 + 1,
    };
    let err = open(source, &key, &destination, &mut |_| {}).unwrap_err();
    assert_eq!(
        io_error(&err),
        ("reading the ciphertext", "the disk went away".to_owned())
    );
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn every_chunk_of_a_long_file_is_checked_and_in_order() {
    let (key, plaintext, file) = protected(5 * CHUNK_LEN + 3);
    let opened = open_in_memory(&file, &key, 1 << 30).unwrap();
    assert_eq!(opened.content(), plaintext.as_slice());
    // Swapping two whole chunks of ciphertext keeps every byte but not their order.
    let clear = info(Cursor::new(&file)).unwrap();
    let start = usize::try_from(clear.total_len() - clear.encrypted_len() - 18).unwrap();
    let mut swapped = file.clone();
    let (a, b) = (start + CHUNK_LEN, start + 2 * CHUNK_LEN);
    let first = file[a..a + CHUNK_LEN].to_vec();
    swapped.copy_within(b..b + CHUNK_LEN, a);
    swapped[b..b + CHUNK_LEN].copy_from_slice(&first);
    let dir = tempfile::tempdir().unwrap();
    let err = open(
        Cursor::new(&swapped),
        &key,
        &dir.path().join("o"),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, ContentError::AuthenticationFailed { .. }),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty());
}
