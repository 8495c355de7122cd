//! SDDL forms Windows accepts beyond the shared vectors (issue 16), each written by hand as
//! `input -> what Windows prints`, and the ACL revision rule Windows follows when it converts
//! SDDL to bytes. For every case: the input prints as Windows prints it, the printed text
//! parses to the same descriptor, and both forms read back ([`SecurityDescriptor::read_back`]).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rms_dacl::{Expr, Literal, SddlErrorKind, SecurityDescriptor, Sid, SidContext, UnaryOp};

fn ctx() -> SidContext {
    SidContext::none()
}

/// Parses `input`, checks that it prints `windows`, that `windows` parses to the same
/// descriptor, and that it reads back from both of its forms.
fn prints_as_windows(input: &str, windows: &str) -> SecurityDescriptor {
    let sd = SecurityDescriptor::from_sddl(input, &ctx())
        .unwrap_or_else(|e| panic!("Windows accepts {input}, we refused: {e}"));
    assert_eq!(sd.to_sddl(&ctx()), windows, "printing {input}");
    let again = SecurityDescriptor::from_sddl(windows, &ctx()).unwrap();
    assert_eq!(again, sd, "parse({windows}) != parse({input})");
    assert_eq!(sd.read_back(&ctx()).unwrap(), sd, "{input}");
    sd
}

fn condition_root(sd: &SecurityDescriptor) -> &Expr {
    let ace = &sd.dacl().acl().unwrap().aces()[0];
    ace.kind().condition().unwrap().expr()
}

#[test]
fn ordering_operators_take_a_list_on_the_right() {
    for (input, windows) in [
        (
            "D:(XA;;FR;;;WD;(@DEVICE.l < {SID(AA)}))",
            "D:(XA;;FR;;;WD;(@DEVICE.l < {SID(AA)}))",
        ),
        (
            "D:(XA;;FR;;;WD;(@Device.l<={1,2}))",
            "D:(XA;;FR;;;WD;(@DEVICE.l <= {1, 2}))",
        ),
        (
            r#"D:(XA;;FR;;;WD;(@User.x >{"a", "b"}))"#,
            r#"D:(XA;;FR;;;WD;(@USER.x > {"a", "b"}))"#,
        ),
        (
            "D:(XA;;FR;;;WD;(@Resource.x >= {}))",
            "D:(XA;;FR;;;WD;(@RESOURCE.x >= {}))",
        ),
    ] {
        prints_as_windows(input, windows);
    }
}

#[test]
fn membership_operators_take_integers() {
    for (input, windows) in [
        (
            "D:(XD;;FX;;;WD;(Member_of {6723349}))",
            "D:(XD;;FX;;;WD;(Member_of {6723349}))",
        ),
        (
            "D:(XD;;FX;;;WD;(Member_of 3))(A;;CR;;;WD)",
            "D:(XD;;FX;;;WD;(Member_of 3))(A;;CR;;;WD)",
        ),
        (
            "D:(XD;;FX;;;WD;(Not_Member_of {1, 2, 3}))",
            "D:(XD;;FX;;;WD;(Not_Member_of {1, 2, 3}))",
        ),
        (
            "D:(XD;;FX;;;WD;(device_member_of{-0x10}))",
            "D:(XD;;FX;;;WD;(Device_Member_of {-0x10}))",
        ),
        // Our reading of "a SID or an integer, or a list of them": mixed lists are accepted.
        (
            "D:(XD;;FX;;;WD;(Member_of_Any {SID(BA), 7}))",
            "D:(XD;;FX;;;WD;(Member_of_any {SID(BA), 7}))",
        ),
    ] {
        prints_as_windows(input, windows);
    }
    let sd = prints_as_windows(
        "D:(XD;;FX;;;WD;(Member_of 3))",
        "D:(XD;;FX;;;WD;(Member_of 3))",
    );
    let Expr::Unary { op, operand } = condition_root(&sd) else {
        panic!("a unary operator");
    };
    assert_eq!(*op, UnaryOp::MemberOf);
    assert!(matches!(
        **operand,
        Expr::Literal(Literal::Int { value: 3, .. })
    ));

    // Still refused: values that are neither SIDs nor integers, and nested lists.
    for bad in [
        r#"D:(XD;;FX;;;WD;(Member_of "x"))"#,
        r#"D:(XD;;FX;;;WD;(Member_of {SID(BA), "x"}))"#,
        "D:(XD;;FX;;;WD;(Member_of #01))",
        "D:(XD;;FX;;;WD;(Member_of {{1}}))",
        "D:(XD;;FX;;;WD;(Member_of @USER.x))",
    ] {
        let err = SecurityDescriptor::from_sddl(bad, &ctx()).expect_err(bad);
        assert!(
            matches!(
                err.kind(),
                SddlErrorKind::InvalidCondition(_) | SddlErrorKind::Unexpected { .. }
            ),
            "{bad}: {err}"
        );
    }
}

