#![allow(clippy::unwrap_used)]

use aes_gcm::aead::{AeadInOut, KeyInit};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use proptest::prelude::*;

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Seals `plaintext` with the streaming construction, cut into chunks of `cuts` blocks (the
/// rest in one last chunk); returns ciphertext || tag.
fn stream_seal(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
    cuts: &[usize],
) -> Vec<u8> {
    let mut gcm = StreamingGcm::new(key, nonce, aad).unwrap();
    let mut data = plaintext.to_vec();
    let mut rest = data.as_mut_slice();
    for &blocks in cuts {
        let n = (blocks * BLOCK).min(rest.len() / BLOCK * BLOCK);
        let (chunk, tail) = rest.split_at_mut(n);
        gcm.seal_chunk(chunk).unwrap();
        rest = tail;
    }
    gcm.seal_chunk(rest).unwrap();
    data.extend_from_slice(&gcm.tag());
    data
}

fn stream_open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
    cuts: &[usize],
) -> (Vec<u8>, [u8; 16]) {
    let mut gcm = StreamingGcm::new(key, nonce, aad).unwrap();
    let mut data = sealed[..sealed.len() - TAG_LEN].to_vec();
    let mut rest = data.as_mut_slice();
    for &blocks in cuts {
        let n = (blocks * BLOCK).min(rest.len() / BLOCK * BLOCK);
        let (chunk, tail) = rest.split_at_mut(n);
        gcm.open_chunk(chunk).unwrap();
        rest = tail;
    }
    gcm.open_chunk(rest).unwrap();
    (data, gcm.tag())
}

fn aws_lc_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let mut data = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut data,
    )
    .unwrap();
    data
}

fn rust_crypto_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    let mut data = plaintext.to_vec();
    let tag = cipher
        .encrypt_inout_detached(nonce.into(), aad, data.as_mut_slice().into())
        .unwrap();
    data.extend_from_slice(&tag);
    data
}

struct Vector {
    name: &'static str,
    key: &'static str,
    nonce: &'static str,
    aad: &'static str,
    plaintext: &'static str,
    ciphertext: &'static str,
    tag: &'static str,
}

