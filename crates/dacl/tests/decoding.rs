//! Property tests of the binary side (issue 11 defect 8): whatever decodes, from condition
//! token streams (well-typed ones as Windows could write them, and untyped ones), random ACEs
//! and damaged descriptors, prints as SDDL that parses back to the same descriptor and
//! re-encodes to bytes that decode to it again (`read_back` checks both).
//!
//! The default number of cases is modest; for a longer run set `PROPTEST_CASES`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::strategies::{assert_reads_back, config, descriptor, sid};
use common::tokens;
use proptest::prelude::*;
use rms_dacl::SecurityDescriptor;

/// One valid scalar literal token.
fn valid_scalar() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (any::<i64>(), 1u8..=3, 1u8..=3).prop_map(|(v, sign, base)| {
            // Keep the sign marker consistent with the value, as the typing rules want.
            let sign = match (sign, v) {
                (1, v) if v < 0 => 2,
                (2, v) if v > 0 => 1,
                (3, v) if v < 0 && base == 2 => 2,
                (s, _) => s,
            };
            tokens::int_with(v, sign, base)
        }),
        prop::sample::select(vec!["", "s", "é ü", "a,b}"]).prop_map(tokens::string),
        prop::collection::vec(any::<u8>(), 0..4).prop_map(|b| tokens::octets(&b)),
        sid().prop_map(|s| tokens::sid_token(&s)),
    ]
}

/// One scalar literal token, valid or subtly not (bad signs and bases, NUL, quotes, SIDs of
/// every shape and with wrong lengths).
fn scalar_token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => valid_scalar(),
        1 => (
            prop_oneof![Just(0i64), Just(1), Just(-1), Just(i64::MIN), Just(i64::MAX), any::<i64>()],
            0u8..5,
            0u8..5,
        )
            .prop_map(|(v, sign, base)| tokens::int_with(v, sign, base)),
        1 => (1u8..4, any::<i64>()).prop_map(|(width, v)| {
            // The narrower integer tokens (int8/16/32): same layout, another code.
            let mut t = tokens::int(v);
            t[0] = width;
            t
        }),
        1 => prop_oneof![Just("\""), Just("a\u{0}b")].prop_map(tokens::string),
        1 => Just(vec![0x51, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1]), // SID length mismatch
    ]
}

/// An attribute token: mostly names that are valid in every scope, sometimes not.
fn attribute_token(scopes: std::ops::RangeInclusive<u8>) -> impl Strategy<Value = Vec<u8>> {
    (
        scopes,
        prop::sample::select(vec![
            "a",
            "Title",
            "x:y/z.w",
            "1",
            "a@b",
            "Exists",
            "member_of_ANY",
            "a b",
            "é",
            "%",
        ]),
    )
        .prop_map(|(token, name)| tokens::attribute(token, name))
}

/// A well-typed condition, as Windows could write it: tests joined by `&&`, `||`, `!`, over
/// attributes, `Exists`, membership tests and comparisons.
fn typed_condition() -> impl Strategy<Value = Vec<u8>> {
    let membership_value = prop_oneof![
        sid().prop_map(|s| tokens::sid_token(&s)),
        any::<i64>().prop_map(|v| tokens::int_with(v, if v < 0 { 2 } else { 3 }, 2)),
        prop::collection::vec(
            prop_oneof![
                sid().prop_map(|s| tokens::sid_token(&s)),
                (0i64..1000).prop_map(tokens::int),
            ],
            0..3,
        )
        .prop_map(|items| tokens::list(&items)),
    ];
    let comparison_rhs = prop_oneof![
        3 => valid_scalar(),
        1 => prop::collection::vec(valid_scalar(), 0..3).prop_map(|items| tokens::list(&items)),
        1 => attribute_token(0xf9..=0xfb),
    ];
    let leaf = prop_oneof![
        2 => attribute_token(0xf8..=0xfb),
        2 => (attribute_token(0xf8..=0xfb), prop::sample::select(vec![0x87u8, 0x8d]))
            .prop_map(|(mut t, op)| {
                t.push(op);
                t
            }),
        2 => (
            membership_value,
            prop::sample::select(vec![0x89u8, 0x8a, 0x8b, 0x8c, 0x90, 0x91, 0x92, 0x93]),
        )
            .prop_map(|(mut t, op)| {
                t.push(op);
                t
            }),
        3 => (
            attribute_token(0xf8..=0xfb),
            comparison_rhs,
            prop::sample::select(vec![0x80u8, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x88, 0x8e, 0x8f]),
        )
            .prop_map(|(mut l, r, op)| {
                l.extend(r);
                l.push(op);
                l
            }),
    ];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|mut t| {
                t.push(0xa2);
                t
            }),
            (
                inner.clone(),
                inner,
                prop::sample::select(vec![0xa0u8, 0xa1])
            )
                .prop_map(|(mut l, r, op)| {
                    l.extend(r);
                    l.push(op);
                    l
                }),
        ]
    })
}

