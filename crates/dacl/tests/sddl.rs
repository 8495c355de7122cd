//! SDDL: every alias, hex and named rights, invalid strings with positions, canonical printing,
//! conditional expressions and resource attributes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rms_dacl::{AccessMask, DomainSid, SddlErrorKind, SecurityDescriptor, Sid, SidContext};

const DOMAIN: DomainSid = DomainSid::new(1, 2, 3);

fn ctx() -> SidContext {
    SidContext::domain(DOMAIN)
}

fn round(text: &str) -> String {
    SecurityDescriptor::from_sddl(text, &ctx())
        .unwrap()
        .to_sddl(&ctx())
}

#[test]
fn every_sid_alias_resolves_and_prints_back() {
    let expected: &[(&str, &str)] = &[
        ("WD", "S-1-1-0"),
        ("CO", "S-1-3-0"),
        ("CG", "S-1-3-1"),
        ("OW", "S-1-3-4"),
        ("NU", "S-1-5-2"),
        ("IU", "S-1-5-4"),
        ("SU", "S-1-5-6"),
        ("AN", "S-1-5-7"),
        ("ED", "S-1-5-9"),
        ("PS", "S-1-5-10"),
        ("AU", "S-1-5-11"),
        ("RC", "S-1-5-12"),
        ("SY", "S-1-5-18"),
        ("LS", "S-1-5-19"),
        ("NS", "S-1-5-20"),
        ("WR", "S-1-5-33"),
        ("BA", "S-1-5-32-544"),
        ("BU", "S-1-5-32-545"),
        ("BG", "S-1-5-32-546"),
        ("PU", "S-1-5-32-547"),
        ("AO", "S-1-5-32-548"),
        ("SO", "S-1-5-32-549"),
        ("PO", "S-1-5-32-550"),
        ("BO", "S-1-5-32-551"),
        ("RE", "S-1-5-32-552"),
        ("RU", "S-1-5-32-554"),
        ("RD", "S-1-5-32-555"),
        ("NO", "S-1-5-32-556"),
        ("MU", "S-1-5-32-558"),
        ("LU", "S-1-5-32-559"),
        ("IS", "S-1-5-32-568"),
        ("CY", "S-1-5-32-569"),
        ("ER", "S-1-5-32-573"),
        ("CD", "S-1-5-32-574"),
        ("RA", "S-1-5-32-575"),
        ("ES", "S-1-5-32-576"),
        ("MS", "S-1-5-32-577"),
        ("HA", "S-1-5-32-578"),
        ("AA", "S-1-5-32-579"),
        ("RM", "S-1-5-32-580"),
        ("UD", "S-1-5-84-0-0-0-0-0"),
        ("AC", "S-1-15-2-1"),
        ("LW", "S-1-16-4096"),
        ("ME", "S-1-16-8192"),
        ("MP", "S-1-16-8448"),
        ("HI", "S-1-16-12288"),
        ("SI", "S-1-16-16384"),
        ("AS", "S-1-18-1"),
        ("SS", "S-1-18-2"),
        ("LA", "S-1-5-21-1-2-3-500"),
        ("LG", "S-1-5-21-1-2-3-501"),
        ("DA", "S-1-5-21-1-2-3-512"),
        ("DU", "S-1-5-21-1-2-3-513"),
        ("DG", "S-1-5-21-1-2-3-514"),
        ("DC", "S-1-5-21-1-2-3-515"),
        ("DD", "S-1-5-21-1-2-3-516"),
        ("CA", "S-1-5-21-1-2-3-517"),
        ("SA", "S-1-5-21-1-2-3-518"),
        ("EA", "S-1-5-21-1-2-3-519"),
        ("PA", "S-1-5-21-1-2-3-520"),
        ("CN", "S-1-5-21-1-2-3-522"),
        ("AP", "S-1-5-21-1-2-3-525"),
        ("KA", "S-1-5-21-1-2-3-526"),
        ("EK", "S-1-5-21-1-2-3-527"),
        ("RO", "S-1-5-21-1-2-3-498"),
        ("RS", "S-1-5-21-1-2-3-553"),
    ];
    for (alias, sid) in expected {
        let parsed = ctx().parse_sid(alias).unwrap();
        assert_eq!(parsed.to_string(), *sid, "{alias}");
        assert_eq!(ctx().sid_to_sddl(&parsed), *alias);
        // Numeric input prints as the alias; lower-case aliases are accepted.
        assert_eq!(round(&format!("O:{sid}")), format!("O:{alias}"));
        assert_eq!(
            round(&format!("O:{}", alias.to_lowercase())),
            format!("O:{alias}")
        );
    }
    // Domain aliases need a domain, and print numerically without one.
    let err = "O:DA".parse::<SecurityDescriptor>().unwrap_err();
    assert_eq!(err.kind(), &SddlErrorKind::MissingDomain("DA"));
    assert_eq!(err.position(), 2);
    let machine = SidContext::domain(DOMAIN).with_machine(DomainSid::new(7, 8, 9));
    assert_eq!(
        machine.parse_sid("LA").unwrap().to_string(),
        "S-1-5-21-7-8-9-500"
    );
    assert_eq!(
        SidContext::none().sid_to_sddl(&DOMAIN.well_known(512)),
        "S-1-5-21-1-2-3-512"
    );
}

