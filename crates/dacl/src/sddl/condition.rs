//! Parsing conditional expressions (`(@User.Title == "PM" && Member_of {SID(BA)})`).
//! `&&` binds tighter than `||`; both associate to the left.
//!
//! The parser follows the crate's one rule for conditions (`condition/rules.rs`): it builds the
//! tree bottom-up and refuses, at the position where it happens, the first node deeper than
//! [`Condition::MAX_DEPTH`], so no deeper tree is ever built and a chain of any length costs no
//! more than the limit. Every `(` and `{` also opens a level (its recursion is bounded by the
//! same limit); canonical text never nests deeper than its expression, so whatever this crate
//! prints parses back.

use super::SidContext;
use super::cursor::Cursor;
use super::parse::parse_sid;
use crate::condition::{
    Attribute, AttributeScope, BinaryOp, Condition, Expr, Fault, IntBase, IntSign, Literal,
    UnaryOp, check_depth, depth_above, is_attr_char1,
};
use crate::error::{SddlError, SddlErrorKind};
use crate::sid::hex_value;

type Result<T> = std::result::Result<T, SddlError>;

/// An expression and its depth, so that each new node is checked without walking its operands.
type Node = (Expr, usize);

fn bad(c: &Cursor<'_>, msg: &'static str) -> SddlError {
    c.err(SddlErrorKind::InvalidCondition(msg))
}

fn too_deep(c: &Cursor<'_>, pos: usize) -> SddlError {
    c.err_at(pos, SddlErrorKind::ConditionTooDeep)
}

/// Opens one more bracket level at `pos` (a `(` or `{`), within the depth limit.
fn open_level(c: &Cursor<'_>, pos: usize, nesting: usize) -> Result<usize> {
    check_depth(nesting + 1).map_err(|_| too_deep(c, pos))
}

/// A node above operands `deepest` deep, created at `pos`.
fn node(c: &Cursor<'_>, pos: usize, expr: Expr, deepest: usize) -> Result<Node> {
    let depth = check_depth(depth_above(deepest)).map_err(|_| too_deep(c, pos))?;
    Ok((expr, depth))
}