/// One condition token: attributes (some named like operators, some invalid locally),
/// literals, lists, every operator, or a stray byte.
fn condition_token() -> impl Strategy<Value = Vec<u8>> {
    let names = prop_oneof![
        Just("a"),
        Just("Title"),
        Just("Exists"),
        Just("member_of_ANY"),
        Just("x:y/z.w"),
        Just("1"),
        Just("a b"),
        Just(""),
        Just("@a"),
        Just("a@b"),
        Just("é"),
        Just("%"),
        Just("a\u{0}"),
    ];
    let operators: Vec<u8> = vec![
        0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e,
        0x8f, 0x90, 0x91, 0x92, 0x93, 0xa0, 0xa1, 0xa2,
    ];
    prop_oneof![
        3 => (0xf8u8..=0xfb, names).prop_map(|(token, name)| tokens::attribute(token, name)),
        3 => scalar_token(),
        1 => prop::collection::vec(scalar_token(), 0..3).prop_map(|items| tokens::list(&items)),
        1 => prop::collection::vec(
            prop::collection::vec(scalar_token(), 0..2).prop_map(|items| tokens::list(&items)),
            0..2,
        )
        .prop_map(|items| tokens::list(&items)),
        4 => prop::sample::select(operators).prop_map(|op| vec![op]),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ]
}

const UNARY_CODES: [u8; 11] = [
    0x87, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x90, 0x91, 0x92, 0x93, 0xa2,
];
const BINARY_CODES: [u8; 12] = [
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x88, 0x8e, 0x8f, 0xa0, 0xa1,
];

/// A well-formed postfix token stream: a random tree over every operator, whatever the
/// operand types (the decoder's typing rules decide), with leaves from `condition_token`.
fn postfix_tree() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        3 => (0xf8u8..=0xfb, prop::sample::select(vec!["a", "Title", "Exists", "x:y", "1", "a b"]))
            .prop_map(|(token, name)| tokens::attribute(token, name)),
        2 => scalar_token(),
        1 => prop::collection::vec(scalar_token(), 0..3).prop_map(|items| tokens::list(&items)),
    ];
    leaf.prop_recursive(6, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(UNARY_CODES.to_vec())).prop_map(|(mut t, op)| {
                t.push(op);
                t
            }),
            (
                inner.clone(),
                inner,
                prop::sample::select(BINARY_CODES.to_vec())
            )
                .prop_map(|(mut l, r, op)| {
                    l.extend(r);
                    l.push(op);
                    l
                }),
        ]
    })
}

/// A descriptor with one callback ACE whose condition is a random token stream: mostly
/// well-formed trees, sometimes loose tokens.
fn callback_descriptor_bytes() -> impl Strategy<Value = Vec<u8>> {
    let stream = prop_oneof![
        4 => typed_condition(),
        2 => postfix_tree(),
        1 => prop::collection::vec(condition_token(), 1..12).prop_map(|parts| parts.concat()),
    ];
    (prop::sample::select(vec![0x09u8, 0x0a, 0x0d]), stream)
        .prop_map(|(ace_type, tokens)| tokens::callback_descriptor(ace_type, &tokens))
}

