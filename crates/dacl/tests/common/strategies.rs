//! Strategies and checks shared by the property tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use rms_dacl::{
    AccessMask, Ace, AceFlags, AceKind, Acl, AclState, Control, DomainSid, Guid, ObjectTypes,
    SecurityDescriptor, Sid, SidContext,
};

/// The number of cases: `PROPTEST_CASES`, or a modest default.
pub(crate) fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The contexts decoded descriptors are printed and parsed with: none, and a domain (so that
/// domain-relative aliases are printed and parsed too).
pub(crate) fn contexts() -> [SidContext; 2] {
    [
        SidContext::none(),
        SidContext::domain(DomainSid::new(1, 2, 3)).with_machine(DomainSid::new(4, 5, 6)),
    ]
}

/// Whatever decoded reads back: its SDDL parses to it and its bytes decode to it.
pub(crate) fn assert_reads_back(sd: &SecurityDescriptor) -> Result<(), TestCaseError> {
    for ctx in contexts() {
        let text = sd.to_sddl(&ctx);
        match sd.read_back(&ctx) {
            Ok(again) => prop_assert_eq!(&again, sd, "{}", text),
            Err(e) => prop_assert!(false, "{} does not read back: {} ({:?})", text, e, e),
        }
    }
    Ok(())
}

pub(crate) fn sid() -> impl Strategy<Value = Sid> {
    (
        prop_oneof![0u64..40, 0u64..(1 << 48)],
        prop::collection::vec(prop_oneof![0u32..600, any::<u32>()], 0..=15),
    )
        .prop_map(|(auth, subs)| Sid::new(auth, &subs).unwrap())
}

pub(crate) fn guid() -> impl Strategy<Value = Option<Guid>> {
    prop::option::of(
        (any::<u32>(), any::<u16>(), any::<u16>(), any::<[u8; 8]>())
            .prop_map(|(a, b, c, d)| Guid::new(a, b, c, d)),
    )
}

pub(crate) fn ace(for_dacl: bool) -> impl Strategy<Value = Ace> {
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

/// Conditions and resource attributes of every kind, written as SDDL and parsed.
pub(crate) const CONDITIONS: &[&str] = &[
    r#"(@User.Title == "PM")"#,
    "(@USER.A || @Device.B && !(@USER.C))",
    "(Member_of {SID(BA), SID(S-1-0x100000000-2098432-2147745792)})",
    "(Not_Member_of_any 3)",
    "(Device_Member_of {6723349, SID(WD)})",
    "(@DEVICE.l < {SID(AA)})",
    "(OctetStringType == ##1#2#3##)",
    "(Exists @RESOURCE.r)",
    "(a == -010)",
    "(@User.a%0020b Not_Contains @Resource.c)",
    r#"(@Resource.x Any_of {1, +2, #00ff, "s", {}})"#,
    "(Member_of((SID(WD))))",
];

pub(crate) const ATTRIBUTES: &[&str] = &[
    r#"("colour",TS,0x0,"blue","red")"#,
    r#"("n",TI,0x0,-1,9223372036854775807)"#,
    r#"("n",TU,0x10,18446744073709551615)"#,
    r#"("n",TD,0x0,BA,S-1-5-21-1-2-3-1105)"#,
    r#"("n%0020m",TB,0x0,0,1)"#,
    r#"("n",TX,0x0,00ff,)"#,
];

pub(crate) fn rich_ace(for_dacl: bool) -> impl Strategy<Value = Ace> {
    let conditional = (0usize..CONDITIONS.len(), 0u8..3, any::<u32>(), sid()).prop_map(
        move |(i, kind, mask, sid)| {
            let code = match (for_dacl, kind) {
                (true, 0) => "XA",
                (true, 1) => "XD",
                (true, _) => "ZA",
                (false, _) => "XU",
            };
            let text = format!(
                "{}:({code};;{mask:#x};;;{sid};{})",
                if for_dacl { "D" } else { "S" },
                CONDITIONS[i]
            );
            let sd: SecurityDescriptor = text.parse().expect(&text);
            let acl = if for_dacl { sd.dacl() } else { sd.sacl() };
            acl.acl().unwrap().aces()[0].clone()
        },
    );
    if for_dacl {
        prop_oneof![3 => ace(true), 1 => conditional].boxed()
    } else {
        let attribute = (0usize..ATTRIBUTES.len()).prop_map(|i| {
            let sd: SecurityDescriptor =
                format!("S:(RA;;;;;WD;{})", ATTRIBUTES[i]).parse().unwrap();
            sd.sacl().acl().unwrap().aces()[0].clone()
        });
        prop_oneof![3 => ace(false), 1 => conditional, 1 => attribute].boxed()
    }
}

pub(crate) fn acl_state(for_dacl: bool) -> impl Strategy<Value = AclState> {
    prop_oneof![
        1 => Just(AclState::NotPresent),
        1 => Just(AclState::Null),
        4 => prop::collection::vec(rich_ace(for_dacl), 0..8).prop_map(|a| AclState::Present(Acl::from_aces(a))),
    ]
}

/// Descriptors that SDDL can express (only the P, AR and AI control bits).
pub(crate) fn descriptor() -> impl Strategy<Value = SecurityDescriptor> {
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