/// `(` expression `)`, validated.
pub(crate) fn parse_condition(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<Condition> {
    c.skip_wspace();
    let start = c.pos();
    c.expect(b'(', "'(' to start the condition")?;
    // The condition's own parenthesis is its first level.
    let (expr, _) = parse_or(c, ctx, 1)?;
    c.skip_wspace();
    c.expect(b')', "')' to end the condition")?;
    Condition::new(expr).map_err(|fault| {
        c.err_at(
            start,
            match fault {
                Fault::TooDeep => SddlErrorKind::ConditionTooDeep,
                Fault::Invalid(m) => SddlErrorKind::InvalidCondition(m),
            },
        )
    })
}

fn binary(c: &Cursor<'_>, pos: usize, op: BinaryOp, lhs: Node, rhs: Node) -> Result<Node> {
    let deepest = lhs.1.max(rhs.1);
    let expr = Expr::Binary {
        op,
        lhs: Box::new(lhs.0),
        rhs: Box::new(rhs.0),
    };
    node(c, pos, expr, deepest)
}

/// `nesting` is the number of bracket levels open around this text.
fn parse_or(c: &mut Cursor<'_>, ctx: &SidContext, nesting: usize) -> Result<Node> {
    let mut lhs = parse_and(c, ctx, nesting)?;
    loop {
        c.skip_wspace();
        let op_pos = c.pos();
        if !c.eat_str("||") {
            return Ok(lhs);
        }
        let rhs = parse_and(c, ctx, nesting)?;
        lhs = binary(c, op_pos, BinaryOp::Or, lhs, rhs)?;
    }
}

fn parse_and(c: &mut Cursor<'_>, ctx: &SidContext, nesting: usize) -> Result<Node> {
    let mut lhs = parse_unary(c, ctx, nesting)?;
    loop {
        c.skip_wspace();
        let op_pos = c.pos();
        if !c.eat_str("&&") {
            return Ok(lhs);
        }
        let rhs = parse_unary(c, ctx, nesting)?;
        lhs = binary(c, op_pos, BinaryOp::And, lhs, rhs)?;
    }
}

/// `!`s (counted, not recursed into), then a parenthesised expression or a term.
fn parse_unary(c: &mut Cursor<'_>, ctx: &SidContext, nesting: usize) -> Result<Node> {
    let mut nots: Vec<usize> = Vec::new();
    loop {
        c.skip_wspace();
        if c.peek() == Some(b'!') && c.peek_at(1) != Some(b'=') {
            // Each `!` is a level of its own: a longer run can never fit.
            if nots.len() >= Condition::MAX_DEPTH {
                return Err(too_deep(c, c.pos()));
            }
            nots.push(c.pos());
            c.bump();
        } else {
            break;
        }
    }
    let mut operand = if c.peek() == Some(b'(') {
        let inner = open_level(c, c.pos(), nesting)?;
        c.bump();
        let inner = parse_or(c, ctx, inner)?;
        c.skip_wspace();
        c.expect(b')', "')' to close the parenthesis")?;
        inner
    } else {
        parse_term(c, ctx, nesting)?
    };
    for pos in nots.into_iter().rev() {
        let deepest = operand.1;
        let expr = Expr::Unary {
            op: UnaryOp::Not,
            operand: Box::new(operand.0),
        };
        operand = node(c, pos, expr, deepest)?;
    }
    Ok(operand)
}

/// Whether `word` (case-insensitive) is next and ends there.
fn eat_keyword(c: &mut Cursor<'_>, word: &str) -> bool {
    let mut probe = c.clone();
    if !probe.eat_str_ci(word) {
        return false;
    }
    if probe.peek().is_some_and(|b| is_attr_char1(b) || b == b'@') {
        return false;
    }
    *c = probe;
    true
}

/// Word operators that start a term, longest first so `Member_of_any` is not read as
/// `Member_of`.
const TERM_KEYWORDS: [UnaryOp; 10] = [
    UnaryOp::NotDeviceMemberOfAny,
    UnaryOp::DeviceMemberOfAny,
    UnaryOp::NotDeviceMemberOf,
    UnaryOp::NotMemberOfAny,
    UnaryOp::DeviceMemberOf,
    UnaryOp::MemberOfAny,
    UnaryOp::NotMemberOf,
    UnaryOp::NotExists,
    UnaryOp::MemberOf,
    UnaryOp::Exists,
];

fn parse_term(c: &mut Cursor<'_>, ctx: &SidContext, nesting: usize) -> Result<Node> {
    let term_pos = c.pos();
    for op in TERM_KEYWORDS {
        if eat_keyword(c, op.sddl()) {
            c.skip_wspace();
            let operand = if op.is_membership() {
                let (lit, depth) = parse_membership_operand(c, ctx, nesting)?;
                (Expr::Literal(lit), depth)
            } else {
                (Expr::Attribute(parse_attribute(c)?), depth_above(0))
            };
            let expr = Expr::Unary {
                op,
                operand: Box::new(operand.0),
            };
            return node(c, term_pos, expr, operand.1);
        }
    }
    let lhs = parse_attribute(c)?;
    let mut probe = c.clone();
    probe.skip_wspace();
    let op_pos = probe.pos();
    let op = BinaryOp::ALL
        .into_iter()
        .filter(|op| !op.is_logical())
        .find(|op| {
            let word = op.sddl();
            if word.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
                eat_keyword(&mut probe, word)
            } else {
                probe.eat_str(word)
            }
        });
    let Some(op) = op else {
        return Ok((Expr::Attribute(lhs), depth_above(0)));
    };
    *c = probe;
    c.skip_wspace();
    let rhs = if c.peek() == Some(b'@') {
        (Expr::Attribute(parse_attribute(c)?), depth_above(0))
    } else {
        let (lit, depth) = parse_literal(c, ctx, nesting)?;
        (Expr::Literal(lit), depth)
    };
    binary(c, op_pos, op, (Expr::Attribute(lhs), depth_above(0)), rhs)
}

/// `@User.name`, `@Device.name`, `@Resource.name` (any case) or a local name.
pub(crate) fn parse_attribute(c: &mut Cursor<'_>) -> Result<Attribute> {
    if c.peek() != Some(b'@') {
        let start = c.pos();
        if !c.peek().is_some_and(is_attr_char1) {
            return Err(c.unexpected("an attribute name"));
        }
        while c.peek().is_some_and(|b| is_attr_char1(b) || b == b'@') {
            c.bump();
        }
        let name = slice_str(c, start)?;
        return Ok(Attribute {
            scope: AttributeScope::Local,
            name,
        });
    }
    let scope = if c.eat_str_ci("@user.") {
        AttributeScope::User
    } else if c.eat_str_ci("@device.") {
        AttributeScope::Device
    } else if c.eat_str_ci("@resource.") {
        AttributeScope::Resource
    } else {
        return Err(bad(c, "expected @User., @Device. or @Resource."));
    };
    let name = parse_escaped_name(c, |b| {
        b >= 0x80
            || b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'#' | b'$'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b','
                    | b'-'
                    | b'.'
                    | b'/'
                    | b':'
                    | b';'
                    | b'?'
                    | b'@'
                    | b'['
                    | b'\\'
                    | b']'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'}'
                    | b'~'
            )
    })?;
    if name.is_empty() {
        return Err(bad(c, "empty attribute name"));
    }
    Ok(Attribute { scope, name })
}

