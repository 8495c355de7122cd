//! The binary form of conditional expressions (MS-DTYP 2.4.4.17): `artx`, then tokens in
//! postfix order, then zero padding to a multiple of 4 bytes.

//!
//! Decoding follows the crate's one rule for conditions (`condition/rules.rs`): each node is
//! checked against [`Condition::MAX_DEPTH`] as it is built, and the operand stack may not hold
//! more than that many entries (`k` pending operands can only end up at least `k` deep), so a
//! hostile token stream costs no more than the limit, whatever its length.

use super::{Reader, TooLarge, decode_sid, encode_sid, field_u32};
use crate::condition::{
    Attribute, AttributeScope, BinaryOp, Condition, Expr, Fault, IntBase, IntSign, Literal,
    UnaryOp, check_depth, depth_above,
};

/// Offset within the data and what is wrong.
type Result<T> = std::result::Result<T, (usize, Fault)>;

fn invalid(pos: usize, msg: &'static str) -> (usize, Fault) {
    (pos, Fault::Invalid(msg))
}

const SIGNATURE: &[u8; 4] = b"artx";

pub(super) fn encode(out: &mut Vec<u8>, cond: &Condition) -> std::result::Result<(), TooLarge> {
    out.extend_from_slice(SIGNATURE);
    encode_expr(out, cond.expr())
}

fn encode_expr(out: &mut Vec<u8>, e: &Expr) -> std::result::Result<(), TooLarge> {
    match e {
        Expr::Attribute(a) => {
            out.push(match a.scope {
                AttributeScope::Local => 0xf8,
                AttributeScope::User => 0xf9,
                AttributeScope::Resource => 0xfa,
                AttributeScope::Device => 0xfb,
            });
            encode_utf16(out, &a.name)?;
        }
        Expr::Literal(l) => encode_literal(out, l)?,
        Expr::Unary { op, operand } => {
            encode_expr(out, operand)?;
            out.push(op.code());
        }
        Expr::Binary { op, lhs, rhs } => {
            encode_expr(out, lhs)?;
            encode_expr(out, rhs)?;
            out.push(op.code());
        }
    }
    Ok(())
}

fn encode_utf16(out: &mut Vec<u8>, s: &str) -> std::result::Result<(), TooLarge> {
    let units: Vec<u16> = s.encode_utf16().collect();
    out.extend_from_slice(&field_u32(units.len() * 2)?.to_le_bytes());
    for u in units {
        out.extend_from_slice(&u.to_le_bytes());
    }
    Ok(())
}

