//! Conditional expressions of callback ACEs (`XA`, `XD`, `XU`, `ZA`; MS-DTYP 2.4.4.17 and the
//! SDDL grammar of 2.5.1.1). They are parsed, printed and encoded faithfully; the access check
//! does not evaluate them and refuses to decide when one matters (see [`access_check`]).
//!
//! [`access_check`]: crate::access_check

use std::fmt::{self, Write as _};

use crate::sddl::SidContext;
use crate::sid::Sid;

/// The deepest nesting accepted in a condition (Windows stops at 255 operands on its stack).
pub(crate) const MAX_DEPTH: usize = 255;

/// A conditional expression, such as `(@USER.Title == "PM")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    root: Expr,
}

impl Condition {
    /// Wraps a validated expression.
    pub(crate) fn from_validated(root: Expr) -> Self {
        Self { root }
    }

    /// The expression tree.
    pub fn expr(&self) -> &Expr {
        &self.root
    }

    /// The SDDL text as Windows prints it, with SIDs relative to `ctx`.
    pub fn to_sddl(&self, ctx: &SidContext) -> String {
        let mut out = String::new();
        write_node(&mut out, &self.root, true, ctx);
        out
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sddl(&SidContext::none()))
    }
}

/// A node of a conditional expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expr {
    /// A claim attribute.
    Attribute(Attribute),
    /// A literal value.
    Literal(Literal),
    /// `!x`, `Exists x`, `Member_of {...}` and the like.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// `a == b`, `a && b` and the like.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
}

/// Where an attribute comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeScope {
    /// A local (unprefixed) attribute name.
    Local,
    /// `@USER.`: a claim of the user.
    User,
    /// `@RESOURCE.`: a resource attribute of the object.
    Resource,
    /// `@DEVICE.`: a claim of the device.
    Device,
}

/// A claim attribute reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Where it comes from.
    pub scope: AttributeScope,
    /// Its name (unescaped).
    pub name: String,
}

/// Sign marker of an integer literal, kept so it prints as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntSign {
    /// Written with `+`.
    Plus,
    /// Written with `-`.
    Minus,
    /// Written without a sign.
    None,
}

/// Base of an integer literal, kept so it prints as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntBase {
    /// Octal (leading `0`).
    Octal,
    /// Decimal.
    Decimal,
    /// Hexadecimal (`0x`).
    Hex,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Literal {
    /// A 64-bit integer with its written sign and base.
    Int {
        /// The value.
        value: i64,
        /// The sign as written.
        sign: IntSign,
        /// The base as written.
        base: IntBase,
    },
    /// A double-quoted string (no escapes exist).
    String(String),
    /// An octet string, `#0102ff`.
    Octets(Vec<u8>),
    /// `SID(...)`.
    Sid(Sid),
    /// `{a, b, ...}`.
    Composite(Vec<Literal>),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `Exists`
    Exists,
    /// `Not_Exists`
    NotExists,
    /// `Member_of`
    MemberOf,
    /// `Device_Member_of`
    DeviceMemberOf,
    /// `Member_of_Any`
    MemberOfAny,
    /// `Device_Member_of_Any`
    DeviceMemberOfAny,
    /// `Not_Member_of`
    NotMemberOf,
    /// `Not_Device_Member_of`
    NotDeviceMemberOf,
    /// `Not_Member_of_Any`
    NotMemberOfAny,
    /// `Not_Device_Member_of_Any`
    NotDeviceMemberOfAny,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `Contains`
    Contains,
    /// `Any_of`
    AnyOf,
    /// `Not_Contains`
    NotContains,
    /// `Not_Any_of`
    NotAnyOf,
    /// `&&`
    And,
    /// `||`
    Or,
}

impl UnaryOp {
    /// All unary operators.
    pub(crate) const ALL: [UnaryOp; 11] = [
        UnaryOp::Not,
        UnaryOp::Exists,
        UnaryOp::NotExists,
        UnaryOp::MemberOf,
        UnaryOp::DeviceMemberOf,
        UnaryOp::MemberOfAny,
        UnaryOp::DeviceMemberOfAny,
        UnaryOp::NotMemberOf,
        UnaryOp::NotDeviceMemberOf,
        UnaryOp::NotMemberOfAny,
        UnaryOp::NotDeviceMemberOfAny,
    ];

