//! Opening: the clear part is read and checked first (it sits after the ciphertext, so the file
//! is seeked), then the ciphertext is decrypted in chunks into a temporary file that becomes
//! the destination only once the tag matches.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use der::Decode;
use tempfile::NamedTempFile;
use zeroize::Zeroizing;

use crate::format::{
    DIGEST_LEN, HEADER_VERSION, MAX_HEADER_LEN, RawHeader, TAG_SEQUENCE, clear_digest,
};
use crate::gcm::{StreamingGcm, TAG_LEN};
use crate::pipeline::{self, Direction};
use crate::reader::{ClearPart, read_clear_part};
use crate::{CHUNK_LEN, ContentError, ContentKey, Envelope, FileMetadata, Progress, oid};

/// What [`info`] reads from a protected file without its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedFileInfo {
    envelope: Envelope,
    encrypted_len: u64,
    total_len: u64,
}

impl ProtectedFileInfo {
    /// The publishing license and the licensing server's URL.
    #[must_use]
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// Octets of encrypted content: the file and its encrypted header (at most
    /// [`MAX_HEADER_LEN`](crate::MAX_HEADER_LEN) octets).
    #[must_use]
    pub fn encrypted_len(&self) -> u64 {
        self.encrypted_len
    }

    /// Octets of the protected file.
    #[must_use]
    pub fn total_len(&self) -> u64 {
        self.total_len
    }
}

/// Reads the clear part of the protected file in `source`: the publishing license, the
/// licensing server's URL and the sizes, seeking over the ciphertext (which is not read).
///
/// Everything is checked structurally, and the recipient info against the publishing license,
/// but nothing here is authenticated: that takes the content key ([`open`]), and the
/// publishing license's signature takes `rms-chain`.
pub fn info<R: Read + Seek>(mut source: R) -> Result<ProtectedFileInfo, ContentError> {
    let clear = read_clear_part(&mut source)?;
    Ok(ProtectedFileInfo {
        encrypted_len: clear.ciphertext_len,
        total_len: clear.total_len,
        envelope: clear.envelope,
    })
}

/// A protected file opened into a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    metadata: FileMetadata,
    len: u64,
}

impl Opened {
    /// The original file's name and media type.
    #[must_use]
    pub fn metadata(&self) -> &FileMetadata {
        &self.metadata
    }

    /// Octets written.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file was empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A protected file opened in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedInMemory {
    metadata: FileMetadata,
    content: Vec<u8>,
}

impl OpenedInMemory {
    /// The original file's name and media type.
    #[must_use]
    pub fn metadata(&self) -> &FileMetadata {
        &self.metadata
    }

    /// The original file's content.
    #[must_use]
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The content, taken.
    #[must_use]
    pub fn into_content(self) -> Vec<u8> {
        self.content
    }
}

