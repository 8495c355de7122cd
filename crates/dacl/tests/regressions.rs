//! Regression tests for defects found in review (issue 11) and by the property tests: each one
//! failed on the code it was written against.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::tokens::{EQUAL, MEMBER_OF, OR, int, list, local, sid_token, user, xa_descriptor};
use rms_dacl::{BinaryErrorKind, Condition, SddlErrorKind, SecurityDescriptor, Sid, SidContext};

const MAX: usize = Condition::MAX_DEPTH;

fn ctx() -> SidContext {
    SidContext::none()
}

fn xa(condition: &str) -> String {
    format!("D:(XA;;FX;;;WD;{condition})")
}

/// `(@USER.a0 || @USER.a1 || ...)`: `n` operands, `n` deep.
fn chain(op: &str, n: usize) -> String {
    let mut text = String::from("(@USER.a0");
    for i in 1..n {
        text.push_str(&format!(" {op} @USER.a{i}"));
    }
    text.push(')');
    text
}

/// `(@USER.a0 || (@USER.a1 || (...)))`: `n` operands, `n` deep.
fn right_chain(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n - 1 {
        text.push_str(&format!("(@USER.a{i} || "));
    }
    text.push_str(&format!("@USER.a{}", n - 1));
    text.push_str(&")".repeat(n - 1));
    text
}

/// `(!(!(...(@USER.a))))`: `nots` operators over one attribute, `nots + 1` deep.
fn not_chain(nots: usize) -> String {
    format!("{}(@USER.a){}", "(!".repeat(nots), ")".repeat(nots))
}

/// `(@USER.a == {{...{1}...}})`: `lists` nested lists, `lists + 2` deep.
fn list_chain(lists: usize) -> String {
    format!("(@USER.a == {}1{})", "{".repeat(lists), "}".repeat(lists))
}

fn parses_and_reads_back(condition: &str) -> SecurityDescriptor {
    let text = xa(condition);
    let sd = SecurityDescriptor::from_sddl(&text, &ctx())
        .unwrap_or_else(|e| panic!("{e} in {}...", &text[..text.len().min(80)]));
    assert_eq!(sd.read_back(&ctx()).unwrap(), sd);
    sd
}

fn refused_too_deep(condition: &str) -> usize {
    let err = SecurityDescriptor::from_sddl(&xa(condition), &ctx()).unwrap_err();
    assert_eq!(err.kind(), &SddlErrorKind::ConditionTooDeep, "{err}");
    err.position()
}

/// Issue 11 defect 5: 256 `||` operands parsed, but the stored (printed) descriptor was refused
/// as "nested too deeply" when read back, from SDDL and from binary alike. Now one rule: what
/// parses reads back, and one operand more is refused by the parser at the operator that
/// crosses the limit.
#[test]
fn or_chain_at_the_depth_limit_reads_back_and_one_more_is_refused_by_the_parser() {
    for op in ["||", "&&"] {
        let sd = parses_and_reads_back(&chain(op, MAX));
        let ace = &sd.dacl().acl().unwrap().aces()[0];
        assert_eq!(ace.kind().condition().unwrap().depth(), MAX);

        let text = chain(op, MAX + 1);
        let at = refused_too_deep(&text);
        let last_operator = text.rfind(op).unwrap();
        assert_eq!(at, "D:(XA;;FX;;;WD;".len() + last_operator);
    }
}

/// Every shape of the deepest condition allowed reads back; one level more is refused.
#[test]
fn every_shape_at_the_depth_limit_reads_back() {
    parses_and_reads_back(&right_chain(MAX));
    refused_too_deep(&right_chain(MAX + 1));

    parses_and_reads_back(&not_chain(MAX - 1));
    refused_too_deep(&not_chain(MAX));
    // `!` without parentheses.
    parses_and_reads_back(&format!("({}@USER.a)", "!".repeat(MAX - 1)));
    refused_too_deep(&format!("({}@USER.a)", "!".repeat(MAX)));

    parses_and_reads_back(&list_chain(MAX - 2));
    refused_too_deep(&list_chain(MAX - 1));

    // Redundant parentheses are levels of the text: up to the limit, they are fine.
    let parens = |n: usize| format!("({}@USER.a{})", "(".repeat(n), ")".repeat(n));
    let sd = parses_and_reads_back(&parens(MAX - 1));
    assert_eq!(sd.to_sddl(&ctx()), xa("(@USER.a)"));
    refused_too_deep(&parens(MAX));
    let member = |n: usize| format!("(Member_of {}SID(WD){})", "(".repeat(n), ")".repeat(n));
    parses_and_reads_back(&member(MAX - 1));
    refused_too_deep(&member(MAX));
}

