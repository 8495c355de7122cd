//! The access-check rules, one test per rule; each fails if the rule were implemented wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rms_dacl::{
    AccessMask, DenialReason, Denied, GenericMapping, Granted, Privilege, SecurityDescriptor, Sid,
    Token, access_check,
};

const RP: AccessMask = AccessMask::DS_READ_PROPERTY;
const WP: AccessMask = AccessMask::DS_WRITE_PROPERTY;
const RC: AccessMask = AccessMask::READ_CONTROL;
const WD: AccessMask = AccessMask::WRITE_DAC;
/// A mapping with execute rights in bits 0-4 and write in bit 5, like the services of rms-roles.
const MAP: GenericMapping = GenericMapping {
    read: AccessMask::DS_DELETE_CHILD.union(AccessMask::READ_CONTROL),
    write: AccessMask::DS_WRITE_PROPERTY.union(AccessMask::WRITE_DAC),
    execute: AccessMask::from_bits(0x1d),
    all: AccessMask::from_bits(0x3f).union(AccessMask::STANDARD_RIGHTS_REQUIRED),
};

fn sd(text: &str) -> SecurityDescriptor {
    text.parse().unwrap()
}

fn user() -> Sid {
    "S-1-5-21-1-2-3-1001".parse().unwrap()
}

fn admin() -> Token {
    Token::new(user())
        .with_group(Sid::BUILTIN_ADMINISTRATORS)
        .with_group(Sid::EVERYONE)
}

fn check(sd_text: &str, token: &Token, desired: AccessMask) -> Result<Granted, Denied> {
    access_check(&sd(sd_text), token, desired, &MAP)
}

fn granted(sd_text: &str, token: &Token, desired: AccessMask) -> AccessMask {
    check(sd_text, token, desired)
        .expect("should be granted")
        .mask()
}

fn denied(sd_text: &str, token: &Token, desired: AccessMask) -> DenialReason {
    check(sd_text, token, desired)
        .expect_err("should be denied")
        .reason()
        .clone()
}

#[test]
fn deny_before_allow_refuses() {
    let reason = denied("D:(D;;WP;;;BA)(A;;RPWP;;;BA)", &admin(), RP | WP);
    assert_eq!(
        reason,
        DenialReason::DeniedByAce {
            index: 0,
            ace: "(D;;WP;;;BA)".into(),
            bits: WP
        }
    );
    // Bits the deny does not name are still granted.
    assert_eq!(granted("D:(D;;WP;;;BA)(A;;RPWP;;;BA)", &admin(), RP), RP);
}

#[test]
fn allow_then_deny_of_same_bit_first_match_wins() {
    // The allow comes first, so the later deny cannot take WP back: order matters.
    assert_eq!(
        granted("D:(A;;RPWP;;;BA)(D;;WP;;;BA)", &admin(), RP | WP),
        RP | WP
    );
    // And in MAXIMUM_ALLOWED mode too.
    let max = granted(
        "D:(A;;RPWP;;;BA)(D;;WP;;;BA)",
        &admin(),
        AccessMask::MAXIMUM_ALLOWED,
    );
    assert_eq!(max, RP | WP);
}

#[test]
fn bits_granted_by_several_aces_accumulate() {
    assert_eq!(
        granted("D:(A;;RP;;;WD)(A;;WP;;;BA)", &admin(), RP | WP),
        RP | WP
    );
    // One ACE alone is not enough.
    let reason = denied("D:(A;;RP;;;WD)", &admin(), RP | WP);
    assert_eq!(reason, DenialReason::NotGranted { missing: WP });
}

#[test]
fn no_dacl_allows_everything_but_empty_dacl_denies() {
    let anyone = Token::new(user());
    assert_eq!(
        granted("O:SYG:SY", &anyone, AccessMask::DS_CREATE_CHILD),
        AccessMask::DS_CREATE_CHILD
    );
    assert_eq!(
        granted("D:NO_ACCESS_CONTROL", &anyone, AccessMask::DS_CREATE_CHILD),
        AccessMask::DS_CREATE_CHILD
    );
    // NULL DACL + MAXIMUM_ALLOWED gives the mapping's "all".
    assert_eq!(
        granted("O:SY", &anyone, AccessMask::MAXIMUM_ALLOWED),
        MAP.all
    );
    assert_eq!(
        denied("O:SYG:SYD:", &anyone, AccessMask::DS_CREATE_CHILD),
        DenialReason::EmptyDacl {
            missing: AccessMask::DS_CREATE_CHILD
        }
    );
    assert_eq!(
        denied("O:SYG:SYD:P", &admin(), AccessMask::MAXIMUM_ALLOWED),
        DenialReason::EmptyDacl {
            missing: AccessMask::EMPTY
        }
    );
}

