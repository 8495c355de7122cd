//! AES-256-GCM (NIST SP 800-38D) over a stream of chunks, exactly GCM: the ciphertext and tag
//! are those of a one-shot AES-256-GCM of the whole message, so any GCM implementation (OpenSSL's
//! `cms -decrypt`) opens what this seals.
//!
//! aws-lc has a one-shot AES-GCM but no streaming one, so the two halves of GCM are done apart,
//! both by aws-lc's assembly:
//!
//! - **Encryption** is AES-256-CTR from the counter block `J0 + 1`, where `J0 = nonce || 1` for a
//!   96-bit nonce. GCM increments only the low 32 bits of the counter (inc32); CTR increments all
//!   128. They agree while the low word does not wrap, which GCM's own length limit guarantees:
//!   at most 2^32 - 2 blocks, so the counter runs from 2 to at most 2^32 - 1.
//! - **Authentication** is GHASH over the ciphertext. aws-lc exposes its GHASH only inside
//!   GCM, so each chunk `D` is hashed as the associated data of a one-shot GCM seal of nothing,
//!   whose tag is `E(J0) ^ GHASH(D' || len(D) || 0)` (`D'` zero-padded to blocks). Removing
//!   `E(J0)` and the length block's term `L_D * H` leaves `P_D = H * GHASH(D')`, and since
//!   GHASH is a polynomial in `H`, the hash of the concatenation is the Horner sum
//!   `acc = acc * H^m ^ P_D` over the chunks (`m` = the chunk's blocks). The tag is then
//!   `E(J0) ^ acc ^ L * H` with `L = len(A) || len(C)` in bits. A handful of multiplications in
//!   GF(2^128) per chunk (done here, branch-free) cost nothing beside the chunk's bytes.
//!
//! Every chunk but the last must be a whole number of 16-byte blocks (GHASH pads each chunk,
//! and GCM pads only the end of the ciphertext).
//!
//! This file depends on nothing else in the crate so that the throughput example can compile
//! it as it is and measure it beside other candidates.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;

/// Length of the nonce (the 96-bit IV GCM recommends).
pub(crate) const NONCE_LEN: usize = 12;
/// Length of the tag (the full 128 bits).
pub(crate) const TAG_LEN: usize = 16;
/// Length of an AES-256 key.
pub(crate) const KEY_LEN: usize = 32;
/// Longest plaintext GCM allows: 2^39 - 256 bits (SP 800-38D §5.2.1.1).
pub(crate) const MAX_PLAINTEXT_LEN: u64 = (1 << 36) - 32;

const BLOCK: usize = 16;
/// GF(2^128) reduction constant of GCM (x^128 + x^7 + x^2 + x + 1, bit-reflected).
const R: u128 = 0xE1 << 120;

/// What can go wrong: both are the caller's mistakes or aws-lc failing, never the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GcmError {
    /// The message would exceed [`MAX_PLAINTEXT_LEN`].
    TooLong,
    /// A chunk followed one that was not a whole number of blocks.
    ChunkAfterPartialBlock,
    /// aws-lc refused an operation (it does not say why).
    Backend(&'static str),
}

/// Multiplication in GCM's GF(2^128), blocks read big-endian (SP 800-38D Algorithm 1),
/// without branches on the operands (they derive from the key).
fn gf_mul(x: u128, y: u128) -> u128 {
    let mut z = 0u128;
    let mut v = y;
    for i in (0..128).rev() {
        let bit = (x >> i) & 1;
        z ^= v & 0u128.wrapping_sub(bit);
        let carry = v & 1;
        v = (v >> 1) ^ (R & 0u128.wrapping_sub(carry));
    }
    z
}

/// `h^n` by square-and-multiply (`n` is a public block count).
fn gf_pow(h: u128, mut n: u64) -> u128 {
    let mut result = 1u128 << 127; // the field's one: x^0 is the leftmost bit
    let mut base = h;
    while n > 0 {
        if n & 1 == 1 {
            result = gf_mul(result, base);
        }
        base = gf_mul(base, base);
        n >>= 1;
    }
    result
}

fn blocks(len: usize) -> u64 {
    len.div_ceil(BLOCK) as u64
}

/// A GCM computation in progress, for one key and nonce: feed it chunks of plaintext to seal
/// or of ciphertext to open, in order, then take the tag.
pub(crate) struct StreamingGcm {
    ctr: EncryptingKey,
    gmac: LessSafeKey,
    nonce: [u8; NONCE_LEN],
    /// The hash key `E(0^128)`.
    h: u128,
    /// `E(J0)`, which masks every tag.
    ek_j0: u128,
    /// `H^m` for the last chunk length seen, reused while chunks keep that length.
    power: (usize, u128),
    acc: u128,
    aad_len: u64,
    text_len: u64,
    ended_mid_block: bool,
}