/// Reads name characters accepted by `allowed`, plus `%xxxx` escapes (UTF-16 units).
pub(crate) fn parse_escaped_name(
    c: &mut Cursor<'_>,
    allowed: impl Fn(u8) -> bool,
) -> Result<String> {
    let mut units: Vec<u16> = Vec::new();
    loop {
        match c.peek() {
            Some(b'%') => {
                let digits = c.rest().get(1..5).unwrap_or(&[]);
                if digits.len() != 4 || !digits.iter().all(u8::is_ascii_hexdigit) {
                    return Err(bad(c, "'%' must be followed by 4 hex digits"));
                }
                let unit = digits
                    .iter()
                    .fold(0u16, |acc, &d| (acc << 4) | u16::from(hex_value(d)));
                units.push(unit);
                c.advance(5);
            }
            Some(b) if allowed(b) => {
                let start = c.pos();
                while c.peek().is_some_and(|b| b != b'%' && allowed(b)) {
                    c.bump();
                }
                units.extend(slice_str(c, start)?.encode_utf16());
            }
            _ => break,
        }
    }
    String::from_utf16(&units).map_err(|_| bad(c, "escapes do not form valid UTF-16"))
}

fn slice_str(c: &Cursor<'_>, start: usize) -> Result<String> {
    let text = c.text_between(start, c.pos());
    std::str::from_utf8(text)
        .map(str::to_owned)
        .map_err(|_| bad(c, "invalid UTF-8 in a name"))
}

/// The operand of `Member_of` and its relatives: a SID or an integer, or a list of them, in
/// any number of redundant parentheses (`Member_of((SID(WD)))`, which Windows accepts).
fn parse_membership_operand(
    c: &mut Cursor<'_>,
    ctx: &SidContext,
    nesting: usize,
) -> Result<(Literal, usize)> {
    let mut level = nesting;
    let mut opened = 0usize;
    while c.peek() == Some(b'(') {
        level = open_level(c, c.pos(), level)?;
        c.bump();
        opened += 1;
        c.skip_wspace();
    }
    let value_pos = c.pos();
    let (lit, depth) = parse_literal(c, ctx, level)?;
    if !crate::condition::is_membership_operand(&lit) {
        return Err(c.err_at(
            value_pos,
            SddlErrorKind::InvalidCondition(
                "membership operators need SID(...) or integer values, alone or in a {list}",
            ),
        ));
    }
    for _ in 0..opened {
        c.skip_wspace();
        c.expect(b')', "')' to close the parenthesis")?;
    }
    Ok((lit, depth))
}

/// A value, and its depth. `nesting` is the number of bracket levels open around it.
pub(crate) fn parse_literal(
    c: &mut Cursor<'_>,
    ctx: &SidContext,
    nesting: usize,
) -> Result<(Literal, usize)> {
    let scalar = depth_above(0);
    match c.peek() {
        Some(b'"') => {
            c.bump();
            let start = c.pos();
            while c.peek().is_some_and(|b| b != b'"' && b != 0) {
                c.bump();
            }
            let s = slice_str(c, start)?;
            c.expect(b'"', "'\"' to end the string")?;
            Ok((Literal::String(s), scalar))
        }
        Some(b'#') => {
            c.bump();
            Ok((Literal::Octets(parse_condition_octets(c)), scalar))
        }
        Some(b'{') => {
            let inner = open_level(c, c.pos(), nesting)?;
            c.bump();
            let mut items = Vec::new();
            let mut deepest = 0;
            c.skip_wspace();
            if !c.eat(b'}') {
                loop {
                    c.skip_wspace();
                    let (item, depth) = parse_literal(c, ctx, inner)?;
                    items.push(item);
                    deepest = deepest.max(depth);
                    c.skip_wspace();
                    if c.eat(b'}') {
                        break;
                    }
                    c.expect(b',', "',' or '}' in a list")?;
                }
            }
            // The list is as deep as its brackets, so this cannot exceed the limit.
            Ok((Literal::Composite(items), depth_above(deepest)))
        }
        Some(b'S' | b's') if c.eat_str_ci("SID(") => {
            c.skip_wspace();
            let sid = parse_sid(c, ctx)?;
            c.skip_wspace();
            c.expect(b')', "')' after the SID")?;
            Ok((Literal::Sid(sid), scalar))
        }
        Some(b'+' | b'-' | b'0'..=b'9') => {
            let (value, sign, base) = parse_int(c)?;
            Ok((Literal::Int { value, sign, base }, scalar))
        }
        _ => Err(c.unexpected("a value: number, \"string\", #hex, SID(...) or {list}")),
    }
}