#[test]
fn octet_strings_with_hash_digits() {
    // `#` starts the value; after it every `#` is a zero digit, and an odd number of digits
    // takes a leading zero. Windows prints both forms as `#01020300`.
    for (input, windows) in [
        (
            "D:AI(XA;OICI;FA;;;WD;(OctetStringType==##1#2#3##))",
            "D:AI(XA;OICI;FA;;;WD;(OctetStringType == #01020300))",
        ),
        (
            "D:AI(XA;OICI;FA;;;WD;(OctetStringType==#1#2#3##))",
            "D:AI(XA;OICI;FA;;;WD;(OctetStringType == #01020300))",
        ),
        (
            "D:AI(XA;OICI;FA;;;WD;(OctetStringType==#01020300))",
            "D:AI(XA;OICI;FA;;;WD;(OctetStringType == #01020300))",
        ),
    ] {
        let sd = prints_as_windows(input, windows);
        let Expr::Binary { rhs, .. } = condition_root(&sd) else {
            panic!("a comparison");
        };
        assert_eq!(**rhs, Expr::Literal(Literal::Octets(vec![1, 2, 3, 0])));
        // Windows' encoding of the value: octet-string token, length 4, the bytes.
        let bytes = sd.to_bytes().unwrap();
        let token = [0x18, 4, 0, 0, 0, 1, 2, 3, 0];
        assert!(
            bytes.windows(token.len()).any(|w| w == token),
            "{bytes:02x?}"
        );
    }
    // The same rule on other inputs (derived, not seen from Windows).
    for (value, printed) in [
        ("#1", "#01"),
        ("#ABC", "#0abc"),
        ("##", "#00"),
        ("#", "#"),
        ("#f#", "#f0"),
    ] {
        prints_as_windows(
            &format!("D:(XA;;FA;;;WD;(@USER.o == {value}))"),
            &format!("D:(XA;;FA;;;WD;(@USER.o == {printed}))"),
        );
    }
}

#[test]
fn redundant_parentheses_around_a_sid_operand() {
    for (input, windows) in [
        (
            "O:S-1-1-0D:(XA;;0x1ff;;;WD;(Member_of(SID(S-1-1-0))))",
            "O:WDD:(XA;;CCDCLCSWRPWPDTLOCR;;;WD;(Member_of SID(WD)))",
        ),
        (
            "O:s-1-1-0D:(xa;;;;;wd;(member_of((sid(s-1-1-0)))))",
            "O:WDD:(XA;;;;;WD;(Member_of SID(WD)))",
        ),
        (
            "D:(XA;;;;;WD;(Not_Member_of_Any ( {SID(BA), SID(WD)} ) ))",
            "D:(XA;;;;;WD;(Not_Member_of_any {SID(BA), SID(WD)}))",
        ),
    ] {
        let sd = prints_as_windows(input, windows);
        let Expr::Unary { operand, .. } = condition_root(&sd) else {
            panic!("a membership test");
        };
        assert!(matches!(
            **operand,
            Expr::Literal(Literal::Sid(_) | Literal::Composite(_))
        ));
    }
    // Windows writes the parenthesised SID as a single SID token (0x51), not as a list (0x50).
    let sd = SecurityDescriptor::from_sddl("D:(XA;;;;;WD;(Member_of((SID(WD)))))", &ctx()).unwrap();
    let bytes = sd.to_bytes().unwrap();
    let artx = bytes.windows(4).position(|w| w == b"artx").unwrap();
    assert_eq!(bytes[artx + 4], 0x51);
    assert_eq!(bytes[artx + 4 + 5 + 12], 0x89); // Member_of after the 12-byte SID
    for bad in [
        "D:(XA;;;;;WD;(Member_of((SID(WD))))",
        "D:(XA;;;;;WD;(Member_of(SID(WD)))))",
        "D:(XA;;;;;WD;(Member_of_AnySID(WD)))",
    ] {
        assert!(SecurityDescriptor::from_sddl(bad, &ctx()).is_err(), "{bad}");
    }
}

#[test]
fn spaces_inside_a_sid() {
    for (input, windows) in [
        ("O:S- 1- 2-3", "O:S-1-2-3"),
        ("O:S-1-  5-   32-544G:S- 1-1-0", "O:BAG:WD"),
        (
            "D:(A;;GA;;;S- 1- 5- 21-1-2-3- 1105)",
            "D:(A;;GA;;;S-1-5-21-1-2-3-1105)",
        ),
        (
            "D:(XA;;GA;;;WD;(Member_of {SID(S- 1- 1- 0)}))",
            "D:(XA;;GA;;;WD;(Member_of {SID(WD)}))",
        ),
    ] {
        prints_as_windows(input, windows);
    }
    // Only after a dash: a space before one still ends the SID, and the text is refused.
    for bad in ["O:S -1-2-3", "O:S-1 -2-3", "D:(A;;GA;;;S-1-5-32 -544)"] {
        assert!(SecurityDescriptor::from_sddl(bad, &ctx()).is_err(), "{bad}");
    }
}

