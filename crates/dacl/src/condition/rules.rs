//! The one rule for conditions, shared by the SDDL parser, the binary decoder and
//! [`Condition::new`]: how deep a condition may nest, and which operands each operator takes.
//!
//! Depth: a leaf (an attribute or a scalar value) is 1 deep; an operator or a list literal is one
//! deeper than its deepest operand or member. Nothing may be deeper than
//! [`Condition::MAX_DEPTH`]. The parser and the decoder build trees bottom-up and check each new
//! node with [`depth_above`] and [`check_depth`] as they go, so no tree deeper than the limit is
//! ever built (which also bounds the recursion of `Drop`, `Clone`, printing and encoding);
//! [`validate_condition`] checks the finished tree with [`Expr::depth`], the same measure.

use super::{
    Attribute, AttributeScope, BinaryOp, Condition, Expr, IntBase, IntSign, Literal, UnaryOp,
};

/// Why an expression is not a valid condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Deeper than [`Condition::MAX_DEPTH`].
    TooDeep,
    /// A typing rule is broken; the message says which.
    Invalid(&'static str),
}

/// The depth of a node whose deepest operand or member is `deepest` deep (0 for a leaf).
#[must_use]
pub(crate) const fn depth_above(deepest: usize) -> usize {
    deepest.saturating_add(1)
}

/// `depth`, if it is within [`Condition::MAX_DEPTH`].
pub(crate) fn check_depth(depth: usize) -> Result<usize, Fault> {
    if depth <= Condition::MAX_DEPTH {
        Ok(depth)
    } else {
        Err(Fault::TooDeep)
    }
}

impl Expr {
    /// How deep this expression nests: 1 for an attribute or a scalar value, one more than the
    /// deepest operand for an operator, one more than the deepest member for a list.
    ///
    /// This is the measure [`Condition::MAX_DEPTH`] limits. It recurses, which is safe for
    /// every expression inside a [`Condition`] (at most `MAX_DEPTH` deep).
    #[must_use]
    pub fn depth(&self) -> usize {
        match self {
            Expr::Attribute(_) => depth_above(0),
            Expr::Literal(l) => l.depth(),
            Expr::Unary { operand, .. } => depth_above(operand.depth()),
            Expr::Binary { lhs, rhs, .. } => depth_above(lhs.depth().max(rhs.depth())),
        }
    }

    /// Whether the node yields a truth value (an operator, or an attribute tested for truth).
    fn is_test(&self) -> bool {
        !matches!(self, Expr::Literal(_))
    }
}

impl Literal {
    /// How deep this value nests: 1 for a scalar, one more than the deepest member for a list.
    #[must_use]
    pub fn depth(&self) -> usize {
        match self {
            Literal::Composite(items) => {
                depth_above(items.iter().map(Literal::depth).max().unwrap_or(0))
            }
            _ => depth_above(0),
        }
    }
}

/// Checks a whole condition: its root must be a test, and every node must follow the typing
/// rules and the depth limit.
pub(crate) fn validate_condition(root: &Expr) -> Result<(), Fault> {
    if !root.is_test() {
        return Err(Fault::Invalid(
            "a condition must test something (an operator or an attribute), not be a bare value",
        ));
    }
    validate(root).map(|_| ())
}

/// Checks `e` and returns its depth. Recursion is bounded: the trees the parser and the decoder
/// hand over are already within the depth limit, which is checked again here.
fn validate(e: &Expr) -> Result<usize, Fault> {
    let depth = match e {
        Expr::Attribute(a) => {
            validate_attribute(a)?;
            depth_above(0)
        }
        Expr::Literal(l) => validate_literal(l)?,
        Expr::Unary { op, operand } => {
            let inner = validate(operand)?;
            validate_unary(*op, operand)?;
            depth_above(inner)
        }
        Expr::Binary { op, lhs, rhs } => {
            let inner = validate(lhs)?.max(validate(rhs)?);
            validate_binary(*op, lhs, rhs)?;
            depth_above(inner)
        }
    };
    check_depth(depth)
}