    /// The SDDL spelling.
    pub fn sddl(self) -> &'static str {
        match self {
            UnaryOp::Not => "!",
            UnaryOp::Exists => "Exists",
            UnaryOp::NotExists => "Not_Exists",
            UnaryOp::MemberOf => "Member_of",
            UnaryOp::DeviceMemberOf => "Device_Member_of",
            UnaryOp::MemberOfAny => "Member_of_Any",
            UnaryOp::DeviceMemberOfAny => "Device_Member_of_Any",
            UnaryOp::NotMemberOf => "Not_Member_of",
            UnaryOp::NotDeviceMemberOf => "Not_Device_Member_of",
            UnaryOp::NotMemberOfAny => "Not_Member_of_Any",
            UnaryOp::NotDeviceMemberOfAny => "Not_Device_Member_of_Any",
        }
    }

    /// The binary token (MS-DTYP 2.4.4.17.7).
    pub(crate) fn code(self) -> u8 {
        match self {
            UnaryOp::Exists => 0x87,
            UnaryOp::MemberOf => 0x89,
            UnaryOp::DeviceMemberOf => 0x8a,
            UnaryOp::MemberOfAny => 0x8b,
            UnaryOp::DeviceMemberOfAny => 0x8c,
            UnaryOp::NotExists => 0x8d,
            UnaryOp::NotMemberOf => 0x90,
            UnaryOp::NotDeviceMemberOf => 0x91,
            UnaryOp::NotMemberOfAny => 0x92,
            UnaryOp::NotDeviceMemberOfAny => 0x93,
            UnaryOp::Not => 0xa2,
        }
    }

    /// Whether the operand is a SID list.
    pub(crate) fn is_membership(self) -> bool {
        !matches!(self, UnaryOp::Not | UnaryOp::Exists | UnaryOp::NotExists)
    }
}

impl BinaryOp {
    /// All binary operators, longest spelling first among the symbols.
    pub(crate) const ALL: [BinaryOp; 12] = [
        BinaryOp::Equal,
        BinaryOp::NotEqual,
        BinaryOp::LessOrEqual,
        BinaryOp::GreaterOrEqual,
        BinaryOp::Less,
        BinaryOp::Greater,
        BinaryOp::NotContains,
        BinaryOp::NotAnyOf,
        BinaryOp::Contains,
        BinaryOp::AnyOf,
        BinaryOp::And,
        BinaryOp::Or,
    ];

    /// The SDDL spelling.
    pub fn sddl(self) -> &'static str {
        match self {
            BinaryOp::Equal => "==",
            BinaryOp::NotEqual => "!=",
            BinaryOp::Less => "<",
            BinaryOp::LessOrEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterOrEqual => ">=",
            BinaryOp::Contains => "Contains",
            BinaryOp::AnyOf => "Any_of",
            BinaryOp::NotContains => "Not_Contains",
            BinaryOp::NotAnyOf => "Not_Any_of",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }

    /// The binary token.
    pub(crate) fn code(self) -> u8 {
        match self {
            BinaryOp::Equal => 0x80,
            BinaryOp::NotEqual => 0x81,
            BinaryOp::Less => 0x82,
            BinaryOp::LessOrEqual => 0x83,
            BinaryOp::Greater => 0x84,
            BinaryOp::GreaterOrEqual => 0x85,
            BinaryOp::Contains => 0x86,
            BinaryOp::AnyOf => 0x88,
            BinaryOp::NotContains => 0x8e,
            BinaryOp::NotAnyOf => 0x8f,
            BinaryOp::And => 0xa0,
            BinaryOp::Or => 0xa1,
        }
    }

    /// Whether this is `&&` or `||`.
    pub(crate) fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }
}

impl Expr {
    /// Whether the node yields a truth value (an operator, or an attribute tested for truth).
    fn is_boolean(&self) -> bool {
        !matches!(self, Expr::Literal(_))
    }

