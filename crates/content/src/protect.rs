//! Protecting: the clear part, then the header and the file encrypted in chunks, then the tag.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use crate::format::{MAC_HEADER, encode_header, encode_prefix, encode_recipient_infos};
use crate::gcm::{MAX_PLAINTEXT_LEN, NONCE_LEN, StreamingGcm, TAG_LEN};
use crate::pipeline::{self, Direction};
use crate::{CHUNK_LEN, ContentError, ContentKey, Envelope, FileMetadata, Progress};

/// Protects `plaintext_len` octets read from `plaintext` into `output`: encrypted with `key`
/// (AES-256-GCM, a fresh random nonce) for the licensing cluster named in `envelope`, with
/// `metadata` encrypted beside them. Returns the number of octets written.
///
/// Reading and writing (on the calling thread) overlap with the encryption (on a second
/// thread) once the input spans more than one [`CHUNK_LEN`] chunk. Memory stays bounded: a few
/// [`CHUNK_LEN`] buffers whatever the length. `progress` is called after each chunk is
/// written, with the octets of the file encrypted so far.
///
/// `key` must be the content key the envelope's publishing license wraps: nothing here can
/// check it (that takes the cluster's private key), and a file protected with another key
/// opens for no one. Refuses input shorter or longer than `plaintext_len` (what was written
/// to `output` is then no protected file: write to a temporary file, as
/// [`protect_file`] does).
pub fn protect<R: Read, W: Write>(
    key: &ContentKey,
    envelope: &Envelope,
    metadata: &FileMetadata,
    mut plaintext: R,
    plaintext_len: u64,
    mut output: W,
    progress: &mut dyn FnMut(Progress),
) -> Result<u64, ContentError> {
    let recipient_infos = encode_recipient_infos(envelope)?;
    let header = encode_header(metadata, &recipient_infos)?;
    let encrypted_len = (header.len() as u64)
        .checked_add(plaintext_len)
        .filter(|&n| n <= MAX_PLAINTEXT_LEN)
        .ok_or(ContentError::TooLarge {
            length: (header.len() as u64).saturating_add(plaintext_len),
            limit: MAX_PLAINTEXT_LEN,
        })?;
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| ContentError::Random)?;
    let prefix = encode_prefix(&recipient_infos, &nonce, encrypted_len);
    output
        .write_all(&prefix)
        .map_err(ContentError::io("writing the protected file"))?;

    let mut gcm = StreamingGcm::new(key.as_bytes(), &nonce, &[])?;
    let buffer_len = usize::try_from(encrypted_len).map_or(CHUNK_LEN, |n| n.min(CHUNK_LEN));
    let header_len = header.len() as u64;
    let mut header = Some(header);
    let mut read = 0u64;
    let mut sealed = 0u64;
    pipeline::run(
        &mut gcm,
        Direction::Seal,
        buffer_len,
        encrypted_len > buffer_len as u64,
        |buffer| {
            // The header opens the first chunk, which exists even for an empty file.
            let filled = match header.take() {
                Some(header) => {
                    buffer[..header.len()].copy_from_slice(&header);
                    header.len()
                }
                None if read == plaintext_len => return Ok(None),
                None => 0,
            };
            let want = usize::try_from(plaintext_len - read)
                .map_or(buffer.len() - filled, |rest| {
                    rest.min(buffer.len() - filled)
                });
            let got = read_full(&mut plaintext, &mut buffer[filled..filled + want])?;
            read += got as u64;
            if got < want {
                return Err(ContentError::InputTooShort {
                    expected: plaintext_len,
                    read,
                });
            }
            Ok(Some(filled + got))
        },
        |chunk| {
            output
                .write_all(chunk)
                .map_err(ContentError::io("writing the protected file"))?;
            sealed += chunk.len() as u64;
            progress(Progress {
                done: sealed - header_len,
                total: plaintext_len,
            });
            Ok(())
        },
    )?;
    if read_full(&mut plaintext, &mut [0u8; 1])? != 0 {
        return Err(ContentError::InputTooLong {
            expected: plaintext_len,
        });
    }
    output
        .write_all(&MAC_HEADER)
        .and_then(|()| output.write_all(&gcm.tag()))
        .and_then(|()| output.flush())
        .map_err(ContentError::io("writing the protected file"))?;
    Ok(prefix.len() as u64 + encrypted_len + (MAC_HEADER.len() + TAG_LEN) as u64)
}

/// Reads until `buf` is full or the input ends; returns the octets read.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> Result<usize, ContentError> {
    let mut read = 0;
    while read < buf.len() {
        match input.read(&mut buf[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                return Err(ContentError::Io {
                    what: "reading the file to protect",
                    source: err,
                });
            }
        }
    }
    Ok(read)
}

/// Protects the file at `source` into `destination`, through a temporary file beside the
/// destination that replaces it only once complete (none is left behind on failure).
/// Returns the protected file's length.
pub fn protect_file(
    key: &ContentKey,
    envelope: &Envelope,
    metadata: &FileMetadata,
    source: &Path,
    destination: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<u64, ContentError> {
    let input = File::open(source).map_err(ContentError::io("opening the file to protect"))?;
    let len = input
        .metadata()
        .map_err(ContentError::io(
            "reading the length of the file to protect",
        ))?
        .len();
    let mut temporary = crate::open::temporary_beside(destination)?;
    let written = protect(
        key,
        envelope,
        metadata,
        input,
        len,
        temporary.as_file_mut(),
        progress,
    )?;
    temporary
        .persist(destination)
        .map_err(|err| ContentError::Io {
            what: "renaming the protected file into place",
            source: err.error,
        })?;
    Ok(written)
}

/// [`protect`] in memory: the protected file as a vector.
pub fn protect_to_vec(
    key: &ContentKey,
    envelope: &Envelope,
    metadata: &FileMetadata,
    plaintext: &[u8],
) -> Result<Vec<u8>, ContentError> {
    let mut out = Vec::with_capacity(plaintext.len() + 8192);
    protect(
        key,
        envelope,
        metadata,
        plaintext,
        plaintext.len() as u64,
        &mut out,
        &mut |_| {},
    )?;
    Ok(out)
}
