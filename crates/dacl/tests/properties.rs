//! Property tests: SDDL and binary round trips, and parsers that never panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use rms_dacl::{
    AccessMask, Ace, AceFlags, AceKind, Acl, AclState, Control, Guid, ObjectTypes,
    SecurityDescriptor, Sid, SidContext,
};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn sid() -> impl Strategy<Value = Sid> {
    (
        prop_oneof![0u64..40, 0u64..(1 << 48)],
        prop::collection::vec(prop_oneof![0u32..600, any::<u32>()], 0..=15),
    )
        .prop_map(|(auth, subs)| Sid::new(auth, &subs).unwrap())
}

fn guid() -> impl Strategy<Value = Option<Guid>> {
    prop::option::of(
        (any::<u32>(), any::<u16>(), any::<u16>(), any::<[u8; 8]>())
            .prop_map(|(a, b, c, d)| Guid::new(a, b, c, d)),
    )
}

fn ace(for_dacl: bool) -> impl Strategy<Value = Ace> {
    (0u8..4, guid(), guid(), any::<u8>(), any::<u32>(), sid()).prop_map(
        move |(kind, g1, g2, flags, mask, sid)| {
            let objects = ObjectTypes {
                object_type: g1,
                inherited_object_type: g2,
            };
            let kind = match (for_dacl, kind) {
                (true, 0) => AceKind::AccessAllowed,
                (true, 1) => AceKind::AccessDenied,
                (true, 2) => AceKind::AccessAllowedObject(objects),
                (true, _) => AceKind::AccessDeniedObject(objects),
                (false, 0) => AceKind::SystemAudit,
                (false, 1) => AceKind::SystemMandatoryLabel,
                (false, 2) => AceKind::SystemAuditObject(objects),
                (false, _) => AceKind::SystemAlarm,
            };
            let flags = AceFlags::from_bits(flags & AceFlags::ALL.bits()).unwrap();
            Ace::new(kind, flags, AccessMask::from_bits(mask), sid).unwrap()
        },
    )
}

fn acl_state(for_dacl: bool) -> impl Strategy<Value = AclState> {
    prop_oneof![
        1 => Just(AclState::NotPresent),
        1 => Just(AclState::Null),
        4 => prop::collection::vec(ace(for_dacl), 0..8).prop_map(|a| AclState::Present(Acl::from_aces(a))),
    ]
}

/// Descriptors that SDDL can express (only the P, AR and AI control bits).
fn descriptor() -> impl Strategy<Value = SecurityDescriptor> {
    (
        prop::option::of(sid()),
        prop::option::of(sid()),
        acl_state(true),
        acl_state(false),
        any::<u16>(),
    )
        .prop_map(|(owner, group, dacl, sacl, control)| {
            // ACL flags only print when the ACL is present.
            let dacl_bits = Control::DACL_PROTECTED.bits()
                | Control::DACL_AUTO_INHERIT_REQ.bits()
                | Control::DACL_AUTO_INHERITED.bits();
            let sacl_bits = Control::SACL_PROTECTED.bits()
                | Control::SACL_AUTO_INHERIT_REQ.bits()
                | Control::SACL_AUTO_INHERITED.bits();
            let mut sddl_bits = 0;
            if dacl != AclState::NotPresent {
                sddl_bits |= dacl_bits;
            }
            if sacl != AclState::NotPresent {
                sddl_bits |= sacl_bits;
            }
            SecurityDescriptor::new()
                .with_owner(owner)
                .with_group(group)
                .with_dacl(dacl)
                .unwrap()
                .with_sacl(sacl)
                .unwrap()
                .with_control(Control::from_bits(control & sddl_bits))
        })
}

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
            Just("é"),
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
        // The binary form also keeps the DEFAULTED/TRUSTED/SERVER_SECURITY control bits.
        let extra = Control::from_bits(extra & 0x00EB);
        let sd = sd.clone().with_control(Control::from_bits(sd.control().bits() | extra.bits()));
        let bytes = sd.to_bytes().unwrap();
        prop_assert_eq!(SecurityDescriptor::from_bytes(&bytes).unwrap(), sd);
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
            prop_assert_eq!(printed.parse::<SecurityDescriptor>().unwrap(), sd);
        }
    }

    #[test]
    fn binary_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = SecurityDescriptor::from_bytes(&bytes);
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
            // Whatever is accepted encodes again and decodes to the same descriptor.
            let again = SecurityDescriptor::from_bytes(&decoded.to_bytes().unwrap()).unwrap();
            prop_assert_eq!(again, decoded);
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