    /// Checks the typing rules shared by the SDDL parser and the binary decoder, so that what
    /// one accepts the other can print and read back.
    pub(crate) fn validate(&self, depth: usize) -> Result<(), &'static str> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply");
        }
        match self {
            Expr::Attribute(a) => validate_attribute(a),
            Expr::Literal(l) => validate_literal(l, depth),
            Expr::Unary { op, operand } => {
                operand.validate(depth + 1)?;
                match op {
                    UnaryOp::Not if operand.is_boolean() => Ok(()),
                    UnaryOp::Not => Err("'!' needs a condition"),
                    UnaryOp::Exists | UnaryOp::NotExists => match **operand {
                        Expr::Attribute(_) => Ok(()),
                        _ => Err("Exists needs an attribute"),
                    },
                    _ => match &**operand {
                        Expr::Literal(Literal::Sid(_)) => Ok(()),
                        Expr::Literal(Literal::Composite(items))
                            if items.iter().all(|i| matches!(i, Literal::Sid(_))) =>
                        {
                            Ok(())
                        }
                        _ => Err("membership operators need SID(...) values"),
                    },
                }
            }
            Expr::Binary { op, lhs, rhs } => {
                lhs.validate(depth + 1)?;
                rhs.validate(depth + 1)?;
                if op.is_logical() {
                    return if lhs.is_boolean() && rhs.is_boolean() {
                        Ok(())
                    } else {
                        Err("'&&' and '||' need conditions on both sides")
                    };
                }
                if !matches!(**lhs, Expr::Attribute(_)) {
                    return Err("the left side of a comparison must be an attribute");
                }
                match &**rhs {
                    Expr::Attribute(a) if a.scope != AttributeScope::Local => Ok(()),
                    Expr::Attribute(_) => {
                        Err("the right side of a comparison cannot be a local attribute")
                    }
                    Expr::Literal(Literal::Composite(_))
                        if matches!(
                            op,
                            BinaryOp::Less
                                | BinaryOp::LessOrEqual
                                | BinaryOp::Greater
                                | BinaryOp::GreaterOrEqual
                        ) =>
                    {
                        Err("ordering comparisons need a single value")
                    }
                    Expr::Literal(_) => Ok(()),
                    _ => Err("the right side of a comparison must be a value or an attribute"),
                }
            }
        }
    }
}

fn validate_attribute(a: &Attribute) -> Result<(), &'static str> {
    if a.name.is_empty() {
        return Err("empty attribute name");
    }
    if a.scope == AttributeScope::Local {
        let mut bytes = a.name.bytes();
        let first_ok = bytes.next().is_some_and(is_attr_char1);
        if !first_ok || !bytes.all(|b| is_attr_char1(b) || b == b'@') {
            return Err("invalid character in a local attribute name");
        }
    } else if a.name.contains('\0') {
        return Err("NUL in an attribute name");
    }
    Ok(())
}

fn validate_literal(l: &Literal, depth: usize) -> Result<(), &'static str> {
    if depth > MAX_DEPTH {
        return Err("nested too deeply");
    }
    match l {
        Literal::Int { value, sign, base } => match sign {
            IntSign::Plus if *value < 0 => Err("'+' integer with a negative value"),
            IntSign::Minus if *value > 0 => Err("'-' integer with a positive value"),
            IntSign::None if *value < 0 && *base == IntBase::Decimal => {
                Err("unsigned decimal integer with a negative value")
            }
            _ => Ok(()),
        },
        Literal::String(s) if s.contains('"') || s.contains('\0') => {
            Err("a string cannot contain '\"' or NUL")
        }
        Literal::Composite(items) => items
            .iter()
            .try_for_each(|i| validate_literal(i, depth + 1)),
        _ => Ok(()),
    }
}

/// Characters of a local attribute name (MS-DTYP `attr-char1`).
pub(crate) fn is_attr_char1(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'/' | b'_')
}

/// Whether an attribute-name character is printed as `%xxxx`.
fn needs_escape(c: u16) -> bool {
    c <= 0x20
        || c > 126
        || matches!(
            u8::try_from(c).unwrap_or(0),
            b'!' | b'"' | b'&' | b'(' | b')' | b'<' | b'=' | b'>' | b'|' | b'%'
        )
}

/// Prints a node: operators are parenthesised; operands of `&&`, `||` and `!` that are not
/// operators get their own parentheses (Windows' `EncloseSubCondition`).
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

pub(crate) fn write_attribute(out: &mut String, a: &Attribute) {
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
        (IntSign::None, IntBase::Octal) => write!(out, "0{:o}", value as u64),
        (IntSign::None, IntBase::Hex) => write!(out, "0x{:x}", value as u64),
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

pub(crate) fn write_literal(out: &mut String, l: &Literal, ctx: &SidContext) {
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
