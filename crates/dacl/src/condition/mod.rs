//! Conditional expressions of callback ACEs (`XA`, `XD`, `XU`, `ZA`; MS-DTYP 2.4.4.17 and the
//! SDDL grammar of 2.5.1.1). They are parsed, printed and encoded faithfully; the access check
//! does not evaluate them and refuses to decide when one matters (see [`access_check`]).
//!
//! One rule decides what a condition may be, for the SDDL parser, the binary decoder and
//! whatever else builds one (`rules.rs`): how deep it may nest ([`Condition::MAX_DEPTH`],
//! measured by [`Expr::depth`]) and which operands each operator takes. Printing (`print.rs`)
//! never produces text that the parser would refuse.
//!
//! [`access_check`]: crate::access_check

use std::fmt;

use crate::sddl::SidContext;
use crate::sid::Sid;

mod print;
mod rules;

pub(crate) use print::{write_escaped_name, write_int};
pub(crate) use rules::{Fault, check_depth, depth_above, is_attr_char1, is_membership_operand};

/// A conditional expression, such as `(@USER.Title == "PM")`.
///
/// Every `Condition` satisfies the crate's one rule for conditions: it is at most
/// [`Condition::MAX_DEPTH`] deep, its root is a test (an operator or an attribute, never a bare
/// value), and every operator has the operands it takes. So each one prints as SDDL that parses
/// back to it, and encodes to bytes that decode back to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    root: Expr,
}

impl Condition {
    /// The deepest a condition may nest: every operator, operand and list literal is one level,
    /// so `(@USER.a || @USER.b)` is 2 deep and a chain of `n` operands joined by `||` is `n`
    /// deep. In SDDL text every `(` and `{` also opens a level, so redundant parentheses count
    /// (the canonical form never has more of them than the expression has levels).
    ///
    /// Windows evaluates a condition on a stack of at most 255 operands, hence 255.
    pub const MAX_DEPTH: usize = 255;

    /// Checks `root` against the rule for conditions and wraps it.
    ///
    /// # Errors
    /// [`Fault::TooDeep`] beyond [`Condition::MAX_DEPTH`], [`Fault::Invalid`] naming the
    /// broken typing rule.
    pub(crate) fn new(root: Expr) -> Result<Self, Fault> {
        rules::validate_condition(&root)?;
        Ok(Self { root })
    }

    /// The expression tree.
    #[must_use]
    pub fn expr(&self) -> &Expr {
        &self.root
    }

    /// How deep the condition nests (see [`Condition::MAX_DEPTH`]).
    #[must_use]
    pub fn depth(&self) -> usize {
        self.root.depth()
    }

    /// The SDDL text as Windows prints it, with SIDs relative to `ctx`.
    #[must_use]
    pub fn to_sddl(&self, ctx: &SidContext) -> String {
        let mut out = String::new();
        print::write_condition(&mut out, &self.root, ctx);
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
    ///
    /// Membership operators take a SID, an integer, or a list of them: Windows accepts
    /// integers there (`(Member_of 3)`, `(Member_of {6723349})`) although they can never match.
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
    /// `Member_of_any` (Windows' spelling; any case is accepted)
    MemberOfAny,
    /// `Device_Member_of_any`
    DeviceMemberOfAny,
    /// `Not_Member_of`
    NotMemberOf,
    /// `Not_Device_Member_of`
    NotDeviceMemberOf,
    /// `Not_Member_of_any`
    NotMemberOfAny,
    /// `Not_Device_Member_of_any`
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

    /// The SDDL spelling, as Windows prints it (note the lower-case `any`).
    #[must_use]
    pub fn sddl(self) -> &'static str {
        match self {
            UnaryOp::Not => "!",
            UnaryOp::Exists => "Exists",
            UnaryOp::NotExists => "Not_Exists",
            UnaryOp::MemberOf => "Member_of",
            UnaryOp::DeviceMemberOf => "Device_Member_of",
            UnaryOp::MemberOfAny => "Member_of_any",
            UnaryOp::DeviceMemberOfAny => "Device_Member_of_any",
            UnaryOp::NotMemberOf => "Not_Member_of",
            UnaryOp::NotDeviceMemberOf => "Not_Device_Member_of",
            UnaryOp::NotMemberOfAny => "Not_Member_of_any",
            UnaryOp::NotDeviceMemberOfAny => "Not_Device_Member_of_any",
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

    /// Whether the operand is a SID, an integer or a list of them.
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
    #[must_use]
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