/// Issue 11 defect 9: `||`/`&&` chains were not limited while parsing, and dropping a tree of
/// 100,000 operands overflowed a 2 MiB stack. Every long form is now refused while parsing,
/// with a specific error, on a 2 MiB stack.
#[test]
fn hundred_thousand_operands_are_refused_on_a_small_stack() {
    const N: usize = 100_000;
    let inputs: Vec<String> = vec![
        chain("||", N),
        chain("&&", N),
        {
            let mut mixed = String::from("(@USER.a0");
            for i in 1..N {
                mixed.push_str(if i % 2 == 0 {
                    " || @USER.a"
                } else {
                    " && @USER.a"
                });
            }
            mixed.push(')');
            mixed
        },
        right_chain(N),
        format!("({}@USER.a)", "!".repeat(N)),
        format!("({}@USER.a{})", "(".repeat(N), ")".repeat(N)),
        list_chain(N),
        format!("(Member_of {{{}}})", vec!["SID(WD)"; N].join(", ")),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            inputs
                .iter()
                .map(|condition| {
                    SecurityDescriptor::from_sddl(&xa(condition), &SidContext::none())
                        .map(|sd| sd.read_back(&SidContext::none()).is_ok())
                        .map_err(|e| e.kind().clone())
                })
                .collect::<Vec<_>>()
        })
        .unwrap();
    let results = worker.join().expect("no stack overflow");
    let (wide_list, deep) = results.split_last().unwrap();
    for result in deep {
        assert_eq!(result, &Err(SddlErrorKind::ConditionTooDeep));
    }
    // A list is one level however long it is; this one is simply too large to encode.
    assert_eq!(
        wide_list,
        &Err(SddlErrorKind::AclTooLarge(wide_list_size(N)))
    );
}

/// The size the parser reports for the `Member_of` list of `n` SIDs above: ACL header, ACE
/// header and mask, the trustee, `artx`, the list token and its SID tokens, the operator,
/// rounded up to 4.
fn wide_list_size(n: usize) -> usize {
    let condition = 4 + 5 + n * (5 + 12) + 1;
    8 + (8 + 12 + condition).next_multiple_of(4)
}

fn binary_kind(bytes: &[u8]) -> BinaryErrorKind {
    SecurityDescriptor::from_bytes(bytes)
        .unwrap_err()
        .kind()
        .clone()
}

/// Issue 11 defect 8: a decoded literal-only condition printed as
/// `D:(XA;;RP;;;WD;({SID(S-1-0x100000000-2098432-2147745792)}))`, which the parser refuses. A
/// condition must test something, so the decoder refuses a bare value, as the parser does.
#[test]
fn literal_only_conditions_are_refused_on_decode() {
    let odd = Sid::new(0x1_0000_0000, &[2_098_432, 2_147_745_792]).unwrap();
    let bare = xa_descriptor(&list(&[sid_token(&odd)]));
    assert_eq!(
        binary_kind(&bare),
        BinaryErrorKind::InvalidCondition(
            "a condition must test something (an operator or an attribute), not be a bare value"
        )
    );
    for bare in [int(7), sid_token(&odd)] {
        assert!(matches!(
            binary_kind(&xa_descriptor(&bare)),
            BinaryErrorKind::InvalidCondition(_)
        ));
    }
    assert!(
        SecurityDescriptor::from_sddl(&xa("({SID(WD)})"), &ctx()).is_err(),
        "the parser refuses it too"
    );
    // With an operator it is a condition, and its SID prints as Windows prints it.
    let mut tokens = list(&[sid_token(&odd)]);
    tokens.push(MEMBER_OF);
    let sd = SecurityDescriptor::from_bytes(&xa_descriptor(&tokens)).unwrap();
    assert_eq!(
        sd.to_sddl(&ctx()),
        "D:(XA;;RP;;;WD;(Member_of {SID(S-1-0x100000000-2098432-2147745792)}))"
    );
    assert_eq!(sd.read_back(&ctx()).unwrap(), sd);
}

/// Found reading the printer against the parser: a local attribute named like an operator
/// decoded, and printed as `(Exists == 1)`, which reads back as the operator `Exists`.
#[test]
fn local_attributes_named_like_operators_are_refused_on_decode() {
    for name in ["Exists", "not_exists", "MEMBER_OF", "Device_Member_of_any"] {
        let mut tokens = local(name);
        tokens.extend(int(1));
        tokens.push(EQUAL);
        assert!(
            matches!(
                binary_kind(&xa_descriptor(&tokens)),
                BinaryErrorKind::InvalidCondition(_)
            ),
            "{name}"
        );
        // As a claim attribute the name is fine.
        let mut tokens = user(name);
        tokens.extend(int(1));
        tokens.push(EQUAL);
        let sd = SecurityDescriptor::from_bytes(&xa_descriptor(&tokens)).unwrap();
        assert_eq!(sd.read_back(&ctx()).unwrap(), sd);
    }
}

