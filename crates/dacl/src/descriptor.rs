//! Security descriptors (MS-DTYP 2.4.6): owner, group, DACL, SACL and control flags.

use std::fmt;
use std::str::FromStr;

use crate::acl::Acl;
use crate::error::{Error, SddlError};
use crate::sddl::SidContext;
use crate::sid::Sid;

/// Whether an ACL is there, and if so whether it is NULL.
///
/// For a DACL the difference is everything: [`AclState::NotPresent`] and [`AclState::Null`]
/// both mean **no access control** (everyone is allowed everything), while
/// `AclState::Present` with an **empty** ACL means **everyone is denied** (except the owner's
/// implicit READ_CONTROL and WRITE_DAC).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AclState {
    /// No ACL at all (SE_DACL_PRESENT or SE_SACL_PRESENT clear; no `D:` or `S:` section).
    NotPresent,
    /// A present but NULL ACL (`D:NO_ACCESS_CONTROL`).
    Null,
    /// An ACL, possibly empty (`D:` is an empty one).
    Present(Acl),
}

impl AclState {
    /// The ACL, if one is present.
    #[must_use]
    pub fn acl(&self) -> Option<&Acl> {
        match self {
            AclState::Present(acl) => Some(acl),
            _ => None,
        }
    }
}

/// Security descriptor control flags (SECURITY_DESCRIPTOR_CONTROL).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Control(u16);

impl Control {
    /// SE_OWNER_DEFAULTED (not kept: SDDL cannot express it, see
    /// [`SecurityDescriptor::with_control`]).
    pub const OWNER_DEFAULTED: Control = Control(0x0001);
    /// SE_GROUP_DEFAULTED (not kept).
    pub const GROUP_DEFAULTED: Control = Control(0x0002);
    /// SE_DACL_PRESENT (derived from the DACL state).
    pub const DACL_PRESENT: Control = Control(0x0004);
    /// SE_DACL_DEFAULTED (not kept).
    pub const DACL_DEFAULTED: Control = Control(0x0008);
    /// SE_SACL_PRESENT (derived from the SACL state).
    pub const SACL_PRESENT: Control = Control(0x0010);
    /// SE_SACL_DEFAULTED (not kept).
    pub const SACL_DEFAULTED: Control = Control(0x0020);
    /// SE_DACL_TRUSTED (not kept).
    pub const DACL_TRUSTED: Control = Control(0x0040);
    /// SE_SERVER_SECURITY (not kept).
    pub const SERVER_SECURITY: Control = Control(0x0080);
    /// SE_DACL_AUTO_INHERIT_REQ (SDDL `D:AR`).
    pub const DACL_AUTO_INHERIT_REQ: Control = Control(0x0100);
    /// SE_SACL_AUTO_INHERIT_REQ (SDDL `S:AR`).
    pub const SACL_AUTO_INHERIT_REQ: Control = Control(0x0200);
    /// SE_DACL_AUTO_INHERITED (SDDL `D:AI`).
    pub const DACL_AUTO_INHERITED: Control = Control(0x0400);
    /// SE_SACL_AUTO_INHERITED (SDDL `S:AI`).
    pub const SACL_AUTO_INHERITED: Control = Control(0x0800);
    /// SE_DACL_PROTECTED (SDDL `D:P`): inheritable ACEs of the parent do not apply.
    pub const DACL_PROTECTED: Control = Control(0x1000);
    /// SE_SACL_PROTECTED (SDDL `S:P`).
    pub const SACL_PROTECTED: Control = Control(0x2000);
    /// SE_RM_CONTROL_VALID (not kept: the resource-manager byte is not modelled).
    pub const RM_CONTROL_VALID: Control = Control(0x4000);
    /// SE_SELF_RELATIVE (always set in the binary form this crate writes).
    pub const SELF_RELATIVE: Control = Control(0x8000);

    /// The bits a descriptor stores, the ones SDDL can express (`P`, `AR`, `AI` of each ACL);
    /// the PRESENT and SELF_RELATIVE bits are derived, the others are not modelled.
    pub(crate) const STORED: Control = Control(0x3F00);

    /// The bits of the DACL's flags (`D:P`, `D:AR`, `D:AI`).
    const DACL_FLAGS: Control = Control(0x1500);
    /// The bits of the SACL's flags (`S:P`, `S:AR`, `S:AI`).
    const SACL_FLAGS: Control = Control(0x2A00);

    /// These flags without what SDDL cannot express: the bits it has no letter for, and the
    /// `P`, `AR`, `AI` flags of an ACL that is absent.
    pub(crate) const fn sddl_expressible(self, dacl_present: bool, sacl_present: bool) -> Control {
        let mut keep = 0;
        if dacl_present {
            keep |= Control::DACL_FLAGS.0;
        }
        if sacl_present {
            keep |= Control::SACL_FLAGS.0;
        }
        Control(self.0 & keep)
    }

    /// Flags from raw bits.
    #[must_use]
    pub const fn from_bits(bits: u16) -> Control {
        Control(bits)
    }

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every bit of `other` is set.
    #[must_use]
    pub const fn contains(self, other: Control) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) const fn with(self, other: Control, on: bool) -> Control {
        if on {
            Control(self.0 | other.0)
        } else {
            Control(self.0 & !other.0)
        }
    }
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Control(0x{:04x})", self.0)
    }
}