#[test]
fn owner_gets_implicit_read_control_and_write_dac() {
    let owner = Token::new(user());
    let text = "O:S-1-5-21-1-2-3-1001D:";
    assert_eq!(granted(text, &owner, RC | WD), RC | WD);
    assert_eq!(granted(text, &owner, AccessMask::MAXIMUM_ALLOWED), RC | WD);
    assert!(check(text, &owner, AccessMask::WRITE_OWNER).is_err());
    // A later deny cannot take the implicit rights away.
    assert_eq!(
        granted("O:S-1-5-21-1-2-3-1001D:(D;;RC;;;WD)", &owner, RC),
        RC
    );
    // Not the owner: nothing.
    assert!(check(text, &Token::new(Sid::LOCAL_SYSTEM), RC).is_err());
}

#[test]
fn owner_rights_ace_replaces_implicit_rights() {
    let owner = Token::new(user());
    let text = "O:S-1-5-21-1-2-3-1001D:(A;;RC;;;OW)";
    assert_eq!(granted(text, &owner, AccessMask::MAXIMUM_ALLOWED), RC);
    assert_eq!(
        denied(text, &owner, WD),
        DenialReason::NotGranted { missing: WD }
    );
    // OW applies to the owner only.
    assert!(check(text, &Token::new(Sid::LOCAL_SYSTEM), RC).is_err());
    // An inherit-only OW ACE does not count, so the implicit rights come back.
    let io = "O:S-1-5-21-1-2-3-1001D:(A;IO;RC;;;OW)";
    assert_eq!(granted(io, &owner, RC | WD), RC | WD);
}

#[test]
fn deny_only_groups_match_deny_but_not_allow() {
    let token = Token::new(user()).with_deny_only_group(Sid::BUILTIN_ADMINISTRATORS);
    assert_eq!(
        denied("D:(A;;RP;;;BA)", &token, RP),
        DenialReason::NotGranted { missing: RP }
    );
    let reason = denied(
        "D:(D;;RP;;;BA)(A;;RP;;;WD)",
        &token.clone().with_group(Sid::EVERYONE),
        RP,
    );
    assert!(matches!(reason, DenialReason::DeniedByAce { index: 0, .. }));
    // The same group enabled is allowed.
    assert_eq!(granted("D:(A;;RP;;;BA)", &admin(), RP), RP);
}

#[test]
fn inherit_only_aces_are_skipped() {
    assert_eq!(
        denied("D:(A;IO;RP;;;WD)", &admin(), RP),
        DenialReason::NotGranted { missing: RP }
    );
    assert_eq!(granted("D:(D;IO;RP;;;WD)(A;;RP;;;WD)", &admin(), RP), RP);
    // Inherited (ID) ACEs without IO do apply.
    assert_eq!(granted("D:(A;ID;RP;;;WD)", &admin(), RP), RP);
}

#[test]
fn maximum_allowed_returns_every_granted_bit() {
    let text = "D:(D;;WP;;;BA)(A;;RPWPCC;;;WD)";
    assert_eq!(
        granted(text, &admin(), AccessMask::MAXIMUM_ALLOWED),
        RP | AccessMask::DS_CREATE_CHILD
    );
    // MAXIMUM_ALLOWED with an explicit bit that is denied names the deny ACE.
    let reason = denied(text, &admin(), AccessMask::MAXIMUM_ALLOWED | WP);
    assert!(matches!(reason, DenialReason::DeniedByAce { index: 0, bits, .. } if bits == WP));
    // With an explicit bit that is granted, the result is still everything granted.
    assert_eq!(
        granted(text, &admin(), AccessMask::MAXIMUM_ALLOWED | RP),
        RP | AccessMask::DS_CREATE_CHILD
    );
}

