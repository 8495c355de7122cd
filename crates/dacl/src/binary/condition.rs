//! The binary form of conditional expressions (MS-DTYP 2.4.4.17): `artx`, then tokens in
//! postfix order, then zero padding to a multiple of 4 bytes.

use super::{Reader, decode_sid, encode_sid};
use crate::condition::{
    Attribute, AttributeScope, BinaryOp, Condition, Expr, IntBase, IntSign, Literal, MAX_DEPTH,
    UnaryOp,
};

/// Offset within the data and what is wrong.
type Result<T> = std::result::Result<T, (usize, &'static str)>;

const SIGNATURE: &[u8; 4] = b"artx";

pub(super) fn encode(out: &mut Vec<u8>, cond: &Condition) {
    out.extend_from_slice(SIGNATURE);
    encode_expr(out, cond.expr());
}

fn encode_expr(out: &mut Vec<u8>, e: &Expr) {
    match e {
        Expr::Attribute(a) => {
            out.push(match a.scope {
                AttributeScope::Local => 0xf8,
                AttributeScope::User => 0xf9,
                AttributeScope::Resource => 0xfa,
                AttributeScope::Device => 0xfb,
            });
            encode_utf16(out, &a.name);
        }
        Expr::Literal(l) => encode_literal(out, l),
        Expr::Unary { op, operand } => {
            encode_expr(out, operand);
            out.push(op.code());
        }
        Expr::Binary { op, lhs, rhs } => {
            encode_expr(out, lhs);
            encode_expr(out, rhs);
            out.push(op.code());
        }
    }
}

fn encode_utf16(out: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().collect();
    out.extend_from_slice(&((units.len() * 2) as u32).to_le_bytes());
    for u in units {
        out.extend_from_slice(&u.to_le_bytes());
    }
}

fn encode_literal(out: &mut Vec<u8>, l: &Literal) {
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
            encode_utf16(out, s);
        }
        Literal::Octets(bytes) => {
            out.push(0x18);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Literal::Sid(sid) => {
            out.push(0x51);
            out.extend_from_slice(&(sid.binary_len() as u32).to_le_bytes());
            encode_sid(out, sid);
        }
        Literal::Composite(items) => {
            out.push(0x50);
            let mut inner = Vec::new();
            for item in items {
                encode_literal(&mut inner, item);
            }
            out.extend_from_slice(&(inner.len() as u32).to_le_bytes());
            out.extend_from_slice(&inner);
        }
    }
}

pub(super) fn decode(data: &[u8]) -> Result<Condition> {
    if data.get(..4) != Some(SIGNATURE.as_slice()) {
        return Err((
            0,
            "callback data is not a conditional expression (no 'artx')",
        ));
    }
    let r = Reader::new(data);
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
            return Err((pos, "non-zero bytes after padding"));
        }
        if let Some(op) = UnaryOp::ALL.into_iter().find(|op| op.code() == token) {
            let (operand, depth) = stack.pop().ok_or((pos, "operator without operand"))?;
            push(
                &mut stack,
                Expr::Unary {
                    op,
                    operand: Box::new(operand),
                },
                depth + 1,
                pos,
            )?;
            pos += 1;
            continue;
        }
        if let Some(op) = BinaryOp::ALL.into_iter().find(|op| op.code() == token) {
            let (rhs, d1) = stack.pop().ok_or((pos, "operator without operands"))?;
            let (lhs, d2) = stack.pop().ok_or((pos, "operator without operands"))?;
            let e = Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
            push(&mut stack, e, d1.max(d2) + 1, pos)?;
            pos += 1;
            continue;
        }
        let (expr, next) = match token {
            0xf8..=0xfb => {
                let scope = match token {
                    0xf8 => AttributeScope::Local,
                    0xf9 => AttributeScope::User,
                    0xfa => AttributeScope::Resource,
                    _ => AttributeScope::Device,
                };
                let (name, next) = read_utf16(&r, pos + 1)?;
                (Expr::Attribute(Attribute { scope, name }), next)
            }
            _ => {
                let (lit, next) = decode_literal(&r, pos, 0)?;
                (Expr::Literal(lit), next)
            }
        };
        push(&mut stack, expr, 1, pos)?;
        pos = next;
    }
    let (root, _) = stack.pop().ok_or((4, "empty condition"))?;
    if !stack.is_empty() {
        return Err((4, "operands left without an operator"));
    }
    root.validate(0).map_err(|m| (4, m))?;
    Ok(Condition::from_validated(root))
}

