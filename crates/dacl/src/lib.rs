//! Windows-compatible access control for Rust services.
//!
//! `rms-dacl` models what Windows uses to protect an object, and decides access the way
//! Windows does, without calling Windows:
//!
//! - [`Sid`]s (`S-1-5-32-544`), well-known SIDs and every SDDL alias (`BA`, `WD`, `DA`, ...),
//!   with domain-relative aliases resolved against a [`DomainSid`] the caller gives
//!   ([`SidContext`]);
//! - [`AccessMask`]s with the standard, generic and special rights, and the specific rights of
//!   our services ([`Right`]: `subenroll`, `read-chain`, `issue-publishing-license`,
//!   `issue-use-license`, `renew`, `administer`) with their [`GenericMapping::RMS_SERVICES`];
//! - [`Ace`]s, [`Acl`]s and [`SecurityDescriptor`]s, where *no DACL* ([`AclState::NotPresent`],
//!   [`AclState::Null`]: everyone allowed) and an *empty DACL* (everyone denied) differ;
//! - SDDL, parsed and printed exactly as Windows does (checked against Windows' own output),
//!   including object ACEs, conditional expressions and resource attributes;
//! - the self-relative binary form of MS-DTYP ([`SecurityDescriptor::to_bytes`]);
//! - the access check ([`access_check`]), a pure function that returns the granted rights or a
//!   [`Denied`] naming the deciding ACE;
//! - canonical editing ([`SecurityDescriptor::grant`], [`deny`](SecurityDescriptor::deny),
//!   [`revoke`](SecurityDescriptor::revoke)) and the default descriptors of our services
//!   ([`Service`]).
//!
//! # Example
//!
//! On a fresh root, `SubEnrollService` refuses everyone. Once an administrator has run
//! `rms-root acl grant SubEnrollService rms-admins subenroll`, members of the admins group get in:
//!
//! ```
//! use rms_dacl::{access_check, AccessMask, DomainSid, GenericMapping, Service, Token};
//!
//! let cluster = DomainSid::new(1_111_111_111, 2_222_222_222, 3_333_333_333);
//! let rms_admins = cluster.principal(1105)?;
//! let alice = Token::new(cluster.principal(1201)?).with_group(rms_admins);
//! let mapping = GenericMapping::RMS_SERVICES;
//!
//! let mut sd = Service::SubEnroll.default_descriptor();
//! assert_eq!(sd.to_string(), "O:SYG:SYD:P");
//! let refused = access_check(&sd, &alice, AccessMask::SUBENROLL, &mapping);
//! let Err(denied) = refused else { panic!("the default must refuse") };
//! assert_eq!(
//!     denied.to_string(),
//!     "access denied (requested subenroll): the DACL is empty, so nothing grants subenroll"
//! );
//!
//! sd.grant(rms_admins, "subenroll".parse()?)?;
//! assert_eq!(
//!     sd.to_string(),
//!     "O:SYG:SYD:P(A;;CC;;;S-1-5-21-1111111111-2222222222-3333333333-1105)"
//! );
//! let granted = access_check(&sd, &alice, AccessMask::SUBENROLL, &mapping)?;
//! assert_eq!(granted.mask(), AccessMask::SUBENROLL);
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
pub use crate::defaults::{GRANT_ADMINS_COMMAND, Service};
pub use crate::descriptor::{AclState, Control, SecurityDescriptor};
pub use crate::error::{BinaryError, BinaryErrorKind, Error, SddlError, SddlErrorKind};
pub use crate::guid::Guid;
pub use crate::mask::{AccessMask, GenericMapping};
pub use crate::rights::Right;
pub use crate::sddl::SidContext;
pub use crate::sid::{DomainSid, Sid};

mod access;
mod ace;
mod acl;
mod binary;
mod claim;
mod condition;
mod defaults;
mod descriptor;
mod edit;
mod error;
mod guid;
mod mask;
mod rights;
mod sddl;
mod sid;
