//! The crate's errors: one general [`Error`], plus [`SddlError`] (with the byte offset in the
//! SDDL text) and [`BinaryError`] (with the byte offset in the binary descriptor).

use crate::ace::AceType;
use crate::sid::Sid;

/// Everything that can go wrong in this crate, except an access refusal (which is a
/// [`Denied`](crate::Denied), not an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SDDL text was refused.
    #[error(transparent)]
    Sddl(#[from] SddlError),
    /// A binary security descriptor was refused, or could not be encoded.
    #[error(transparent)]
    Binary(#[from] BinaryError),
    /// A SID identifier authority does not fit in 48 bits.
    #[error("SID identifier authority {0} does not fit in 48 bits")]
    SidAuthorityTooLarge(u64),
    /// A SID would have more than 15 sub-authorities.
    #[error("a SID has at most 15 sub-authorities, not {0}")]
    TooManySubAuthorities(usize),
    /// A SID is not a domain SID of the form `S-1-5-21-a-b-c`.
    #[error("{0} is not a domain SID (S-1-5-21-a-b-c)")]
    NotADomainSid(Sid),
    /// A principal or group RID below 1000 is reserved for well-known accounts.
    #[error(
        "RID {0} is reserved for well-known accounts: principals and groups use RIDs of 1000 or more"
    )]
    ReservedRid(u32),
    /// A right name is not known.
    #[error(
        "unknown right {0:?} (known: DELETE, READ_CONTROL, WRITE_DAC, WRITE_OWNER, SYNCHRONIZE, ACCESS_SYSTEM_SECURITY, MAXIMUM_ALLOWED, GENERIC_ALL, GENERIC_EXECUTE, GENERIC_WRITE, GENERIC_READ, or a 0x hex mask)"
    )]
    UnknownRight(String),
    /// An ACE of this type cannot appear in this kind of ACL.
    #[error("a {ace_type} ACE cannot appear in a {acl}")]
    AceNotAllowed {
        /// The offending ACE type.
        ace_type: AceType,
        /// `"DACL"` or `"SACL"`.
        acl: &'static str,
    },
    /// The ACE's shape does not match its type (for example a resource attribute ACE whose
    /// trustee is not Everyone).
    #[error("invalid ACE: {0}")]
    InvalidAce(&'static str),
    /// The DACL is not in canonical order, so it cannot be edited safely.
    #[error("the DACL is not in canonical order at ACE #{index}: {reason}")]
    NonCanonicalDacl {
        /// Index of the first ACE that is out of order.
        index: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// The descriptor has no DACL (everyone is allowed everything), so there is nothing to edit.
    #[error(
        "the descriptor has no DACL ({0}): everyone is already allowed everything; set an explicit DACL first"
    )]
    NoDacl(&'static str),
    /// An edit asked for no rights at all.
    #[error("the access mask is empty: name at least one right")]
    EmptyMask,
    /// A descriptor's own SDDL or binary form cannot be read back: it would be stored in a form
    /// that nobody can read ([`SecurityDescriptor::read_back`](crate::SecurityDescriptor::read_back)).
    #[error("the descriptor's own {form} form cannot be read back")]
    UnreadableForm {
        /// `"SDDL"` or `"binary"`.
        form: &'static str,
        /// Why reading it failed.
        #[source]
        cause: Box<Error>,
    },
    /// A descriptor's own SDDL or binary form reads back as a different descriptor
    /// ([`SecurityDescriptor::read_back`](crate::SecurityDescriptor::read_back)).
    #[error("the descriptor's own {form} form reads back differently: {difference}")]
    FormDiffers {
        /// `"SDDL"` or `"binary"`.
        form: &'static str,
        /// The first difference found, such as `the DACL's ACE #2 differs`.
        difference: String,
    },
}

/// SDDL text was refused: where (byte offset into the text) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SDDL at byte {position}: {kind}")]
pub struct SddlError {
    position: usize,
    kind: SddlErrorKind,
}

impl SddlError {
    pub(crate) fn new(position: usize, kind: SddlErrorKind) -> Self {
        Self { position, kind }
    }

    /// The byte offset in the input where parsing failed.
    #[must_use]
    pub fn position(&self) -> usize {
        self.position
    }

    /// What was wrong there.
    #[must_use]
    pub fn kind(&self) -> &SddlErrorKind {
        &self.kind
    }
}

