//! Printing conditions as Windows does: operators fully parenthesised, `@USER.`, `@DEVICE.`,
//! `@RESOURCE.` prefixes, names escaped as `%xxxx`, lists as `{a, b}`.

use std::fmt::Write as _;

use super::{Attribute, AttributeScope, Expr, IntBase, IntSign, Literal, UnaryOp};
use crate::sddl::SidContext;

/// Whether an attribute-name character is printed as `%xxxx`.
fn needs_escape(c: u16) -> bool {
    c <= 0x20
        || c > 126
        || matches!(
            u8::try_from(c).unwrap_or(0),
            b'!' | b'"' | b'&' | b'(' | b')' | b'<' | b'=' | b'>' | b'|' | b'%'
        )
}

/// Prints a whole condition: the root's own parentheses are the condition's.
pub(super) fn write_condition(out: &mut String, root: &Expr, ctx: &SidContext) {
    write_node(out, root, true, ctx);
}

/// Prints a node: operators are parenthesised; operands of `&&`, `||` and `!` that are not
/// operators get their own parentheses (Windows' `EncloseSubCondition`). Each node thus opens
/// at most one `(` or `{` level, so the text never nests deeper than the expression, and what
/// is within [`Condition::MAX_DEPTH`](super::Condition::MAX_DEPTH) parses back.
fn write_node(out: &mut String, e: &Expr, parens: bool, ctx: &SidContext) {
    match e {
        Expr::Attribute(a) => {
            if parens {
                out.push('(');
            }
            write_attribute(out, a);
            if parens {
                out.push(')');
            }
        }
        Expr::Literal(l) => {
            if parens {
                out.push('(');
            }
            write_literal(out, l, ctx);
            if parens {
                out.push(')');
            }
        }
        Expr::Unary { op, operand } => {
            out.push('(');
            out.push_str(op.sddl());
            if *op == UnaryOp::Not {
                write_node(out, operand, true, ctx);
            } else {
                out.push(' ');
                write_node(out, operand, false, ctx);
            }
            out.push(')');
        }
        Expr::Binary { op, lhs, rhs } => {
            let inner = op.is_logical();
            out.push('(');
            write_node(out, lhs, inner, ctx);
            out.push(' ');
            out.push_str(op.sddl());
            out.push(' ');
            write_node(out, rhs, inner, ctx);
            out.push(')');
        }
    }
}

fn write_attribute(out: &mut String, a: &Attribute) {
    out.push_str(match a.scope {
        AttributeScope::Local => "",
        AttributeScope::User => "@USER.",
        AttributeScope::Resource => "@RESOURCE.",
        AttributeScope::Device => "@DEVICE.",
    });
    write_escaped_name(out, &a.name);
}

/// Writes an attribute or claim name, escaping as Windows does.
pub(crate) fn write_escaped_name(out: &mut String, name: &str) {
    for ch in name.chars() {
        let mut units = [0u16; 2];
        let encoded = ch.encode_utf16(&mut units);
        if encoded.iter().any(|&u| needs_escape(u)) {
            for u in encoded.iter() {
                let _ = write!(out, "%{u:04x}");
            }
        } else {
            out.push(ch);
        }
    }
}

pub(crate) fn write_int(out: &mut String, value: i64, sign: IntSign, base: IntBase) {
    let magnitude = value.unsigned_abs();
    let _ = match (sign, base) {
        (IntSign::None, IntBase::Decimal) => write!(out, "{value}"),
        (IntSign::None, IntBase::Octal) => write!(out, "0{:o}", value.cast_unsigned()),
        (IntSign::None, IntBase::Hex) => write!(out, "0x{:x}", value.cast_unsigned()),
        (s, b) => {
            out.push(if s == IntSign::Minus { '-' } else { '+' });
            match b {
                IntBase::Decimal => write!(out, "{magnitude}"),
                IntBase::Octal => write!(out, "0{magnitude:o}"),
                IntBase::Hex => write!(out, "0x{magnitude:x}"),
            }
        }
    };
}

fn write_literal(out: &mut String, l: &Literal, ctx: &SidContext) {
    match l {
        Literal::Int { value, sign, base } => write_int(out, *value, *sign, *base),
        Literal::String(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Literal::Octets(bytes) => {
            out.push('#');
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
        }
        Literal::Sid(sid) => {
            out.push_str("SID(");
            out.push_str(&ctx.sid_to_sddl(sid));
            out.push(')');
        }
        Literal::Composite(items) => {
            out.push('{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(out, item, ctx);
            }
            out.push('}');
        }
    }
}
