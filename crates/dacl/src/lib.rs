//! Windows-compatible access control for Rust services.
//!
//! `rms-dacl` models what Windows uses to protect an object, and decides access the way
//! Windows does, without calling Windows:
//!
//! - [`Sid`]s (`S-1-5-32-544`), well-known SIDs and every SDDL alias (`BA`, `WD`, `DA`, ...),
//!   with domain-relative aliases resolved against a [`DomainSid`] the caller gives
//!   ([`SidContext`]);
//! - [`AccessMask`]s with the standard, generic and special rights (printed with Windows' names,
//!   object-specific bits in hex), and [`GenericMapping`]s that say what the generic rights
//!   mean for a kind of object;
//! - [`Ace`]s, [`Acl`]s and [`SecurityDescriptor`]s, where *no DACL* ([`AclState::NotPresent`],
//!   [`AclState::Null`]: everyone allowed) and an *empty DACL* (everyone denied) differ;
//! - SDDL, parsed and printed exactly as Windows does (checked against Windows' own output),
//!   including object ACEs, conditional expressions and resource attributes;
//! - the self-relative binary form of MS-DTYP ([`SecurityDescriptor::to_bytes`]), laid out as
//!   Windows lays it out; whatever decodes reads back from its SDDL and binary forms, which
//!   [`SecurityDescriptor::read_back`] checks for any descriptor before it is stored;
//! - the access check ([`access_check`]), a pure function that returns the granted rights or a
//!   [`Denied`] naming the deciding ACE;
//! - canonical editing ([`SecurityDescriptor::grant`], [`deny`](SecurityDescriptor::deny),
//!   [`revoke`](SecurityDescriptor::revoke)).
//!
//! The crate knows nothing of the services it protects: their rights (bits of the mask), their
//! generic mapping and their default descriptors are the caller's.
//!
//! # Example
//!
//! An object whose bit 0 means "sub-enroll": an empty, protected DACL refuses everyone; a
//! grant to a group lets its members in.
//!
//! ```
//! use rms_dacl::{access_check, AccessMask, DomainSid, GenericMapping, SecurityDescriptor, Token};
//!
//! const SUBENROLL: AccessMask = AccessMask::from_bits(0x1);
//! let mapping = GenericMapping {
//!     read: AccessMask::READ_CONTROL,
//!     write: AccessMask::WRITE_DAC,
//!     execute: SUBENROLL,
//!     all: SUBENROLL.union(AccessMask::STANDARD_RIGHTS_REQUIRED),
//! };
//! let cluster = DomainSid::new(1_111_111_111, 2_222_222_222, 3_333_333_333);
//! let rms_admins = cluster.principal(1105)?;
//! let alice = Token::new(cluster.principal(1201)?).with_group(rms_admins);
//!
//! let mut sd: SecurityDescriptor = "O:SYG:SYD:P".parse()?;
//! let refused = access_check(&sd, &alice, SUBENROLL, &mapping);
//! let Err(denied) = refused else { panic!("an empty DACL must refuse") };
//! assert_eq!(
//!     denied.to_string(),
//!     "access denied (requested 0x1): the DACL is empty, so nothing grants 0x1"
//! );
//!
//! sd.grant(rms_admins, SUBENROLL)?;
//! assert_eq!(
//!     sd.to_string(),
//!     "O:SYG:SYD:P(A;;CC;;;S-1-5-21-1111111111-2222222222-3333333333-1105)"
//! );
//! let granted = access_check(&sd, &alice, SUBENROLL, &mapping)?;
//! assert_eq!(granted.mask(), SUBENROLL);
//! assert_eq!(AccessMask::FILE_GENERIC_READ.to_string(), "READ_CONTROL|SYNCHRONIZE|0x89");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The model, the access-check rules and the divergences from Windows are described in
//! `docs/dacl.md`; conformance counts are in `docs/conformance.md`.
#![forbid(unsafe_code)]

pub use crate::access::{DenialReason, Denied, Granted, GroupUse, Privilege, Token, access_check};
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
pub use crate::sddl::SidContext;
pub use crate::sid::{DomainSid, Sid};

mod access;
mod ace;
mod acl;
mod binary;
mod claim;
mod condition;
mod descriptor;
mod edit;
mod error;
mod guid;
mod mask;
mod read_back;
mod sddl;
mod sid;