/// The digits of a `#` octet string in a condition, as Windows reads them: hex digits and `#`,
/// each `#` standing for a zero digit, and an odd number of digits taking a leading zero. So
/// `##1#2#3##` and `#1#2#3##` are both `#01020300`.
fn parse_condition_octets(c: &mut Cursor<'_>) -> Vec<u8> {
    let mut nibbles = Vec::new();
    while let Some(b) = c.peek() {
        match b {
            b'#' => nibbles.push(0),
            b if b.is_ascii_hexdigit() => nibbles.push(hex_value(b)),
            _ => break,
        }
        c.bump();
    }
    let lead = nibbles.len() % 2;
    let mut out = Vec::with_capacity(nibbles.len().div_ceil(2));
    let mut pending = if lead == 1 { Some(0u8) } else { None };
    for n in nibbles {
        match pending.take() {
            Some(hi) => out.push((hi << 4) | n),
            None => pending = Some(n),
        }
    }
    out
}

/// Hex digit pairs (the octet strings of `TX` resource attributes, written without `#`).
pub(crate) fn parse_hex_bytes(c: &mut Cursor<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while c.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
        let hi = c.bump().map(hex_value).unwrap_or(0);
        let lo = match c.bump() {
            Some(b) if b.is_ascii_hexdigit() => hex_value(b),
            _ => return Err(bad(c, "an octet string needs an even number of hex digits")),
        };
        out.push((hi << 4) | lo);
    }
    Ok(out)
}

/// A 64-bit integer with optional sign, in octal (`0...`), decimal or hex (`0x...`).
pub(crate) fn parse_int(c: &mut Cursor<'_>) -> Result<(i64, IntSign, IntBase)> {
    let sign = if c.eat(b'+') {
        IntSign::Plus
    } else if c.eat(b'-') {
        IntSign::Minus
    } else {
        IntSign::None
    };
    let (magnitude, base) = parse_magnitude(c)?;
    let limit = i64::MAX.unsigned_abs();
    let value = match (sign, base) {
        (IntSign::None, IntBase::Decimal) | (IntSign::Plus, _) if magnitude > limit => {
            return Err(bad(c, "integer does not fit in 64 bits"));
        }
        (IntSign::None, _) | (IntSign::Plus, _) => magnitude.cast_signed(),
        (IntSign::Minus, _) if magnitude > limit + 1 => {
            return Err(bad(c, "integer does not fit in 64 bits"));
        }
        (IntSign::Minus, _) => 0i64.wrapping_sub(magnitude.cast_signed()),
    };
    Ok((value, sign, base))
}

/// An unsigned 64-bit number in octal, decimal or hex, without sign.
pub(crate) fn parse_magnitude(c: &mut Cursor<'_>) -> Result<(u64, IntBase)> {
    let base = if c.peek() == Some(b'0')
        && matches!(c.peek_at(1), Some(b'x' | b'X'))
        && c.peek_at(2).is_some_and(|b| b.is_ascii_hexdigit())
    {
        c.advance(2);
        IntBase::Hex
    } else if c.peek() == Some(b'0') && c.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
        c.bump();
        IntBase::Octal
    } else {
        IntBase::Decimal
    };
    let radix = match base {
        IntBase::Octal => 8,
        IntBase::Decimal => 10,
        IntBase::Hex => 16,
    };
    let mut magnitude: u64 = 0;
    let mut digits = 0;
    while let Some(d) = c.peek().and_then(|b| char::from(b).to_digit(radix)) {
        magnitude = magnitude
            .checked_mul(u64::from(radix))
            .and_then(|m| m.checked_add(u64::from(d)))
            .ok_or_else(|| bad(c, "integer does not fit in 64 bits"))?;
        digits += 1;
        c.bump();
    }
    if digits == 0 {
        return Err(c.unexpected("digits"));
    }
    if c.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
        return Err(c.unexpected("the end of the number"));
    }
    Ok((magnitude, base))
}