/// The AES-256 test cases 13 to 16 of the GCM specification (McGrew and Viega, "The Galois/
/// Counter Mode of Operation", appendix B), which NIST's validation uses too.
const VECTORS: [Vector; 4] = [
    Vector {
        name: "test case 13: empty",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        aad: "",
        plaintext: "",
        ciphertext: "",
        tag: "530f8afbc74536b9a963b4f1c4cb738b",
    },
    Vector {
        name: "test case 14: one zero block",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        aad: "",
        plaintext: "00000000000000000000000000000000",
        ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
        tag: "d0d1c8a799996bf0265b98b5d48ab919",
    },
    Vector {
        name: "test case 15: four blocks",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        nonce: "cafebabefacedbaddecaf888",
        aad: "",
        plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
                     8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        tag: "b094dac5d93471bdec1a502270e3cc6c",
    },
    Vector {
        name: "test case 16: 60 bytes and associated data",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        nonce: "cafebabefacedbaddecaf888",
        aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
                     8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
];

#[test]
fn specification_vectors_seal_and_open() {
    for v in &VECTORS {
        let key: [u8; 32] = hex(v.key).try_into().unwrap();
        let nonce: [u8; 12] = hex(v.nonce).try_into().unwrap();
        let (aad, plaintext) = (hex(v.aad), hex(v.plaintext));
        let mut expected = hex(v.ciphertext);
        expected.extend_from_slice(&hex(v.tag));
        for cuts in [&[][..], &[1], &[1, 1, 1], &[2, 1]] {
            let sealed = stream_seal(&key, &nonce, &aad, &plaintext, cuts);
            assert_eq!(sealed, expected, "{} sealed in chunks {cuts:?}", v.name);
            let (opened, tag) = stream_open(&key, &nonce, &aad, &sealed, cuts);
            assert_eq!(opened, plaintext, "{}", v.name);
            assert_eq!(tag.as_slice(), &hex(v.tag)[..], "{}", v.name);
        }
    }
}

#[test]
fn the_hash_key_is_the_encrypted_zero_block() {
    // H for the all-zero AES-256 key (GCM specification, test cases 13 and 14).
    let gcm = StreamingGcm::new(&[0; 32], &[0; 12], &[]).unwrap();
    assert_eq!(
        gcm.h.to_be_bytes().to_vec(),
        hex("dc95c078a2408989ad48a21492842087")
    );
}

#[test]
fn field_arithmetic() {
    let one = 1u128 << 127;
    let x = 0x0388dace60b6a392f328c2b971b2fe78u128;
    let y = 0x66e94bd4ef8a2c3b884cfa59ca342b2eu128;
    assert_eq!(gf_mul(x, one), x);
    assert_eq!(gf_mul(one, y), y);
    assert_eq!(gf_mul(x, y), gf_mul(y, x));
    assert_eq!(gf_mul(x, 0), 0);
    assert_eq!(gf_pow(y, 0), one);
    assert_eq!(gf_pow(y, 1), y);
    assert_eq!(gf_pow(y, 5), gf_mul(gf_mul(gf_mul(gf_mul(y, y), y), y), y));
    // x^127 * x = x^128 = x^7 + x^2 + x + 1: the reduction.
    assert_eq!(gf_mul(1, 1u128 << 126), R);
}

#[test]
fn chunks_after_a_partial_block_are_refused() {
    let mut gcm = StreamingGcm::new(&[7; 32], &[1; 12], &[]).unwrap();
    gcm.seal_chunk(&mut [0; 20]).unwrap();
    assert_eq!(
        gcm.seal_chunk(&mut [0; 16]),
        Err(GcmError::ChunkAfterPartialBlock)
    );
}

#[test]
fn the_length_limit_of_gcm_is_enforced() {
    let mut gcm = StreamingGcm::new(&[7; 32], &[1; 12], &[]).unwrap();
    gcm.text_len = MAX_PLAINTEXT_LEN - 32;
    gcm.seal_chunk(&mut [0; 32]).unwrap();
    assert_eq!(gcm.seal_chunk(&mut [0; 1]), Err(GcmError::TooLong));
}

#[test]
fn the_last_counter_allowed_does_not_carry_into_the_nonce() {
    // At the limit, the last block's counter is J0 + 1 + (2^32 - 3) = nonce || 0xffffffff.
    let mut gcm = StreamingGcm::new(&[7; 32], &[0xff; 12], &[]).unwrap();
    gcm.text_len = MAX_PLAINTEXT_LEN - 16;
    let counter = gcm.advance(16).unwrap();
    assert_eq!(counter, u128::MAX);
}

fn cuts_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..6, 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn streaming_equals_one_shot(
        key in any::<[u8; 32]>(),
        nonce in any::<[u8; 12]>(),
        aad in prop::collection::vec(any::<u8>(), 0..70),
        plaintext in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in cuts_strategy(),
    ) {
        let expected = aws_lc_seal(&key, &nonce, &aad, &plaintext);
        prop_assert_eq!(&rust_crypto_seal(&key, &nonce, &aad, &plaintext), &expected);
        let sealed = stream_seal(&key, &nonce, &aad, &plaintext, &cuts);
        prop_assert_eq!(&sealed, &expected);
        let (opened, tag) = stream_open(&key, &nonce, &aad, &sealed, &cuts);
        prop_assert_eq!(opened, plaintext);
        prop_assert_eq!(&tag[..], &sealed[sealed.len() - TAG_LEN..]);
    }
}

#[test]
fn large_chunks_equal_one_shot() {
    // Chunks of the size the file format uses (1 MiB), over a few of them and a tail.
    let key = [0x5a; 32];
    let nonce = [0xa5; 12];
    let plaintext: Vec<u8> = (0..(3 << 20) + 37)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
        .collect();
    let expected = aws_lc_seal(&key, &nonce, &[], &plaintext);
    let per_chunk = (1 << 20) / BLOCK;
    let sealed = stream_seal(
        &key,
        &nonce,
        &[],
        &plaintext,
        &[per_chunk, per_chunk, per_chunk],
    );
    assert_eq!(sealed, expected);
}