/// A security descriptor: who owns the object, its primary group, who may access it (DACL) and
/// what is audited (SACL).
///
/// ```
/// use rms_dacl::{AclState, SecurityDescriptor};
/// let open: SecurityDescriptor = "O:SYG:SY".parse()?;          // no DACL: everyone allowed
/// let closed: SecurityDescriptor = "O:SYG:SYD:P".parse()?;     // empty DACL: everyone denied
/// assert_eq!(open.dacl(), &AclState::NotPresent);
/// assert!(closed.dacl().acl().is_some_and(|acl| acl.is_empty()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecurityDescriptor {
    owner: Option<Sid>,
    group: Option<Sid>,
    dacl: AclState,
    sacl: AclState,
    control: Control,
}

impl Default for SecurityDescriptor {
    fn default() -> Self {
        SecurityDescriptor::new()
    }
}

impl SecurityDescriptor {
    /// A descriptor with no owner, group, DACL or SACL.
    #[must_use]
    pub fn new() -> SecurityDescriptor {
        SecurityDescriptor {
            owner: None,
            group: None,
            dacl: AclState::NotPresent,
            sacl: AclState::NotPresent,
            control: Control::default(),
        }
    }

    /// Parses SDDL, resolving domain aliases against `ctx`.
    ///
    /// # Errors
    /// [`SddlError`] with the byte offset and the reason.
    pub fn from_sddl(text: &str, ctx: &SidContext) -> Result<SecurityDescriptor, SddlError> {
        crate::sddl::parse::parse_descriptor(text, ctx)
    }

    /// The canonical SDDL form, as Windows prints it, with domain aliases relative to `ctx`.
    #[must_use]
    pub fn to_sddl(&self, ctx: &SidContext) -> String {
        crate::sddl::print::descriptor_to_sddl(self, ctx)
    }

    /// This descriptor with an owner.
    #[must_use]
    pub fn with_owner(mut self, owner: Option<Sid>) -> Self {
        self.owner = owner;
        self
    }

    /// This descriptor with a primary group.
    #[must_use]
    pub fn with_group(mut self, group: Option<Sid>) -> Self {
        self.group = group;
        self
    }

    /// This descriptor with a DACL.
    ///
    /// # Errors
    /// [`Error::AceNotAllowed`] if the ACL holds audit, alarm, label, resource attribute or
    /// scoped policy ACEs, which belong in a SACL.
    pub fn with_dacl(mut self, dacl: AclState) -> Result<Self, Error> {
        if let AclState::Present(acl) = &dacl {
            acl.check_placement(true)?;
        }
        self.dacl = dacl;
        Ok(self)
    }

    /// This descriptor with a SACL.
    ///
    /// # Errors
    /// [`Error::AceNotAllowed`] if the ACL holds allow or deny ACEs.
    pub fn with_sacl(mut self, sacl: AclState) -> Result<Self, Error> {
        if let AclState::Present(acl) = &sacl {
            acl.check_placement(false)?;
        }
        self.sacl = sacl;
        Ok(self)
    }

    /// This descriptor with control flags. Only the `P`, `AR` and `AI` flags of each ACL are
    /// kept: the PRESENT and SELF_RELATIVE bits follow from the ACL states and the encoding, and
    /// the bits SDDL has no letter for (the DEFAULTED bits, DACL_TRUSTED, SERVER_SECURITY,
    /// RM_CONTROL_VALID) are not modelled, so every descriptor reads back from its SDDL form.
    /// The flags of an absent ACL are kept but not printed: set the ACL too (or check with
    /// [`SecurityDescriptor::read_back`]).
    #[must_use]
    pub fn with_control(mut self, control: Control) -> Self {
        self.control = Control(control.0 & Control::STORED.0);
        self
    }

    /// The owner.
    #[must_use]
    pub fn owner(&self) -> Option<&Sid> {
        self.owner.as_ref()
    }

    /// The primary group.
    #[must_use]
    pub fn group(&self) -> Option<&Sid> {
        self.group.as_ref()
    }

    /// The DACL state.
    #[must_use]
    pub fn dacl(&self) -> &AclState {
        &self.dacl
    }

    /// The SACL state.
    #[must_use]
    pub fn sacl(&self) -> &AclState {
        &self.sacl
    }

    pub(crate) fn dacl_mut(&mut self) -> &mut AclState {
        &mut self.dacl
    }

    /// The full control flags, including SE_DACL_PRESENT, SE_SACL_PRESENT and SE_SELF_RELATIVE.
    #[must_use]
    pub fn control(&self) -> Control {
        self.control
            .with(
                Control::DACL_PRESENT,
                !matches!(self.dacl, AclState::NotPresent),
            )
            .with(
                Control::SACL_PRESENT,
                !matches!(self.sacl, AclState::NotPresent),
            )
            .with(Control::SELF_RELATIVE, true)
    }

    /// Whether the DACL is protected from inheritance (`D:P`).
    #[must_use]
    pub fn is_dacl_protected(&self) -> bool {
        self.control.contains(Control::DACL_PROTECTED)
    }
}

impl fmt::Display for SecurityDescriptor {
    /// The canonical SDDL form without domain aliases.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sddl(&SidContext::none()))
    }
}

impl FromStr for SecurityDescriptor {
    type Err = SddlError;

    /// Parses SDDL without a domain: domain-relative aliases (`DA`, `LA`, ...) are refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecurityDescriptor::from_sddl(s, &SidContext::none())
    }
}
