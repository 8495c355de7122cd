//! EME-OAEP decoding (RFC 8017 §7.1.2, SHA-256, MGF1-SHA-256, empty label) in constant time,
//! for tokens that do the raw RSA operation (CKM_RSA_X_509) but not OAEP with SHA-256 (SoftHSM
//! 2.6 does OAEP with SHA-1 only). The private-key operation stays in the token; only the
//! padding is checked here, without a branch or an index that depends on the padding.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::KeyError;

const H_LEN: usize = 32;

/// 0xff when `a == b`, 0 otherwise, without a branch.
fn eq_mask(a: u8, b: u8) -> u8 {
    let x = u16::from(a ^ b);
    // x - 1 borrows into the high byte exactly when x == 0.
    let borrow = x.wrapping_sub(1) >> 8;
    (borrow & 0xff) as u8
}

/// MGF1 with SHA-256 (RFC 8017 B.2.1), XORed into `out`.
fn xor_mgf1(seed: &[u8], out: &mut [u8]) {
    for (counter, chunk) in out.chunks_mut(H_LEN).enumerate() {
        let mut hash = Sha256::new();
        hash.update(seed);
        hash.update(u32::try_from(counter).unwrap_or(u32::MAX).to_be_bytes());
        for (o, m) in chunk.iter_mut().zip(hash.finalize()) {
            *o ^= m;
        }
    }
}

/// Decodes the encoded message `em` (the raw RSA decryption, `k` octets long).
pub(crate) fn decode(em: &[u8], k: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if em.len() != k || k < 2 * H_LEN + 2 {
        return Err(KeyError::Decryption);
    }
    let mut em = Zeroizing::new(em.to_vec());
    let (y, rest) = em.split_at_mut(1);
    let (seed, db) = rest.split_at_mut(H_LEN);
    xor_mgf1(db, seed);
    xor_mgf1(seed, db);
    let empty_label_hash = Sha256::digest([]);
    let mut good = eq_mask(y[0], 0);
    for (a, b) in db[..H_LEN].iter().zip(empty_label_hash) {
        good &= eq_mask(*a, b);
    }
    // After lHash: zero or more 0x00, then 0x01, then the message.
    let mut looking = 0xffu8;
    let mut separator = 0usize;
    let mut invalid = 0u8;
    for (i, &b) in db[H_LEN..].iter().enumerate() {
        let is_zero = eq_mask(b, 0);
        let is_one = eq_mask(b, 1);
        let found_here = looking & is_one;
        let take = usize::from(found_here & 1).wrapping_neg();
        separator = (separator & !take) | (i & take);
        invalid |= looking & !is_zero & !is_one;
        looking &= !is_one;
    }
    good &= !invalid & !looking;
    if good != 0xff {
        return Err(KeyError::Decryption);
    }
    Ok(Zeroizing::new(db[H_LEN + separator + 1..].to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// EME-OAEP encoding (RFC 8017 §7.1.1) with a given seed.
    fn encode(message: &[u8], k: usize, seed: [u8; H_LEN]) -> Vec<u8> {
        let mut db = Sha256::digest([]).to_vec();
        db.resize(k - message.len() - H_LEN - 2, 0);
        db.push(1);
        db.extend_from_slice(message);
        let mut seed = seed.to_vec();
        xor_mgf1(&seed, &mut db);
        xor_mgf1(&db, &mut seed);
        let mut em = vec![0];
        em.extend(seed);
        em.extend(db);
        em
    }

    #[test]
    fn masks() {
        for a in 0..=255u8 {
            for b in [0u8, 1, 0x80, 0xff] {
                assert_eq!(eq_mask(a, b), if a == b { 0xff } else { 0 });
            }
        }
    }

    #[test]
    fn decodes_what_encodes_and_refuses_damage() {
        for message in [&b""[..], b"a content key of 32 octets......", &[0x01; 190]] {
            let em = encode(message, 256, [7; H_LEN]);
            assert_eq!(&decode(&em, 256).unwrap()[..], message);
            for position in [0, 1, 40, 100, 255] {
                let mut damaged = em.clone();
                damaged[position] ^= 0x01;
                assert_eq!(decode(&damaged, 256).unwrap_err(), KeyError::Decryption);
            }
        }
        assert_eq!(decode(&[0; 255], 256).unwrap_err(), KeyError::Decryption);
        assert_eq!(decode(&[0; 256], 256).unwrap_err(), KeyError::Decryption);
    }
}