#[test]
fn every_right_alias() {
    let rights: &[(&str, u32)] = &[
        ("CC", 0x1),
        ("DC", 0x2),
        ("LC", 0x4),
        ("SW", 0x8),
        ("RP", 0x10),
        ("WP", 0x20),
        ("DT", 0x40),
        ("LO", 0x80),
        ("CR", 0x100),
        ("SD", 0x10000),
        ("RC", 0x20000),
        ("WD", 0x40000),
        ("WO", 0x80000),
        ("GA", 0x1000_0000),
        ("GX", 0x2000_0000),
        ("GW", 0x4000_0000),
        ("GR", 0x8000_0000),
        ("FA", 0x1F01FF),
        ("FR", 0x120089),
        ("FW", 0x120116),
        ("FX", 0x1200A0),
        ("KA", 0xF003F),
        ("KR", 0x20019),
        ("KW", 0x20006),
    ];
    for (alias, bits) in rights {
        let sd = SecurityDescriptor::from_sddl(&format!("D:(A;;{alias};;;WD)"), &ctx()).unwrap();
        let mask = sd.dacl().acl().unwrap().aces()[0].mask();
        assert_eq!(mask, AccessMask::from_bits(*bits), "{alias}");
        assert_eq!(mask.to_sddl(), *alias);
        // The same mask in hex prints as the alias.
        assert_eq!(
            round(&format!("D:(A;;{bits:#x};;;WD)")),
            format!("D:(A;;{alias};;;WD)")
        );
    }
    assert_eq!(round("D:(A;;KX;;;WD)"), "D:(A;;KR;;;WD)");
    assert_eq!(round("S:(ML;;NWNRNX;;;LW)"), "S:(ML;;NWNRNX;;;LW)");
    assert_eq!(round("S:(ML;;0x1;;;HI)"), "S:(ML;;NW;;;HI)");
}

#[test]
fn hex_octal_decimal_and_named_rights() {
    assert_eq!(round("D:(A;;0x100;;;WD)"), "D:(A;;CR;;;WD)");
    assert_eq!(round("D:(A;;0400;;;WD)"), "D:(A;;CR;;;WD)");
    assert_eq!(round("D:(A;;256;;;WD)"), "D:(A;;CR;;;WD)");
    assert_eq!(round("D:(A;;0x200;;;WD)"), "D:(A;;0x200;;;WD)"); // no alias for bit 9
    assert_eq!(round("D:(A;;0x100000;;;WD)"), "D:(A;;0x100000;;;WD)"); // SYNCHRONIZE
    assert_eq!(round("D:(A;;0X1F;;;WD)"), "D:(A;;CCDCLCSWRP;;;WD)");
    assert_eq!(round("D:(A;;WPRP;;;WD)"), "D:(A;;RPWP;;;WD)");
    assert_eq!(round("D:(A;;rp wp;;;WD)"), "D:(A;;RPWP;;;WD)");
    assert_eq!(round("D:(A;;;;;WD)"), "D:(A;;;;;WD)");
}