fn push(stack: &mut Vec<(Expr, usize)>, e: Expr, depth: usize, pos: usize) -> Result<()> {
    if depth > MAX_DEPTH || stack.len() > MAX_DEPTH {
        return Err((pos, "nested too deeply"));
    }
    stack.push((e, depth));
    Ok(())
}

fn read_len(r: &Reader<'_>, pos: usize) -> Result<usize> {
    let len = r
        .u32(pos, "length")
        .map_err(|_| (pos, "truncated length"))?;
    usize::try_from(len).map_err(|_| (pos, "length too large"))
}

fn read_utf16(r: &Reader<'_>, pos: usize) -> Result<(String, usize)> {
    let len = read_len(r, pos)?;
    if len % 2 != 0 {
        return Err((pos, "odd UTF-16 length"));
    }
    let bytes = r
        .bytes(pos + 4, len, "string")
        .map_err(|_| (pos, "truncated string"))?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    let s = String::from_utf16(&units).map_err(|_| (pos, "invalid UTF-16"))?;
    Ok((s, pos + 4 + len))
}

fn decode_literal(r: &Reader<'_>, pos: usize, depth: usize) -> Result<(Literal, usize)> {
    if depth > MAX_DEPTH {
        return Err((pos, "nested too deeply"));
    }
    let token = r.u8(pos, "token").map_err(|_| (pos, "truncated token"))?;
    match token {
        0x01..=0x04 => {
            let value = r
                .u64(pos + 1, "int")
                .map_err(|_| (pos, "truncated integer"))? as i64;
            let sign = match r
                .u8(pos + 9, "int")
                .map_err(|_| (pos, "truncated integer"))?
            {
                1 => IntSign::Plus,
                2 => IntSign::Minus,
                3 => IntSign::None,
                _ => return Err((pos + 9, "invalid integer sign")),
            };
            let base = match r
                .u8(pos + 10, "int")
                .map_err(|_| (pos, "truncated integer"))?
            {
                1 => IntBase::Octal,
                2 => IntBase::Decimal,
                3 => IntBase::Hex,
                _ => return Err((pos + 10, "invalid integer base")),
            };
            Ok((Literal::Int { value, sign, base }, pos + 11))
        }
        0x10 => {
            let (s, next) = read_utf16(r, pos + 1)?;
            Ok((Literal::String(s), next))
        }
        0x18 => {
            let len = read_len(r, pos + 1)?;
            let bytes = r
                .bytes(pos + 5, len, "octets")
                .map_err(|_| (pos, "truncated octets"))?;
            Ok((Literal::Octets(bytes.to_vec()), pos + 5 + len))
        }
        0x51 => {
            let len = read_len(r, pos + 1)?;
            let (sid, sid_len) = decode_sid(r, pos + 5).map_err(|_| (pos + 5, "invalid SID"))?;
            if sid_len != len {
                return Err((pos + 1, "SID length mismatch"));
            }
            Ok((Literal::Sid(sid), pos + 5 + len))
        }
        0x50 => {
            let len = read_len(r, pos + 1)?;
            let end = pos + 5 + len;
            r.bytes(pos + 5, len, "list")
                .map_err(|_| (pos, "truncated list"))?;
            let mut items = Vec::new();
            let mut cur = pos + 5;
            while cur < end {
                let (item, next) = decode_literal(r, cur, depth + 1)?;
                if next > end {
                    return Err((cur, "list member overruns the list"));
                }
                items.push(item);
                cur = next;
            }
            Ok((Literal::Composite(items), end))
        }
        _ => Err((pos, "unknown token")),
    }
}
