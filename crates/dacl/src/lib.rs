//! Windows-compatible access control for Rust services: security identifiers, access masks,
//! ACEs and ACLs, security descriptors, SDDL (parsed and printed exactly as Windows does), the
//! self-relative binary form of MS-DTYP, and the Windows access check.
#![forbid(unsafe_code)]

pub use crate::ace::{Ace, AceFlags, AceKind, AceType, ObjectTypes};
pub use crate::acl::{Acl, AclRevision};
pub use crate::claim::{ClaimValues, ResourceAttribute};
pub use crate::condition::{
    Attribute, AttributeScope, BinaryOp, Condition, Expr, IntBase, IntSign, Literal, UnaryOp,
};
pub use crate::descriptor::{AclState, Control, SecurityDescriptor};
pub use crate::error::{BinaryError, BinaryErrorKind, Error, SddlError, SddlErrorKind};
pub use crate::guid::Guid;
pub use crate::mask::{AccessMask, GenericMapping};
pub use crate::rights::Right;
pub use crate::sddl::SidContext;
pub use crate::sid::{DomainSid, Sid};

mod ace;
mod acl;
mod claim;
mod condition;
mod descriptor;
mod error;
mod guid;
mod mask;
mod rights;
mod sddl;
mod sid;