#[test]
fn invalid_strings_are_refused_with_a_position() {
    let cases: &[(&str, usize)] = &[
        ("X:", 0),
        ("D:(A;;GA;;;WD", 13),
        ("D:(A;;GA;;;WD;)", 13),
        ("D:(Q;;GA;;;WD)", 3),
        ("D:(A;QQ;GA;;;WD)", 5),
        ("D:(A;;QQ;;;WD)", 6),
        ("D:(A;;GA ;;;WD)", 8),
        ("D:(A;;0x100000000;;;WD)", 6),
        ("D:(A;;-1;;;WD)", 6),
        ("D:(A;;GA;;;QQ)", 11),
        ("D:(A;;GA;;;S-1-5-4294967296)", 17),
        ("D:(A;;GA;nope;;WD)", 9),
        ("D:(A;;GA;bf967a86-0de6-11d0-a285-00aa003049e2;;WD)", 9),
        ("D:(OA;;GA;; bf967a86-0de6-11d0-a285-00aa003049e2;WD)", 11),
        ("S:(A;;GA;;;WD)", 3),
        ("D:(AU;SA;GA;;;WD)", 3),
        ("O:BAO:BA", 4),
        ("D:NO_ACCESS_CONTROL(A;;GA;;;WD)", 19),
        ("D:(XA;;GA;;;WD)", 14),
        ("D:(XA;;GA;;;WD;(@User.x ==))", 26),
        ("S:(RA;;;;;BA;(\"x\",TI,0,1))", 2),
    ];
    for (text, position) in cases {
        let err = SecurityDescriptor::from_sddl(text, &ctx()).expect_err(text);
        assert_eq!(err.position(), *position, "{text}: {err}");
        assert!(err.to_string().contains(&format!("at byte {position}")));
    }
}

#[test]
fn canonical_printing() {
    // Section order, flag order, ACE flag order, GUIDs in lower case, aliases for SIDs.
    assert_eq!(
        round("S:AI D:AIARP(A;CIOI;GA;;;S-1-5-32-544)G:SYO:BA"),
        "O:BAG:SYD:PARAI(A;OICI;GA;;;BA)S:AI"
    );
    assert_eq!(
        round("D:(OA;IDIO;RP;BF967A86-0DE6-11D0-A285-00AA003049E2;;AU)"),
        "D:(OA;IOID;RP;bf967a86-0de6-11d0-a285-00aa003049e2;;AU)"
    );
    assert_eq!(round("D:PNO_ACCESS_CONTROL"), "D:PNO_ACCESS_CONTROL");
    assert_eq!(round("  O:BA  G:SY  "), "O:BAG:SY");
    assert_eq!(round("D:(a;;ga;;;wd )"), "D:(A;;GA;;;WD)");
}