/// The decoder follows the same depth rule as the parser: the deepest chains decode, one more
/// level is refused, whether the depth is in the tree or in the operand stack.
#[test]
fn decoder_depth_limit_matches_the_parser() {
    // Left-deep: a0 a1 || a2 || ...; n operands are n deep.
    let left = |n: usize| {
        let mut tokens = local("a");
        for _ in 1..n {
            tokens.extend(local("a"));
            tokens.push(OR);
        }
        tokens
    };
    let sd = SecurityDescriptor::from_bytes(&xa_descriptor(&left(MAX))).unwrap();
    assert_eq!(
        sd.dacl().acl().unwrap().aces()[0]
            .kind()
            .condition()
            .unwrap()
            .depth(),
        MAX
    );
    assert_eq!(sd.read_back(&ctx()).unwrap(), sd);
    assert_eq!(
        binary_kind(&xa_descriptor(&left(MAX + 1))),
        BinaryErrorKind::ConditionTooDeep
    );

    // Right-deep: a a a ... || || ||; the stack holds n operands before the first operator.
    let right = |n: usize| {
        let mut tokens = Vec::new();
        for _ in 0..n {
            tokens.extend(local("a"));
        }
        tokens.extend(std::iter::repeat_n(OR, n - 1));
        tokens
    };
    let sd = SecurityDescriptor::from_bytes(&xa_descriptor(&right(MAX))).unwrap();
    assert_eq!(sd.read_back(&ctx()).unwrap(), sd);
    assert_eq!(
        binary_kind(&xa_descriptor(&right(MAX + 1))),
        BinaryErrorKind::ConditionTooDeep
    );

    // Lists: `a == {{...{1}...}}` with n lists is n + 2 deep.
    let lists = |n: usize| {
        let mut value = int(1);
        for _ in 0..n {
            value = list(&[value]);
        }
        let mut tokens = local("a");
        tokens.extend(value);
        tokens.push(EQUAL);
        tokens
    };
    let sd = SecurityDescriptor::from_bytes(&xa_descriptor(&lists(MAX - 2))).unwrap();
    assert_eq!(sd.read_back(&ctx()).unwrap(), sd);
    assert_eq!(
        binary_kind(&xa_descriptor(&lists(MAX - 1))),
        BinaryErrorKind::ConditionTooDeep
    );
}

/// As many operands as one ACE can hold (about 8,000), in both shapes, on a 2 MiB stack: the
/// decoder refuses them as too deep without building deep trees.
#[test]
fn the_longest_decodable_chains_are_refused_on_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            // 7 bytes per operand, 1 per operator: about 8,100 operands in 65,535 bytes.
            let n = 8_000;
            let mut left = local("a");
            let mut right = Vec::new();
            for _ in 1..n {
                left.extend(local("a"));
                left.push(OR);
                right.extend(local("a"));
            }
            right.extend(local("a"));
            right.extend(std::iter::repeat_n(OR, n - 1));
            [left, right].map(|tokens| binary_kind(&xa_descriptor(&tokens)))
        })
        .unwrap();
    let kinds = worker.join().expect("no stack overflow");
    assert_eq!(
        kinds,
        [
            BinaryErrorKind::ConditionTooDeep,
            BinaryErrorKind::ConditionTooDeep
        ]
    );
}

/// Descriptors from other writers did not read back from their SDDL form: control bits SDDL
/// has no letter for (here SE_DACL_DEFAULTED and SE_SERVER_SECURITY), `S:P` without a SACL, and
/// an ACL of revision 4 without object ACEs (as Active Directory stores them) decoded, kept
/// those, and printed as SDDL that parses to something else. They are now dropped on decoding,
/// as Windows drops them when it prints SDDL, and the ACL takes Windows' layout.
#[test]
fn what_sddl_cannot_carry_is_dropped_on_decode() {
    let sd = SecurityDescriptor::from_sddl("O:SYD:P(A;;CC;;;BA)", &ctx()).unwrap();
    let mut bytes = sd.to_bytes().unwrap();
    let control = u16::from_le_bytes([bytes[2], bytes[3]]) | 0x0008 | 0x0080 | 0x2000;
    bytes[2..4].copy_from_slice(&control.to_le_bytes());
    let dacl = usize::from(bytes[16]);
    assert_eq!(bytes[dacl], 2);
    bytes[dacl] = 4;
    let decoded = SecurityDescriptor::from_bytes(&bytes).unwrap();
    assert_eq!(decoded, sd);
    assert_eq!(decoded.read_back(&ctx()).unwrap(), sd);
    assert_eq!(decoded.to_sddl(&ctx()), "O:SYD:P(A;;CC;;;BA)");
}