#[test]
fn generic_rights_are_mapped_in_request_and_aces() {
    // GA in the ACE grants every specific right of the mapping.
    assert_eq!(
        granted("D:(A;;GA;;;BA)", &admin(), AccessMask::DS_CREATE_CHILD),
        AccessMask::DS_CREATE_CHILD
    );
    // GR requested means read-chain + read-control.
    assert_eq!(
        granted("D:(A;;DCRC;;;WD)", &admin(), AccessMask::GENERIC_READ),
        AccessMask::DS_DELETE_CHILD | RC
    );
    // GX in the ACE does not include administer.
    assert_eq!(
        denied("D:(A;;GX;;;BA)", &admin(), AccessMask::DS_WRITE_PROPERTY),
        DenialReason::NotGranted {
            missing: AccessMask::DS_WRITE_PROPERTY
        }
    );
    // A generic deny is mapped too.
    assert!(matches!(
        denied(
            "D:(D;;GW;;;BA)(A;;GA;;;BA)",
            &admin(),
            AccessMask::DS_WRITE_PROPERTY
        ),
        DenialReason::DeniedByAce { index: 0, .. }
    ));
}

#[test]
fn nothing_requested_is_refused() {
    assert_eq!(
        denied("O:SY", &admin(), AccessMask::EMPTY),
        DenialReason::NothingRequested
    );
}

#[test]
fn privileges() {
    assert_eq!(
        denied("O:SY", &admin(), AccessMask::ACCESS_SYSTEM_SECURITY),
        DenialReason::PrivilegeNotHeld(Privilege::Security)
    );
    let token = admin()
        .with_privilege(Privilege::Security)
        .with_privilege(Privilege::TakeOwnership);
    assert_eq!(
        granted(
            "D:",
            &token,
            AccessMask::ACCESS_SYSTEM_SECURITY | AccessMask::WRITE_OWNER
        ),
        AccessMask::ACCESS_SYSTEM_SECURITY | AccessMask::WRITE_OWNER
    );
}

#[test]
fn object_aces_without_object_list_act_as_plain_aces() {
    let text = "D:(OD;;WP;bf967a86-0de6-11d0-a285-00aa003049e2;;BA)(OA;;RPWP;bf967a86-0de6-11d0-a285-00aa003049e2;;WD)";
    assert_eq!(granted(text, &admin(), RP), RP);
    assert!(matches!(
        denied(text, &admin(), WP),
        DenialReason::DeniedByAce { index: 0, .. }
    ));
}

#[test]
fn conditional_aces_are_refused_when_they_matter_never_ignored() {
    let text = r#"D:(XD;;WP;;;BA;(@User.Title == "PM"))(A;;RPWP;;;WD)"#;
    // The XD could deny WP: refuse rather than guess.
    let reason = denied(text, &admin(), WP);
    assert!(
        matches!(reason, DenialReason::Unsupported { index: 0, .. }),
        "{reason:?}"
    );
    // It cannot affect RP, so RP is decided by the other ACEs.
    assert_eq!(granted(text, &admin(), RP), RP);
    // A conditional ACE for someone else does not matter.
    assert_eq!(
        granted(text, &Token::new(user()).with_group(Sid::EVERYONE), WP),
        WP
    );
    let allow = r#"D:(XA;;RP;;;WD;(Member_of {SID(BA)}))"#;
    assert!(matches!(
        denied(allow, &admin(), RP),
        DenialReason::Unsupported { .. }
    ));
    assert!(matches!(
        denied(allow, &admin(), AccessMask::MAXIMUM_ALLOWED),
        DenialReason::Unsupported { .. }
    ));
}

#[test]
fn refusal_messages_name_the_deciding_ace() {
    let err = check(
        "D:(D;;CC;;;BA)(A;;GA;;;WD)",
        &admin(),
        AccessMask::DS_CREATE_CHILD,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "access denied (requested 0x1): ACE #0 (D;;CC;;;BA) denies 0x1"
    );
    let err = check("D:(A;;RP;;;WD)", &admin(), AccessMask::DS_CREATE_CHILD).unwrap_err();
    assert_eq!(
        err.to_string(),
        "access denied (requested 0x1): no ACE granted 0x1"
    );
}