/// Decrypts the protected file in `source` with `key` into `destination`: through a temporary
/// file beside it that replaces `destination` only once the GCM tag matches. On any failure the
/// temporary file is removed and `destination` is untouched; no plaintext is left behind.
///
/// Reading and writing (on the calling thread) overlap with the decryption (on a second thread)
/// once the file spans more than one [`CHUNK_LEN`] chunk. Memory stays bounded: a few
/// [`CHUNK_LEN`] buffers. `progress` is called after each chunk is written, with the octets of
/// the file decrypted so far. The opened file is created readable by its owner
/// only; it is not synced to disk.
pub fn open<R: Read + Seek>(
    mut source: R,
    key: &ContentKey,
    destination: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Opened, ContentError> {
    let clear = read_clear_part(&mut source)?;
    let mut temporary = temporary_beside(destination)?;
    let mut len = 0u64;
    let metadata = decrypt(
        &mut source,
        &clear,
        key,
        |_| Ok(()),
        |plaintext| {
            len += plaintext.len() as u64;
            temporary
                .write_all(plaintext)
                .map_err(ContentError::io("writing the opened file"))
        },
        progress,
    )?;
    temporary
        .flush()
        .map_err(ContentError::io("writing the opened file"))?;
    temporary
        .persist(destination)
        .map_err(|err| ContentError::Io {
            what: "renaming the opened file into place",
            source: err.error,
        })?;
    Ok(Opened { metadata, len })
}

/// [`open`] of the file at `source`.
pub fn open_file(
    source: &Path,
    key: &ContentKey,
    destination: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Opened, ContentError> {
    let file = File::open(source).map_err(ContentError::io("opening the protected file"))?;
    open(file, key, destination, progress)
}

/// [`open`] in memory, for small files: refuses content over `limit` octets (before
/// decrypting when the sizes show it). The content is returned only once the tag matches;
/// until then it is wiped on failure.
pub fn open_in_memory(
    protected: &[u8],
    key: &ContentKey,
    limit: u64,
) -> Result<OpenedInMemory, ContentError> {
    let mut source = std::io::Cursor::new(protected);
    let clear = read_clear_part(&mut source)?;
    if clear.ciphertext_len > limit.saturating_add(MAX_HEADER_LEN as u64) {
        return Err(ContentError::ExceedsMemoryLimit {
            length: clear.ciphertext_len,
            limit,
        });
    }
    let mut content = Zeroizing::new(Vec::new());
    let length = std::cell::Cell::new(0u64);
    let metadata = decrypt(
        &mut source,
        &clear,
        key,
        |len| {
            if len > limit {
                return Err(ContentError::ExceedsMemoryLimit { length: len, limit });
            }
            length.set(len);
            Ok(())
        },
        |plaintext| {
            if content.capacity() == 0 {
                content.reserve_exact(usize::try_from(length.get()).unwrap_or(0));
            }
            content.extend_from_slice(plaintext);
            Ok(())
        },
        &mut |_| {},
    )?;
    Ok(OpenedInMemory {
        metadata,
        content: std::mem::take(&mut *content),
    })
}

/// A temporary file in `destination`'s folder (so that renaming it there is atomic).
pub(crate) fn temporary_beside(destination: &Path) -> Result<NamedTempFile, ContentError> {
    let folder = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".rms-")
        .suffix(".partial")
        .tempfile_in(folder)
        .map_err(ContentError::io(
            "creating a temporary file beside the destination",
        ))
}

/// Decrypts the ciphertext of `clear` from `source`: the header first (checked against the
/// clear part, then `on_length` is told the content's length), then the content, chunk by
/// chunk, to `sink`; then the tag is checked. Returns the header's metadata.
fn decrypt<R: Read + Seek>(
    source: &mut R,
    clear: &ClearPart,
    key: &ContentKey,
    mut on_length: impl FnMut(u64) -> Result<(), ContentError>,
    mut sink: impl FnMut(&[u8]) -> Result<(), ContentError>,
    progress: &mut dyn FnMut(Progress),
) -> Result<FileMetadata, ContentError> {
    source
        .seek(SeekFrom::Start(clear.ciphertext_at))
        .map_err(ContentError::io("seeking to the ciphertext"))?;
    let mut gcm = StreamingGcm::new(key.as_bytes(), &clear.nonce, &[])?;
    let buffer_len = usize::try_from(clear.ciphertext_len).map_or(CHUNK_LEN, |n| n.min(CHUNK_LEN));
    let mut remaining = clear.ciphertext_len;
    let mut first = true;
    let mut metadata = None;
    let mut total = 0;
    let mut done = 0u64;
    pipeline::run(
        &mut gcm,
        Direction::Open,
        buffer_len,
        clear.ciphertext_len > buffer_len as u64,
        |buffer| {
            // An empty ciphertext still makes one (empty) chunk: its missing header is
            // refused as such, before the tag.
            if remaining == 0 && !first {
                return Ok(None);
            }
            first = false;
            let n = usize::try_from(remaining).map_or(buffer.len(), |r| r.min(buffer.len()));
            let chunk = &mut buffer[..n];
            source.read_exact(chunk).map_err(|err| match err.kind() {
                std::io::ErrorKind::UnexpectedEof => ContentError::Truncated {
                    at: clear.total_len,
                    what: "the ciphertext (the file shrank while it was read)",
                },
                _ => ContentError::Io {
                    what: "reading the ciphertext",
                    source: err,
                },
            })?;
            remaining -= n as u64;
            Ok(Some(n))
        },
        |chunk| {
            let content = if metadata.is_none() {
                let (header, header_len) = decode_header(chunk, clear)?;
                total = clear.ciphertext_len - header_len as u64;
                on_length(total)?;
                metadata = Some(header);
                &chunk[header_len..]
            } else {
                &chunk[..]
            };
            sink(content)?;
            done += content.len() as u64;
            progress(Progress { done, total });
            Ok(())
        },
    )?;
    verify_slices_are_equal(&gcm.tag(), &clear.tag).map_err(|_| {
        ContentError::AuthenticationFailed {
            at: clear.tag_at,
            end: clear.tag_at + TAG_LEN as u64,
        }
    })?;
    metadata.ok_or(ContentError::HeaderUnreadable {
        at: clear.ciphertext_at,
        reason: "the encrypted content is empty".to_owned(),
    })
}

/// Decodes the header at the start of the decrypted `plaintext` and checks its digest of the
/// clear part; returns it and its length.
fn decode_header(
    plaintext: &[u8],
    clear: &ClearPart,
) -> Result<(FileMetadata, usize), ContentError> {
    let unreadable = |reason: String| ContentError::HeaderUnreadable {
        at: clear.ciphertext_at,
        reason,
    };
    let header_len = match plaintext {
        [] => return Err(unreadable("the encrypted content is empty".to_owned())),
        [TAG_SEQUENCE, len @ 0..=0x7f, ..] => 2 + usize::from(*len),
        [TAG_SEQUENCE, 0x81, len @ 0x80..=0xff, ..] => 3 + usize::from(*len),
        [TAG_SEQUENCE, 0x82, hi @ 0x01..=0xff, lo, ..] => {
            4 + (usize::from(*hi) << 8 | usize::from(*lo))
        }
        _ => {
            return Err(unreadable(
                "it does not start with a DER SEQUENCE".to_owned(),
            ));
        }
    };
    if header_len > MAX_HEADER_LEN || header_len > plaintext.len() {
        return Err(unreadable(format!(
            "a header of {header_len} octets in {} octets of content (at most {MAX_HEADER_LEN})",
            plaintext.len()
        )));
    }
    let raw =
        RawHeader::from_der(&plaintext[..header_len]).map_err(|err| unreadable(err.to_string()))?;
    if raw.content_type != oid::PROTECTED_CONTENT {
        return Err(unreadable(format!("its type is {}", raw.content_type)));
    }
    if raw.version != HEADER_VERSION {
        // Not authenticated yet, so not trusted to be a newer format rather than damage.
        return Err(unreadable(format!(
            "header version {} (this implementation reads {HEADER_VERSION})",
            raw.version
        )));
    }
    let metadata = FileMetadata::new(&raw.file_name, &raw.media_type)
        .map_err(|err| unreadable(err.to_string()))?;
    let expected = clear_digest(&clear.recipient_infos);
    if raw.clear_digest.as_bytes().len() != DIGEST_LEN
        || verify_slices_are_equal(raw.clear_digest.as_bytes(), &expected).is_err()
    {
        return Err(ContentError::ClearPartAltered {
            at: clear.recipient_infos_at,
            end: clear.recipient_infos_at + clear.recipient_infos.len() as u64,
        });
    }
    Ok((metadata, header_len))
}