fn validate_unary(op: UnaryOp, operand: &Expr) -> Result<(), Fault> {
    match op {
        UnaryOp::Not if operand.is_test() => Ok(()),
        UnaryOp::Not => Err(Fault::Invalid("'!' needs a condition")),
        UnaryOp::Exists | UnaryOp::NotExists => match operand {
            Expr::Attribute(_) => Ok(()),
            _ => Err(Fault::Invalid("Exists needs an attribute")),
        },
        _ => match operand {
            Expr::Literal(l) if is_membership_operand(l) => Ok(()),
            _ => Err(Fault::Invalid(
                "membership operators need SID(...) or integer values, alone or in a {list}",
            )),
        },
    }
}

/// What a membership operator (`Member_of` and its relatives) takes: a SID or an integer, or a
/// list of them. Windows accepts integers there although no token can match one.
pub(crate) fn is_membership_operand(l: &Literal) -> bool {
    let scalar = |l: &Literal| matches!(l, Literal::Sid(_) | Literal::Int { .. });
    match l {
        Literal::Composite(items) => items.iter().all(scalar),
        other => scalar(other),
    }
}

fn validate_binary(op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Result<(), Fault> {
    if op.is_logical() {
        return if lhs.is_test() && rhs.is_test() {
            Ok(())
        } else {
            Err(Fault::Invalid(
                "'&&' and '||' need conditions on both sides",
            ))
        };
    }
    if !matches!(lhs, Expr::Attribute(_)) {
        return Err(Fault::Invalid(
            "the left side of a comparison must be an attribute",
        ));
    }
    // Any value may follow any comparison, a list after an ordering operator included
    // (`@DEVICE.l < {SID(AA)}`): Windows accepts it, and the evaluation decides what it means.
    match rhs {
        Expr::Attribute(a) if a.scope != AttributeScope::Local => Ok(()),
        Expr::Attribute(_) => Err(Fault::Invalid(
            "the right side of a comparison cannot be a local attribute",
        )),
        Expr::Literal(_) => Ok(()),
        _ => Err(Fault::Invalid(
            "the right side of a comparison must be a value or an attribute",
        )),
    }
}

fn validate_attribute(a: &Attribute) -> Result<(), Fault> {
    if a.name.is_empty() {
        return Err(Fault::Invalid("empty attribute name"));
    }
    if a.scope == AttributeScope::Local {
        let mut bytes = a.name.bytes();
        let first_ok = bytes.next().is_some_and(is_attr_char1);
        if !first_ok || !bytes.all(|b| is_attr_char1(b) || b == b'@') {
            return Err(Fault::Invalid(
                "invalid character in a local attribute name",
            ));
        }
        // Printed, `(Exists == 1)` would read back as the operator `Exists`.
        if is_reserved_word(&a.name) {
            return Err(Fault::Invalid(
                "a local attribute cannot be named like an operator (Exists, Member_of, ...)",
            ));
        }
    } else if a.name.contains('\0') {
        return Err(Fault::Invalid("NUL in an attribute name"));
    }
    Ok(())
}

/// Whether `name` is spelled like a word operator that can start a term (in any case).
fn is_reserved_word(name: &str) -> bool {
    UnaryOp::ALL
        .iter()
        .any(|op| *op != UnaryOp::Not && op.sddl().eq_ignore_ascii_case(name))
}

/// Checks a value and returns its depth.
fn validate_literal(l: &Literal) -> Result<usize, Fault> {
    let depth = match l {
        Literal::Int { value, sign, base } => {
            match sign {
                IntSign::Plus if *value < 0 => {
                    return Err(Fault::Invalid("'+' integer with a negative value"));
                }
                IntSign::Minus if *value > 0 => {
                    return Err(Fault::Invalid("'-' integer with a positive value"));
                }
                IntSign::None if *value < 0 && *base == IntBase::Decimal => {
                    return Err(Fault::Invalid(
                        "unsigned decimal integer with a negative value",
                    ));
                }
                _ => {}
            }
            depth_above(0)
        }
        Literal::String(s) if s.contains('"') || s.contains('\0') => {
            return Err(Fault::Invalid("a string cannot contain '\"' or NUL"));
        }
        Literal::Composite(items) => {
            let mut deepest = 0;
            for item in items {
                deepest = deepest.max(validate_literal(item)?);
            }
            depth_above(deepest)
        }
        _ => depth_above(0),
    };
    check_depth(depth)
}

/// Characters of a local attribute name (MS-DTYP `attr-char1`).
pub(crate) fn is_attr_char1(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'/' | b'_')
}
