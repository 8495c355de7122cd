//! Property tests of the SDDL side: generated descriptors round-trip through SDDL and binary,
//! and whatever the parser accepts reads back from both forms.
//!
//! The default number of cases is modest; for a longer run set `PROPTEST_CASES`, for example
//! `PROPTEST_CASES=20000 cargo test -p rms-dacl --test properties --test decoding`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::strategies::{assert_reads_back, config, descriptor};
use proptest::prelude::*;
use rms_dacl::{Control, SecurityDescriptor, Sid, SidContext};

/// Text built from SDDL's own alphabet, so the parser gets deep before failing.
fn sddl_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("O:"),
            Just("G:"),
            Just("D:"),
            Just("S:"),
            Just("("),
            Just(")"),
            Just(";"),
            Just("A"),
            Just("D"),
            Just("OA"),
            Just("XA"),
            Just("RA"),
            Just("AU"),
            Just("P"),
            Just("AI"),
            Just("BA"),
            Just("WD"),
            Just("GA"),
            Just("CC"),
            Just("S-1-5-"),
            Just("0x"),
            Just("1"),
            Just("99999999999"),
            Just("-"),
            Just(" "),
            Just("\t"),
            Just("@User.x"),
            Just("=="),
            Just("&&"),
            Just("!"),
            Just("{"),
            Just("}"),
            Just("\""),
            Just("SID("),
            Just("#0f"),
            Just("NO_ACCESS_CONTROL"),
            Just("%00"),
            Just("bf967a86-0de6-11d0-a285-00aa003049e2"),
            Just("Member_of"),
            Just("Member_of_any "),
            Just("Exists "),
            Just("é"),
            Just("##1#"),
            Just("#"),
            Just(" < "),
            Just("3"),
            Just("-0x1"),
            Just("S- 1- "),
            Just("SID(WD)"),
            Just("||"),
            Just("(XA;;;;;WD;("),
            Just("(A;;;;;WD)"),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sddl_round_trip(sd in descriptor()) {
        let text = sd.to_string();
        let parsed = SecurityDescriptor::from_sddl(&text, &SidContext::none()).unwrap();
        prop_assert_eq!(&parsed, &sd, "{}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn binary_round_trip(sd in descriptor(), extra in any::<u16>()) {
        let bytes = sd.to_bytes().unwrap();
        prop_assert_eq!(SecurityDescriptor::from_bytes(&bytes).unwrap(), sd.clone());
        // Control bits SDDL cannot express (DEFAULTED, TRUSTED, SERVER_SECURITY,
        // RM_CONTROL_VALID) are accepted in the bytes and not kept, as Windows drops them when
        // it prints SDDL; neither is a flag of an absent ACL.
        let mut flagged = bytes.clone();
        let control = u16::from_le_bytes([flagged[2], flagged[3]]) | (extra & 0x40EB);
        let absent = |present: u16, flags: u16| if control & present == 0 { flags } else { 0 };
        let control = control | absent(0x0004, extra & 0x1500) | absent(0x0010, extra & 0x2A00);
        flagged[2..4].copy_from_slice(&control.to_le_bytes());
        prop_assert_eq!(SecurityDescriptor::from_bytes(&flagged).unwrap(), sd.clone());
        let built = sd.clone().with_control(Control::from_bits(sd.control().bits() | (extra & 0x40EB)));
        prop_assert_eq!(built, sd);
    }

    #[test]
    fn generated_descriptors_read_back(sd in descriptor()) {
        assert_reads_back(&sd)?;
    }

    #[test]
    fn sddl_parser_never_panics(text in any::<String>()) {
        let _ = SecurityDescriptor::from_sddl(&text, &SidContext::none());
        let _ = text.parse::<Sid>();
    }

    #[test]
    fn sddl_parser_never_panics_on_sddl_like_text(text in sddl_like()) {
        if let Ok(sd) = text.parse::<SecurityDescriptor>() {
            // Whatever is accepted prints canonically and reads back the same.
            let printed = sd.to_string();
            prop_assert_eq!(printed.parse::<SecurityDescriptor>().unwrap(), sd.clone());
            assert_reads_back(&sd)?;
        }
    }
}