fn encode_literal(out: &mut Vec<u8>, l: &Literal) -> std::result::Result<(), TooLarge> {
    match l {
        Literal::Int { value, sign, base } => {
            out.push(0x04);
            out.extend_from_slice(&value.to_le_bytes());
            out.push(match sign {
                IntSign::Plus => 1,
                IntSign::Minus => 2,
                IntSign::None => 3,
            });
            out.push(match base {
                IntBase::Octal => 1,
                IntBase::Decimal => 2,
                IntBase::Hex => 3,
            });
        }
        Literal::String(s) => {
            out.push(0x10);
            encode_utf16(out, s)?;
        }
        Literal::Octets(bytes) => {
            out.push(0x18);
            out.extend_from_slice(&field_u32(bytes.len())?.to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Literal::Sid(sid) => {
            out.push(0x51);
            out.extend_from_slice(&field_u32(sid.binary_len())?.to_le_bytes());
            encode_sid(out, sid);
        }
        Literal::Composite(items) => {
            out.push(0x50);
            let mut inner = Vec::new();
            for item in items {
                encode_literal(&mut inner, item)?;
            }
            out.extend_from_slice(&field_u32(inner.len())?.to_le_bytes());
            out.extend_from_slice(&inner);
        }
    }
    Ok(())
}

pub(super) fn decode(data: &[u8]) -> Result<Condition> {
    if data.get(..4) != Some(SIGNATURE.as_slice()) {
        return Err(invalid(
            0,
            "callback data is not a conditional expression (no 'artx')",
        ));
    }
    let r = Reader::new(data);
    // Each entry: an operand and its depth.
    let mut stack: Vec<(Expr, usize)> = Vec::new();
    let mut pos = 4;
    while let Some(&token) = data.get(pos) {
        if token == 0 {
            if data
                .get(pos..)
                .is_some_and(|rest| rest.iter().all(|&b| b == 0))
            {
                break;
            }
            return Err(invalid(pos, "non-zero bytes after padding"));
        }
        if let Some(op) = UnaryOp::ALL.into_iter().find(|op| op.code() == token) {
            let (operand, depth) = stack
                .pop()
                .ok_or(invalid(pos, "operator without operand"))?;
            let e = Expr::Unary {
                op,
                operand: Box::new(operand),
            };
            push(&mut stack, e, depth_above(depth), pos)?;
            pos += 1;
            continue;
        }
        if let Some(op) = BinaryOp::ALL.into_iter().find(|op| op.code() == token) {
            let (rhs, d1) = stack
                .pop()
                .ok_or(invalid(pos, "operator without operands"))?;
            let (lhs, d2) = stack
                .pop()
                .ok_or(invalid(pos, "operator without operands"))?;
            let e = Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
            push(&mut stack, e, depth_above(d1.max(d2)), pos)?;
            pos += 1;
            continue;
        }
        let (expr, next, depth) = match token {
            0xf8..=0xfb => {
                let scope = match token {
                    0xf8 => AttributeScope::Local,
                    0xf9 => AttributeScope::User,
                    0xfa => AttributeScope::Resource,
                    _ => AttributeScope::Device,
                };
                let (name, next) = read_utf16(&r, pos + 1)?;
                (
                    Expr::Attribute(Attribute { scope, name }),
                    next,
                    depth_above(0),
                )
            }
            _ => {
                let (lit, next, depth) = decode_literal(&r, pos, 0)?;
                (Expr::Literal(lit), next, depth)
            }
        };
        push(&mut stack, expr, depth, pos)?;
        pos = next;
    }
    let (root, _) = stack.pop().ok_or(invalid(4, "empty condition"))?;
    if !stack.is_empty() {
        return Err(invalid(4, "operands left without an operator"));
    }
    Condition::new(root).map_err(|fault| (4, fault))
}

/// Pushes an operand `depth` deep: refused beyond the depth limit, and when the stack already
/// holds `MAX_DEPTH` operands (combining them all would be deeper than that).
fn push(stack: &mut Vec<(Expr, usize)>, e: Expr, depth: usize, pos: usize) -> Result<()> {
    check_depth(depth).map_err(|fault| (pos, fault))?;
    if stack.len() >= Condition::MAX_DEPTH {
        return Err((pos, Fault::TooDeep));
    }
    stack.push((e, depth));
    Ok(())
}

fn read_len(r: &Reader<'_>, pos: usize) -> Result<usize> {
    let len = r
        .u32(pos, "length")
        .map_err(|_| invalid(pos, "truncated length"))?;
    usize::try_from(len).map_err(|_| invalid(pos, "length too large"))
}

fn read_utf16(r: &Reader<'_>, pos: usize) -> Result<(String, usize)> {
    let len = read_len(r, pos)?;
    if len % 2 != 0 {
        return Err(invalid(pos, "odd UTF-16 length"));
    }
    let bytes = r
        .bytes(pos + 4, len, "string")
        .map_err(|_| invalid(pos, "truncated string"))?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    let s = String::from_utf16(&units).map_err(|_| invalid(pos, "invalid UTF-16"))?;
    Ok((s, pos + 4 + len))
}

/// A literal token at `pos`: the value, the position after it and its depth. `nesting` is the
/// number of lists around it.
fn decode_literal(r: &Reader<'_>, pos: usize, nesting: usize) -> Result<(Literal, usize, usize)> {
    let scalar = depth_above(0);
    let token = r
        .u8(pos, "token")
        .map_err(|_| invalid(pos, "truncated token"))?;
    match token {
        0x01..=0x04 => {
            let value = r
                .u64(pos + 1, "int")
                .map_err(|_| invalid(pos, "truncated integer"))?
                .cast_signed();
            let sign = match r
                .u8(pos + 9, "int")
                .map_err(|_| invalid(pos, "truncated integer"))?
            {
                1 => IntSign::Plus,
                2 => IntSign::Minus,
                3 => IntSign::None,
                _ => return Err(invalid(pos + 9, "invalid integer sign")),
            };
            let base = match r
                .u8(pos + 10, "int")
                .map_err(|_| invalid(pos, "truncated integer"))?
            {
                1 => IntBase::Octal,
                2 => IntBase::Decimal,
                3 => IntBase::Hex,
                _ => return Err(invalid(pos + 10, "invalid integer base")),
            };
            Ok((Literal::Int { value, sign, base }, pos + 11, scalar))
        }
        0x10 => {
            let (s, next) = read_utf16(r, pos + 1)?;
            Ok((Literal::String(s), next, scalar))
        }
        0x18 => {
            let len = read_len(r, pos + 1)?;
            let bytes = r
                .bytes(pos + 5, len, "octets")
                .map_err(|_| invalid(pos, "truncated octets"))?;
            Ok((Literal::Octets(bytes.to_vec()), pos + 5 + len, scalar))
        }
        0x51 => {
            let len = read_len(r, pos + 1)?;
            let (sid, sid_len) =
                decode_sid(r, pos + 5).map_err(|_| invalid(pos + 5, "invalid SID"))?;
            if sid_len != len {
                return Err(invalid(pos + 1, "SID length mismatch"));
            }
            Ok((Literal::Sid(sid), pos + 5 + len, scalar))
        }
        0x50 => {
            // A list opens a level: members nested deeper than the limit are refused before
            // they are read, so the recursion is bounded.
            let inner = check_depth(nesting + 1).map_err(|fault| (pos, fault))?;
            let len = read_len(r, pos + 1)?;
            let end = pos + 5 + len;
            r.bytes(pos + 5, len, "list")
                .map_err(|_| invalid(pos, "truncated list"))?;
            let mut items = Vec::new();
            let mut deepest = 0;
            let mut cur = pos + 5;
            while cur < end {
                let (item, next, depth) = decode_literal(r, cur, inner)?;
                if next > end {
                    return Err(invalid(cur, "list member overruns the list"));
                }
                items.push(item);
                deepest = deepest.max(depth);
                cur = next;
            }
            Ok((Literal::Composite(items), end, depth_above(deepest)))
        }
        _ => Err(invalid(pos, "unknown token")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn local_a() -> [u8; 7] {
        [0xf8, 2, 0, 0, 0, b'a', 0]
    }

    /// Issue 11 defect 9, binary side: 100,000 operands (more than an ACE can hold, so the
    /// condition decoder is called directly) are refused as too deep on a 2 MiB stack, in the
    /// left-deep shape (the tree grows) and the right-deep one (the operand stack grows).
    #[test]
    fn hundred_thousand_operands_are_refused_on_a_small_stack() {
        const N: usize = 100_000;
        let mut left = b"artx".to_vec();
        left.extend(local_a());
        for _ in 1..N {
            left.extend(local_a());
            left.push(BinaryOp::Or.code());
        }
        let mut right = b"artx".to_vec();
        for _ in 0..N {
            right.extend(local_a());
        }
        right.extend(std::iter::repeat_n(BinaryOp::And.code(), N - 1));
        let worker = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || [decode(&left).err(), decode(&right).err()])
            .unwrap();
        let faults = worker.join().expect("no stack overflow");
        // Refused where the limit is crossed: the 255th `||`, the 256th pending operand.
        let operator = 4 + 7 + (Condition::MAX_DEPTH - 1) * 8 + 7;
        let operand = 4 + Condition::MAX_DEPTH * 7;
        assert_eq!(
            faults,
            [
                Some((operator, Fault::TooDeep)),
                Some((operand, Fault::TooDeep))
            ]
        );
    }
}