/// Why SDDL text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SddlErrorKind {
    /// The text ended too early.
    #[error("unexpected end of text, expected {0}")]
    UnexpectedEnd(&'static str),
    /// A character other than the expected one.
    #[error("unexpected {found:?}, expected {expected}")]
    Unexpected {
        /// The character found.
        found: char,
        /// What the grammar wanted there.
        expected: &'static str,
    },
    /// A section (`O:`, `G:`, `D:`, `S:`) given twice.
    #[error("section {0}: appears twice")]
    DuplicateSection(char),
    /// An unknown ACE type.
    #[error("unknown ACE type")]
    UnknownAceType,
    /// An unknown ACE flag.
    #[error("unknown ACE flag")]
    UnknownAceFlag,
    /// An unknown two-letter right.
    #[error("unknown access right")]
    UnknownRight,
    /// A numeric access mask that is negative or does not fit in 32 bits.
    #[error(
        "access mask out of range (must be 0 to 0xffffffff; Windows would clamp or wrap, we refuse)"
    )]
    MaskOutOfRange,
    /// Whitespace where Windows does not accept it either.
    #[error("whitespace not allowed here")]
    Whitespace,
    /// A malformed GUID.
    #[error("invalid GUID (expected 8-4-4-4-12 hex digits)")]
    InvalidGuid,
    /// A malformed SID.
    #[error("invalid SID: {0}")]
    InvalidSid(&'static str),
    /// An unknown two-letter SID alias.
    #[error("unknown SID alias")]
    UnknownSidAlias,
    /// A domain-relative SID alias with no domain SID to resolve it against.
    #[error("SID alias {0} is relative to a domain, and no domain SID was given")]
    MissingDomain(&'static str),
    /// An ACE type that cannot appear in this ACL.
    #[error("a {ace_type} ACE cannot appear in a {acl}")]
    AceNotAllowed {
        /// The ACE type.
        ace_type: AceType,
        /// `"DACL"` or `"SACL"`.
        acl: &'static str,
    },
    /// A conditional expression is malformed.
    #[error("invalid condition: {0}")]
    InvalidCondition(&'static str),
    /// A conditional expression nests deeper than
    /// [`Condition::MAX_DEPTH`](crate::Condition::MAX_DEPTH) (operators, operands, lists and
    /// parentheses each count one level); the position is where it crosses the limit.
    #[error(
        "condition nested more than {} levels deep (each operator, operand, list and parenthesis is a level)",
        crate::Condition::MAX_DEPTH
    )]
    ConditionTooDeep,
    /// A resource attribute is malformed.
    #[error("invalid resource attribute: {0}")]
    InvalidResourceAttribute(&'static str),
    /// An ACL whose binary form would exceed the 64 KiB the format allows; the position is the
    /// ACE that crosses the limit.
    #[error("ACL too large for the binary form (at least {0} bytes, at most 65535)")]
    AclTooLarge(usize),
    /// A value is valid SDDL but not a valid ACE or descriptor.
    #[error(transparent)]
    Invalid(#[from] Box<Error>),
}

/// A binary security descriptor was refused or could not be produced: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid binary security descriptor at byte {offset}: {kind}")]
pub struct BinaryError {
    offset: usize,
    kind: BinaryErrorKind,
}

impl BinaryError {
    pub(crate) fn new(offset: usize, kind: BinaryErrorKind) -> Self {
        Self { offset, kind }
    }

    /// The byte offset in the input where decoding failed (0 for encoding errors).
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong.
    #[must_use]
    pub fn kind(&self) -> &BinaryErrorKind {
        &self.kind
    }
}

/// Why a binary security descriptor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BinaryErrorKind {
    /// The data ends before a structure does.
    #[error("truncated: {0} runs past the end")]
    Truncated(&'static str),
    /// An unsupported revision number.
    #[error("unsupported {what} revision {found}")]
    Revision {
        /// Which structure.
        what: &'static str,
        /// The revision found.
        found: u8,
    },
    /// The descriptor is not in self-relative form.
    #[error("not a self-relative descriptor (SE_SELF_RELATIVE is clear)")]
    NotSelfRelative,
    /// A SID with more than 15 sub-authorities.
    #[error("SID has {0} sub-authorities (at most 15)")]
    TooManySubAuthorities(u8),
    /// An ACE size smaller than its contents or not a multiple of 4.
    #[error("ACE size {0} is invalid")]
    AceSize(u16),
    /// An ACL size smaller than its header or its ACEs.
    #[error("ACL size {0} is invalid")]
    AclSize(u16),
    /// An ACE type this crate does not know, or one that has no SDDL form.
    #[error("unsupported ACE type 0x{0:02x}")]
    UnsupportedAceType(u8),
    /// ACE flag bits this crate does not know.
    #[error("unsupported ACE flags 0x{0:02x}")]
    UnsupportedAceFlags(u8),
    /// Object ACE flags other than the two GUID-present bits.
    #[error("unsupported object ACE flags 0x{0:x}")]
    UnsupportedObjectFlags(u32),
    /// Callback ACE data that is not a conditional expression.
    #[error("invalid conditional expression: {0}")]
    InvalidCondition(&'static str),
    /// A conditional expression nests deeper than
    /// [`Condition::MAX_DEPTH`](crate::Condition::MAX_DEPTH) operators, operands and lists.
    #[error(
        "conditional expression nested more than {} levels deep (each operator, operand and list is a level)",
        crate::Condition::MAX_DEPTH
    )]
    ConditionTooDeep,
    /// A malformed resource attribute.
    #[error("invalid resource attribute: {0}")]
    InvalidResourceAttribute(&'static str),
    /// The structure is well formed but not a valid descriptor.
    #[error(transparent)]
    Invalid(#[from] Box<Error>),
    /// An ACL would exceed the 64 KiB the binary form can express.
    #[error("ACL too large for the binary form ({0} bytes, at most 65535)")]
    AclTooLarge(usize),
}
