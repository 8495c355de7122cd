//! Parsing conditional expressions (`(@User.Title == "PM" && Member_of {SID(BA)})`).
//! `&&` binds tighter than `||`; both associate to the left.

use super::SidContext;
use super::cursor::Cursor;
use super::parse::parse_sid;
use crate::condition::{
    Attribute, AttributeScope, BinaryOp, Condition, Expr, IntBase, IntSign, Literal, MAX_DEPTH,
    UnaryOp, is_attr_char1,
};
use crate::error::{SddlError, SddlErrorKind};
use crate::sid::hex_value;

type Result<T> = std::result::Result<T, SddlError>;

fn bad(c: &Cursor<'_>, msg: &'static str) -> SddlError {
    c.err(SddlErrorKind::InvalidCondition(msg))
}

/// `(` expression `)`, validated.
pub(crate) fn parse_condition(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<Condition> {
    c.skip_wspace();
    let start = c.pos();
    c.expect(b'(', "'(' to start the condition")?;
    let expr = parse_or(c, ctx, 1)?;
    c.skip_wspace();
    c.expect(b')', "')' to end the condition")?;
    expr.validate(0)
        .map_err(|m| c.err_at(start, SddlErrorKind::InvalidCondition(m)))?;
    Ok(Condition::from_validated(expr))
}

fn parse_or(c: &mut Cursor<'_>, ctx: &SidContext, depth: usize) -> Result<Expr> {
    let mut lhs = parse_and(c, ctx, depth)?;
    loop {
        c.skip_wspace();
        if !c.eat_str("||") {
            return Ok(lhs);
        }
        let rhs = parse_and(c, ctx, depth)?;
        lhs = Expr::Binary {
            op: BinaryOp::Or,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
    }
}

fn parse_and(c: &mut Cursor<'_>, ctx: &SidContext, depth: usize) -> Result<Expr> {
    let mut lhs = parse_unary(c, ctx, depth)?;
    loop {
        c.skip_wspace();
        if !c.eat_str("&&") {
            return Ok(lhs);
        }
        let rhs = parse_unary(c, ctx, depth)?;
        lhs = Expr::Binary {
            op: BinaryOp::And,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
    }
}

fn parse_unary(c: &mut Cursor<'_>, ctx: &SidContext, depth: usize) -> Result<Expr> {
    if depth > MAX_DEPTH {
        return Err(bad(c, "nested too deeply"));
    }
    c.skip_wspace();
    if c.peek() == Some(b'!') && c.peek_at(1) != Some(b'=') {
        c.bump();
        let operand = parse_unary(c, ctx, depth + 1)?;
        return Ok(Expr::Unary {
            op: UnaryOp::Not,
            operand: Box::new(operand),
        });
    }
    if c.eat(b'(') {
        let inner = parse_or(c, ctx, depth + 1)?;
        c.skip_wspace();
        c.expect(b')', "')' to close the parenthesis")?;
        return Ok(inner);
    }
    parse_term(c, ctx)
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

fn parse_term(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<Expr> {
    // Longest keywords first, so "Member_of_Any" is not read as "Member_of".
    let mut unary: Vec<UnaryOp> = UnaryOp::ALL
        .into_iter()
        .filter(|op| *op != UnaryOp::Not)
        .collect();
    unary.sort_by_key(|op| std::cmp::Reverse(op.sddl().len()));
    for op in unary {
        if eat_keyword(c, op.sddl()) {
            c.skip_wspace();
            let operand = if op.is_membership() {
                Expr::Literal(parse_sid_array(c, ctx)?)
            } else {
                Expr::Attribute(parse_attribute(c)?)
            };
            return Ok(Expr::Unary {
                op,
                operand: Box::new(operand),
            });
        }
    }
    let lhs = parse_attribute(c)?;
    let mut probe = c.clone();
    probe.skip_wspace();
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
        return Ok(Expr::Attribute(lhs));
    };
    *c = probe;
    c.skip_wspace();
    let rhs = if c.peek() == Some(b'@') {
        Expr::Attribute(parse_attribute(c)?)
    } else {
        Expr::Literal(parse_literal(c, ctx, 0)?)
    };
    Ok(Expr::Binary {
        op,
        lhs: Box::new(Expr::Attribute(lhs)),
        rhs: Box::new(rhs),
    })
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

fn parse_sid_array(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<Literal> {
    if c.peek() == Some(b'{') {
        let list = parse_literal(c, ctx, 0)?;
        match &list {
            Literal::Composite(items) if items.iter().all(|i| matches!(i, Literal::Sid(_))) => {
                Ok(list)
            }
            _ => Err(bad(c, "membership operators need SID(...) values")),
        }
    } else {
        match parse_literal(c, ctx, 0)? {
            lit @ Literal::Sid(_) => Ok(lit),
            _ => Err(bad(c, "membership operators need SID(...) values")),
        }
    }
}

pub(crate) fn parse_literal(c: &mut Cursor<'_>, ctx: &SidContext, depth: usize) -> Result<Literal> {
    if depth > MAX_DEPTH {
        return Err(bad(c, "nested too deeply"));
    }
    match c.peek() {
        Some(b'"') => {
            c.bump();
            let start = c.pos();
            while c.peek().is_some_and(|b| b != b'"' && b != 0) {
                c.bump();
            }
            let s = slice_str(c, start)?;
            c.expect(b'"', "'\"' to end the string")?;
            Ok(Literal::String(s))
        }
        Some(b'#') => {
            c.bump();
            Ok(Literal::Octets(parse_hex_bytes(c)?))
        }
        Some(b'{') => {
            c.bump();
            let mut items = Vec::new();
            c.skip_wspace();
            if !c.eat(b'}') {
                loop {
                    c.skip_wspace();
                    items.push(parse_literal(c, ctx, depth + 1)?);
                    c.skip_wspace();
                    if c.eat(b'}') {
                        break;
                    }
                    c.expect(b',', "',' or '}' in a list")?;
                }
            }
            Ok(Literal::Composite(items))
        }
        Some(b'S' | b's') if c.eat_str_ci("SID(") => {
            c.skip_wspace();
            let sid = parse_sid(c, ctx)?;
            c.skip_wspace();
            c.expect(b')', "')' after the SID")?;
            Ok(Literal::Sid(sid))
        }
        Some(b'+' | b'-' | b'0'..=b'9') => {
            let (value, sign, base) = parse_int(c)?;
            Ok(Literal::Int { value, sign, base })
        }
        _ => Err(c.unexpected("a value: number, \"string\", #hex, SID(...) or {list}")),
    }
}

/// Hex digit pairs.
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
        (IntSign::None, _) | (IntSign::Plus, _) => magnitude as i64,
        (IntSign::Minus, _) if magnitude > limit + 1 => {
            return Err(bad(c, "integer does not fit in 64 bits"));
        }
        (IntSign::Minus, _) => 0i64.wrapping_sub(magnitude as i64),
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