/// One ACE with a correct header and random contents: any type code, any flags, any mask, a
/// valid SID (or random bytes), random trailing data.
fn random_ace() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            8 => prop::sample::select(vec![0u8, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 13, 17, 18, 19]),
            1 => any::<u8>(),
        ],
        prop_oneof![8 => Just(0u8), 2 => 0u8..0x20, 1 => any::<u8>()],
        prop_oneof![2 => Just(0u32), 3 => any::<u32>()],
        prop_oneof![
            4 => sid().prop_map(|s| tokens::sid_bytes(&s)),
            1 => prop::collection::vec(any::<u8>(), 0..24),
        ],
        prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec(any::<u8>(), 0..40),
            2 => typed_condition().prop_map(|t| [b"artx".to_vec(), t].concat()),
            1 => postfix_tree().prop_map(|t| [b"artx".to_vec(), t].concat()),
        ],
    )
        .prop_map(|(code, flags, mask, sid, tail)| {
            let mut ace = vec![code, flags, 0, 0];
            ace.extend(mask.to_le_bytes());
            ace.extend(sid);
            ace.extend(tail);
            ace.resize(ace.len().next_multiple_of(4), 0);
            let size = u16::try_from(ace.len()).unwrap().to_le_bytes();
            ace[2..4].copy_from_slice(&size);
            ace
        })
}

/// A descriptor of random ACEs in a DACL or a SACL, with random control flags and ACL
/// revision, and sometimes slack.
fn random_ace_descriptor() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        any::<u16>(),
        2u8..=4,
        prop::collection::vec(random_ace(), 0..4),
        prop_oneof![3 => Just(0usize), 1 => 0usize..3],
    )
        .prop_map(|(in_sacl, control, revision, aces, slack_words)| {
            let body: Vec<u8> = aces.concat();
            let size = u16::try_from(8 + body.len() + 4 * slack_words).unwrap();
            let present: u16 = if in_sacl { 0x10 } else { 0x04 };
            let mut out = vec![1, 0];
            out.extend((control | present | 0x8000).to_le_bytes());
            out.extend([0u8; 4]); // owner
            out.extend([0u8; 4]); // group
            let acl_at = 20u32.to_le_bytes();
            if in_sacl {
                out.extend(acl_at);
                out.extend([0u8; 4]);
            } else {
                out.extend([0u8; 4]);
                out.extend(acl_at);
            }
            out.extend([revision, 0]);
            out.extend(size.to_le_bytes());
            out.extend(u16::try_from(aces.len()).unwrap().to_le_bytes());
            out.extend([0, 0]);
            out.extend(body);
            out.resize(out.len() + 4 * slack_words, 0);
            out
        })
}

proptest! {
    #![proptest_config(config())]

    /// Issue 11 defect 8: whatever decodes from binary prints as SDDL that parses back to the
    /// same descriptor, and re-encodes to bytes that decode to it (`read_back` checks both).
    #[test]
    fn decoded_conditions_read_back(bytes in callback_descriptor_bytes()) {
        if let Ok(sd) = SecurityDescriptor::from_bytes(&bytes) {
            assert_reads_back(&sd)?;
        }
    }

    /// Random ACEs inside a correctly framed descriptor (so that decoding gets to them).
    #[test]
    fn random_aces_that_decode_read_back(bytes in random_ace_descriptor()) {
        if let Ok(sd) = SecurityDescriptor::from_bytes(&bytes) {
            assert_reads_back(&sd)?;
        }
    }

    #[test]
    fn binary_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(sd) = SecurityDescriptor::from_bytes(&bytes) {
            assert_reads_back(&sd)?;
        }
    }

    #[test]
    fn binary_decoder_never_panics_on_damaged_descriptors(
        sd in descriptor(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = sd.to_bytes().unwrap();
        for (at, value) in damage {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(decoded) = SecurityDescriptor::from_bytes(&bytes) {
            // Whatever is accepted encodes again, prints, and reads back from both forms.
            assert_reads_back(&decoded)?;
        }
    }
}

#[test]
fn damaged_conditional_aces_never_panic() {
    let sd: SecurityDescriptor =
        r#"D:(XA;;FX;;;WD;((@User.Title == "PM") && Member_of {SID(BA), SID(S-1-5-21-1-2-3-4)}))"#
            .parse()
            .unwrap();
    let bytes = sd.to_bytes().unwrap();
    for i in 0..bytes.len() {
        for value in [0u8, 1, 0x7f, 0x80, 0xa0, 0xf9, 0xff] {
            let mut b = bytes.clone();
            b[i] = value;
            let _ = SecurityDescriptor::from_bytes(&b);
        }
        let _ = SecurityDescriptor::from_bytes(&bytes[..i]);
    }
}