#[test]
fn conditional_aces_parse_print_and_round_trip() {
    let cases: &[(&str, &str)] = &[
        (r#"(@User.Title == "PM")"#, r#"(@USER.Title == "PM")"#),
        (
            r#"(@User.Title=="PM" && (@User.Division=="Finance" || @User.Division =="Sales"))"#,
            r#"((@USER.Title == "PM") && ((@USER.Division == "Finance") || (@USER.Division == "Sales")))"#,
        ),
        (
            "(@USER.A || @Device.B && @USER.C)",
            "((@USER.A) || ((@DEVICE.B) && (@USER.C)))",
        ),
        ("(!(! (Member_of{SID(AA)})))", "(!(!(Member_of {SID(AA)})))"),
        (
            "(Member_of {SID(S-1-999-777-7-7), SID(BO)})",
            "(Member_of {SID(S-1-999-777-7-7), SID(BO)})",
        ),
        (
            "(@Device.bb == 0x7fffffffffffffff)",
            "(@DEVICE.bb == 0x7fffffffffffffff)",
        ),
        ("(a == -010)", "(a == -010)"),
        (
            "(@Resource.x Any_of {1, +2, #00ff, \"s\"})",
            "(@RESOURCE.x Any_of {1, +2, #00ff, \"s\"})",
        ),
        ("(Exists @User.clearance)", "(Exists @USER.clearance)"),
        (
            "(@User.a%0020b Not_Contains @Resource.c)",
            "(@USER.a%0020b Not_Contains @RESOURCE.c)",
        ),
    ];
    for (cond, printed) in cases {
        let text = format!("D:(XA;;FX;;;WD;{cond})");
        let sd = SecurityDescriptor::from_sddl(&text, &ctx()).expect(&text);
        let out = sd.to_sddl(&ctx());
        assert_eq!(out, format!("D:(XA;;FX;;;WD;{printed})"));
        assert_eq!(SecurityDescriptor::from_sddl(&out, &ctx()).unwrap(), sd);
        let bytes = sd.to_bytes().unwrap();
        assert_eq!(
            SecurityDescriptor::from_bytes(&bytes).unwrap(),
            sd,
            "{text}"
        );
    }
    for bad in [
        "()",
        "(\"x\" == @User.a)",
        "(@User.a == )",
        "(Member_of {\"x\"})",
        "(Member_of #00)",
        "(Member_of {SID(BA), {3}})",
        "(@User.a == b)",
        "(@User.a == \"x)",
        "(@User.a == 99999999999999999999)",
    ] {
        let text = format!("D:(XA;;FX;;;WD;{bad})");
        assert!(
            SecurityDescriptor::from_sddl(&text, &ctx()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn conditional_ace_binary_matches_windows() {
    // From Windows (Samba's conditional_aces.txt.json): (XA;;FX;;;S-1-1-0;(@User.Title == "PM")).
    let sd = SecurityDescriptor::from_sddl(r#"D:(XA;;FX;;;S-1-1-0;(@User.Title == "PM"))"#, &ctx())
        .unwrap();
    let expected: &[u8] = &[
        1, 0, 4, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 60, 0, 1, 0, 0, 0, 9,
        0, 52, 0, 160, 0, 18, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 97, 114, 116, 120, 249, 10, 0,
        0, 0, 84, 0, 105, 0, 116, 0, 108, 0, 101, 0, 16, 4, 0, 0, 0, 80, 0, 77, 0, 128, 0, 0, 0,
    ];
    assert_eq!(sd.to_bytes().unwrap(), expected);
}

#[test]
fn resource_attribute_aces() {
    let text = r#"S:(RA;;;;;WD;("colour",TS,0,"blue", "red"))"#;
    let sd = SecurityDescriptor::from_sddl(text, &ctx()).unwrap();
    assert_eq!(
        sd.to_sddl(&ctx()),
        r#"S:(RA;;;;;WD;("colour",TS,0x0,"blue","red"))"#
    );
    // Windows' bytes for the same attribute (Samba's conditional_aces.txt.json).
    let windows_sacl: &[u8] = &[
        2, 0, 84, 0, 1, 0, 0, 0, 18, 0, 76, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 24,
        0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 38, 0, 0, 0, 48, 0, 0, 0, 99, 0, 111, 0, 108,
        0, 111, 0, 117, 0, 114, 0, 0, 0, 98, 0, 108, 0, 117, 0, 101, 0, 0, 0, 114, 0, 101, 0, 100,
        0, 0, 0,
    ];
    let bytes = sd.to_bytes().unwrap();
    assert_eq!(&bytes[20..], windows_sacl);
    assert_eq!(SecurityDescriptor::from_bytes(&bytes).unwrap(), sd);
    for text in [
        r#"S:(RA;;;;;WD;("n",TI,0x0,-1,2))"#,
        r#"S:(RA;;;;;WD;("n",TU,0x10,18446744073709551615))"#,
        r#"S:(RA;;;;;WD;("n",TD,0x0,BA,S-1-5-21-1-2-3-1105))"#,
        r#"S:(RA;;;;;WD;("n",TB,0x0,0,1))"#,
        r#"S:(RA;;;;;WD;("n",TX,0x0,00ff,))"#,
    ] {
        let sd = SecurityDescriptor::from_sddl(text, &ctx()).expect(text);
        let printed = sd.to_sddl(&ctx());
        assert_eq!(
            SecurityDescriptor::from_sddl(&printed, &ctx()).unwrap(),
            sd,
            "{text}"
        );
        assert_eq!(
            SecurityDescriptor::from_bytes(&sd.to_bytes().unwrap()).unwrap(),
            sd
        );
    }
    assert!(SecurityDescriptor::from_sddl(r#"S:(RA;;;;;WD;("n",TB,0x0,2))"#, &ctx()).is_err());
    assert!(SecurityDescriptor::from_sddl(r#"S:(RA;;;;;WD;("n",TI,0xff00,1))"#, &ctx()).is_err());
}

#[test]
fn sid_helpers() {
    let d: DomainSid = "S-1-5-21-10-20-30".parse().unwrap();
    assert_eq!(d.principal(1000).unwrap().rid(), Some(1000));
    assert!(d.principal(999).is_err());
    assert_eq!(
        Sid::new(5, &[32, 544]).unwrap(),
        Sid::BUILTIN_ADMINISTRATORS
    );
}