#[test]
fn member_of_any_is_printed_with_windows_casing() {
    for (input, windows) in [
        ("(Member_of_Any {SID(WD)})", "(Member_of_any {SID(WD)})"),
        (
            "(Not_Member_of_Any {SID(WD)})",
            "(Not_Member_of_any {SID(WD)})",
        ),
        (
            "(Device_Member_of_Any {SID(WD)})",
            "(Device_Member_of_any {SID(WD)})",
        ),
        (
            "(NOT_DEVICE_MEMBER_OF_ANY {SID(WD)})",
            "(Not_Device_Member_of_any {SID(WD)})",
        ),
        ("(Member_of_any SID(WD))", "(Member_of_any SID(WD))"),
    ] {
        prints_as_windows(
            &format!("D:(XA;;;;;WD;{input})"),
            &format!("D:(XA;;;;;WD;{windows})"),
        );
    }
}

/// The 48-bit authorities print as Windows prints them (upper-case hex), also inside a
/// condition, and read back.
#[test]
fn sids_with_a_48_bit_authority_read_back_in_conditions() {
    prints_as_windows(
        "D:(XA;;RP;;;WD;(Member_of {SID(S-1-0x100000000-2098432-2147745792)}))",
        "D:(XA;;RP;;;WD;(Member_of {SID(S-1-0x100000000-2098432-2147745792)}))",
    );
    let sid = Sid::new(0xABCD_0000_000D, &[]).unwrap();
    // A SID without sub-authorities whose hex ends in D, right before the `D:` section.
    let text = format!("O:{sid}D:P");
    assert_eq!(text, "O:S-1-0xABCD0000000DD:P");
    let sd = prints_as_windows(&text, &text);
    assert_eq!(sd.owner(), Some(&sid));
}

/// Windows' SDDL converter writes ACL revision 4, and 4 unused bytes per ACE at the end of the
/// ACL, for every allow or deny ACE with no rights (it sizes them as object ACEs); it writes
/// revision 2 with no slack for callback ACEs with no rights (see docs/conformance.md).
#[test]
fn acl_revision_and_slack_follow_windows() {
    // D:(A;;;;;WD): header, ACL (revision 4, size 8 + 20 + 4), the ACE, 4 zero bytes.
    let mut expected = vec![
        1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
    ];
    expected.extend_from_slice(&[4, 0, 32, 0, 1, 0, 0, 0]);
    expected.extend_from_slice(&[0, 0, 20, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    expected.extend_from_slice(&[0, 0, 0, 0]);
    let sd = prints_as_windows("D:(A;;;;;WD)", "D:(A;;;;;WD)");
    assert_eq!(sd.to_bytes().unwrap(), expected);
    assert_eq!(SecurityDescriptor::from_bytes(&expected).unwrap(), sd);

    let revision_and_size = |text: &str| {
        let bytes = SecurityDescriptor::from_sddl(text, &ctx())
            .unwrap()
            .to_bytes()
            .unwrap();
        let acl = usize::from(bytes[16]);
        (
            bytes[acl],
            u16::from_le_bytes([bytes[acl + 2], bytes[acl + 3]]),
        )
    };
    // One slack word per empty allow or deny ACE, wherever it is.
    assert_eq!(revision_and_size("D:(A;;CC;;;WD)"), (2, 28));
    assert_eq!(revision_and_size("D:(D;;;;;WD)(A;;CC;;;WD)"), (4, 52));
    assert_eq!(
        revision_and_size("D:(D;;;;;WD)(A;;;;;WD)(A;;CC;;;WD)"),
        (4, 76)
    );
    // Not for callback ACEs with no rights (Windows' bytes: revision 2, exact size).
    assert_eq!(revision_and_size("D:(XA;;;;;WD;(@USER.a))"), (2, 40));
    // Object ACEs are revision 4 anyway, without slack.
    assert_eq!(revision_and_size("D:(OA;;;;;WD)"), (4, 32));
    // An ACL read from bytes with another revision or other slack takes Windows' layout.
    let mut other = expected.clone();
    other[20] = 2; // revision 2
    other.extend_from_slice(&[0; 8]);
    other[22] = 40; // 8 more bytes of slack
    let decoded = SecurityDescriptor::from_bytes(&other).unwrap();
    assert_eq!(decoded, sd);
    assert_eq!(decoded.to_bytes().unwrap(), expected);
}