impl StreamingGcm {
    /// Starts a computation with `key`, `nonce` and associated data `aad` (hashed first).
    pub(crate) fn new(
        key: &[u8; KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
    ) -> Result<Self, GcmError> {
        let ctr = UnboundCipherKey::new(&AES_256, key)
            .and_then(EncryptingKey::ctr)
            .map_err(|_| GcmError::Backend("AES-256-CTR key setup"))?;
        let gmac = UnboundKey::new(&AES_256_GCM, key)
            .map(LessSafeKey::new)
            .map_err(|_| GcmError::Backend("AES-256-GCM key setup"))?;
        let mut gcm = Self {
            ctr,
            gmac,
            nonce: *nonce,
            h: 0,
            ek_j0: 0,
            power: (0, 1 << 127),
            acc: 0,
            aad_len: 0,
            text_len: 0,
            ended_mid_block: false,
        };
        gcm.h = u128::from_be_bytes(gcm.keystream_block(0)?);
        gcm.ek_j0 = u128::from_be_bytes(gcm.keystream_block(gcm.j0())?);
        if !aad.is_empty() {
            gcm.absorb(aad)?;
            gcm.aad_len = aad.len() as u64;
        }
        Ok(gcm)
    }

    /// The pre-counter block `J0 = nonce || 0^31 || 1`.
    fn j0(&self) -> u128 {
        let mut block = [0u8; BLOCK];
        block[..NONCE_LEN].copy_from_slice(&self.nonce);
        block[BLOCK - 1] = 1;
        u128::from_be_bytes(block)
    }

    /// `E(counter)`, as one block of CTR keystream.
    fn keystream_block(&self, counter: u128) -> Result<[u8; BLOCK], GcmError> {
        let mut block = [0u8; BLOCK];
        self.apply_ctr(counter, &mut block)?;
        Ok(block)
    }

    fn apply_ctr(&self, counter: u128, data: &mut [u8]) -> Result<(), GcmError> {
        let context = EncryptionContext::Iv128(FixedLength::from(counter.to_be_bytes()));
        self.ctr
            .less_safe_encrypt(data, context)
            .map(|_| ())
            .map_err(|_| GcmError::Backend("AES-256-CTR"))
    }

    /// Adds `data` (one chunk of the hashed input, zero-padded) to the running GHASH.
    fn absorb(&mut self, data: &[u8]) -> Result<(), GcmError> {
        let tag = self
            .gmac
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(self.nonce),
                Aad::from(data),
                &mut [],
            )
            .map_err(|_| GcmError::Backend("AES-256-GCM (hashing)"))?;
        let mut tag_bytes = [0u8; BLOCK];
        tag_bytes.copy_from_slice(tag.as_ref());
        let length_block = u128::from(data.len() as u64 * 8) << 64;
        let chunk_hash = u128::from_be_bytes(tag_bytes) ^ self.ek_j0 ^ gf_mul(length_block, self.h);
        if self.power.0 != data.len() {
            self.power = (data.len(), gf_pow(self.h, blocks(data.len())));
        }
        self.acc = gf_mul(self.acc, self.power.1) ^ chunk_hash;
        Ok(())
    }

    /// Checks that `len` more bytes of text may follow, and returns the counter block of the
    /// first of them.
    fn advance(&mut self, len: usize) -> Result<u128, GcmError> {
        if self.ended_mid_block {
            return Err(GcmError::ChunkAfterPartialBlock);
        }
        let new_len = self
            .text_len
            .checked_add(len as u64)
            .filter(|&n| n <= MAX_PLAINTEXT_LEN)
            .ok_or(GcmError::TooLong)?;
        let counter = self.j0() + 1 + u128::from(self.text_len / BLOCK as u64);
        self.text_len = new_len;
        self.ended_mid_block = !len.is_multiple_of(BLOCK);
        Ok(counter)
    }

    /// Encrypts `chunk` in place.
    pub(crate) fn seal_chunk(&mut self, chunk: &mut [u8]) -> Result<(), GcmError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let counter = self.advance(chunk.len())?;
        self.apply_ctr(counter, chunk)?;
        self.absorb(chunk)
    }

    /// Decrypts `chunk` in place (the tag is known only at the end: nothing decrypted may be
    /// released before [`tag`](Self::tag) matches).
    pub(crate) fn open_chunk(&mut self, chunk: &mut [u8]) -> Result<(), GcmError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let counter = self.advance(chunk.len())?;
        self.absorb(chunk)?;
        self.apply_ctr(counter, chunk)
    }

    /// The tag of everything fed so far.
    pub(crate) fn tag(&self) -> [u8; TAG_LEN] {
        let lengths = (u128::from(self.aad_len * 8) << 64) | u128::from(self.text_len * 8);
        (self.ek_j0 ^ self.acc ^ gf_mul(lengths, self.h)).to_be_bytes()
    }
}

impl Drop for StreamingGcm {
    /// The hash key and the tag mask derive from the content key (knowing `H` is enough to
    /// forge tags): wiped like the key itself.
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.h.zeroize();
        self.ek_j0.zeroize();
        self.power.1.zeroize();
        self.acc.zeroize();
    }
}

#[cfg(test)]
#[path = "gcm_tests.rs"]
mod tests;
