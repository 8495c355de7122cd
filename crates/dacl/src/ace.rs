//! Access control entries (MS-DTYP 2.4.4).

use std::fmt;
use std::ops::BitOr;

use crate::claim::ResourceAttribute;
use crate::condition::Condition;
use crate::error::Error;
use crate::guid::Guid;
use crate::mask::AccessMask;
use crate::sddl::SidContext;
use crate::sid::Sid;

/// The type of an ACE, without its type-specific data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AceType {
    /// `A`, ACCESS_ALLOWED (0x00).
    AccessAllowed,
    /// `D`, ACCESS_DENIED (0x01).
    AccessDenied,
    /// `AU`, SYSTEM_AUDIT (0x02).
    SystemAudit,
    /// `AL`, SYSTEM_ALARM (0x03).
    SystemAlarm,
    /// `OA`, ACCESS_ALLOWED_OBJECT (0x05).
    AccessAllowedObject,
    /// `OD`, ACCESS_DENIED_OBJECT (0x06).
    AccessDeniedObject,
    /// `OU`, SYSTEM_AUDIT_OBJECT (0x07).
    SystemAuditObject,
    /// `OL`, SYSTEM_ALARM_OBJECT (0x08).
    SystemAlarmObject,
    /// `XA`, ACCESS_ALLOWED_CALLBACK (0x09).
    AccessAllowedCallback,
    /// `XD`, ACCESS_DENIED_CALLBACK (0x0A).
    AccessDeniedCallback,
    /// `ZA`, ACCESS_ALLOWED_CALLBACK_OBJECT (0x0B).
    AccessAllowedCallbackObject,
    /// `XU`, SYSTEM_AUDIT_CALLBACK (0x0D).
    SystemAuditCallback,
    /// `ML`, SYSTEM_MANDATORY_LABEL (0x11).
    SystemMandatoryLabel,
    /// `RA`, SYSTEM_RESOURCE_ATTRIBUTE (0x12).
    SystemResourceAttribute,
    /// `SP`, SYSTEM_SCOPED_POLICY_ID (0x13).
    SystemScopedPolicyId,
}

impl AceType {
    /// Every type, in binary code order.
    pub const ALL: [AceType; 15] = [
        AceType::AccessAllowed,
        AceType::AccessDenied,
        AceType::SystemAudit,
        AceType::SystemAlarm,
        AceType::AccessAllowedObject,
        AceType::AccessDeniedObject,
        AceType::SystemAuditObject,
        AceType::SystemAlarmObject,
        AceType::AccessAllowedCallback,
        AceType::AccessDeniedCallback,
        AceType::AccessAllowedCallbackObject,
        AceType::SystemAuditCallback,
        AceType::SystemMandatoryLabel,
        AceType::SystemResourceAttribute,
        AceType::SystemScopedPolicyId,
    ];

    /// The binary type code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            AceType::AccessAllowed => 0x00,
            AceType::AccessDenied => 0x01,
            AceType::SystemAudit => 0x02,
            AceType::SystemAlarm => 0x03,
            AceType::AccessAllowedObject => 0x05,
            AceType::AccessDeniedObject => 0x06,
            AceType::SystemAuditObject => 0x07,
            AceType::SystemAlarmObject => 0x08,
            AceType::AccessAllowedCallback => 0x09,
            AceType::AccessDeniedCallback => 0x0A,
            AceType::AccessAllowedCallbackObject => 0x0B,
            AceType::SystemAuditCallback => 0x0D,
            AceType::SystemMandatoryLabel => 0x11,
            AceType::SystemResourceAttribute => 0x12,
            AceType::SystemScopedPolicyId => 0x13,
        }
    }

    /// The type with this binary code, if it is one this crate supports.
    #[must_use]
    pub fn from_code(code: u8) -> Option<AceType> {
        AceType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The SDDL code (`A`, `D`, `OA`, ...).
    #[must_use]
    pub const fn sddl(self) -> &'static str {
        match self {
            AceType::AccessAllowed => "A",
            AceType::AccessDenied => "D",
            AceType::SystemAudit => "AU",
            AceType::SystemAlarm => "AL",
            AceType::AccessAllowedObject => "OA",
            AceType::AccessDeniedObject => "OD",
            AceType::SystemAuditObject => "OU",
            AceType::SystemAlarmObject => "OL",
            AceType::AccessAllowedCallback => "XA",
            AceType::AccessDeniedCallback => "XD",
            AceType::AccessAllowedCallbackObject => "ZA",
            AceType::SystemAuditCallback => "XU",
            AceType::SystemMandatoryLabel => "ML",
            AceType::SystemResourceAttribute => "RA",
            AceType::SystemScopedPolicyId => "SP",
        }
    }

    /// Whether the ACE carries object-type GUIDs.
    #[must_use]
    pub const fn is_object(self) -> bool {
        matches!(
            self,
            AceType::AccessAllowedObject
                | AceType::AccessDeniedObject
                | AceType::SystemAuditObject
                | AceType::SystemAlarmObject
                | AceType::AccessAllowedCallbackObject
        )
    }

    /// Whether the ACE carries a conditional expression.
    #[must_use]
    pub const fn is_callback(self) -> bool {
        matches!(
            self,
            AceType::AccessAllowedCallback
                | AceType::AccessDeniedCallback
                | AceType::AccessAllowedCallbackObject
                | AceType::SystemAuditCallback
        )
    }

    /// Whether the type belongs in a DACL (allow and deny types) rather than a SACL.
    #[must_use]
    pub const fn is_dacl_type(self) -> bool {
        matches!(
            self,
            AceType::AccessAllowed
                | AceType::AccessDenied
                | AceType::AccessAllowedObject
                | AceType::AccessDeniedObject
                | AceType::AccessAllowedCallback
                | AceType::AccessDeniedCallback
                | AceType::AccessAllowedCallbackObject
        )
    }

    /// Whether the type denies access.
    #[must_use]
    pub const fn is_deny(self) -> bool {
        matches!(
            self,
            AceType::AccessDenied | AceType::AccessDeniedObject | AceType::AccessDeniedCallback
        )
    }
}

impl fmt::Display for AceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sddl())
    }
}

/// The object-type GUIDs of an object ACE; either may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ObjectTypes {
    /// The object type (property, property set, extended right, child class) it applies to.
    pub object_type: Option<Guid>,
    /// The child object class that inherits the ACE.
    pub inherited_object_type: Option<Guid>,
}

/// An ACE type together with its type-specific data, so that an object GUID or a condition can
/// only appear on the types that carry them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AceKind {
    /// `A`
    AccessAllowed,
    /// `D`
    AccessDenied,
    /// `AU`
    SystemAudit,
    /// `AL`
    SystemAlarm,
    /// `ML`
    SystemMandatoryLabel,
    /// `SP`
    SystemScopedPolicyId,
    /// `OA`
    AccessAllowedObject(ObjectTypes),
    /// `OD`
    AccessDeniedObject(ObjectTypes),
    /// `OU`
    SystemAuditObject(ObjectTypes),
    /// `OL`
    SystemAlarmObject(ObjectTypes),
    /// `XA`
    AccessAllowedCallback(Condition),
    /// `XD`
    AccessDeniedCallback(Condition),
    /// `XU`
    SystemAuditCallback(Condition),
    /// `ZA`
    AccessAllowedCallbackObject(ObjectTypes, Condition),
    /// `RA`
    SystemResourceAttribute(ResourceAttribute),
}

impl AceKind {
    /// The type without its data.
    #[must_use]
    pub fn ace_type(&self) -> AceType {
        match self {
            AceKind::AccessAllowed => AceType::AccessAllowed,
            AceKind::AccessDenied => AceType::AccessDenied,
            AceKind::SystemAudit => AceType::SystemAudit,
            AceKind::SystemAlarm => AceType::SystemAlarm,
            AceKind::SystemMandatoryLabel => AceType::SystemMandatoryLabel,
            AceKind::SystemScopedPolicyId => AceType::SystemScopedPolicyId,
            AceKind::AccessAllowedObject(_) => AceType::AccessAllowedObject,
            AceKind::AccessDeniedObject(_) => AceType::AccessDeniedObject,
            AceKind::SystemAuditObject(_) => AceType::SystemAuditObject,
            AceKind::SystemAlarmObject(_) => AceType::SystemAlarmObject,
            AceKind::AccessAllowedCallback(_) => AceType::AccessAllowedCallback,
            AceKind::AccessDeniedCallback(_) => AceType::AccessDeniedCallback,
            AceKind::SystemAuditCallback(_) => AceType::SystemAuditCallback,
            AceKind::AccessAllowedCallbackObject(..) => AceType::AccessAllowedCallbackObject,
            AceKind::SystemResourceAttribute(_) => AceType::SystemResourceAttribute,
        }
    }

    /// The object GUIDs, for object ACEs.
    #[must_use]
    pub fn object_types(&self) -> Option<&ObjectTypes> {
        match self {
            AceKind::AccessAllowedObject(o)
            | AceKind::AccessDeniedObject(o)
            | AceKind::SystemAuditObject(o)
            | AceKind::SystemAlarmObject(o)
            | AceKind::AccessAllowedCallbackObject(o, _) => Some(o),
            _ => None,
        }
    }

    /// The condition, for callback ACEs.
    #[must_use]
    pub fn condition(&self) -> Option<&Condition> {
        match self {
            AceKind::AccessAllowedCallback(c)
            | AceKind::AccessDeniedCallback(c)
            | AceKind::SystemAuditCallback(c)
            | AceKind::AccessAllowedCallbackObject(_, c) => Some(c),
            _ => None,
        }
    }
}

/// ACE flags (inheritance and audit).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AceFlags(u8);

impl AceFlags {
    /// No flags.
    pub const NONE: AceFlags = AceFlags(0);
    /// `OI`: inherited by child objects.
    pub const OBJECT_INHERIT: AceFlags = AceFlags(0x01);
    /// `CI`: inherited by child containers.
    pub const CONTAINER_INHERIT: AceFlags = AceFlags(0x02);
    /// `NP`: inheritance stops at the children.
    pub const NO_PROPAGATE_INHERIT: AceFlags = AceFlags(0x04);
    /// `IO`: only for inheritance; skipped by the access check.
    pub const INHERIT_ONLY: AceFlags = AceFlags(0x08);
    /// `ID`: this ACE was inherited.
    pub const INHERITED: AceFlags = AceFlags(0x10);
    /// `SA`: audit successful access.
    pub const SUCCESSFUL_ACCESS: AceFlags = AceFlags(0x40);
    /// `FA`: audit failed access.
    pub const FAILED_ACCESS: AceFlags = AceFlags(0x80);
    /// Every flag this crate knows (0x20, the newer "critical" flag, is not supported).
    pub const ALL: AceFlags = AceFlags(0xDF);

    /// The SDDL names in print order.
    pub(crate) const NAMES: [(&'static str, AceFlags); 7] = [
        ("OI", AceFlags::OBJECT_INHERIT),
        ("CI", AceFlags::CONTAINER_INHERIT),
        ("NP", AceFlags::NO_PROPAGATE_INHERIT),
        ("IO", AceFlags::INHERIT_ONLY),
        ("ID", AceFlags::INHERITED),
        ("SA", AceFlags::SUCCESSFUL_ACCESS),
        ("FA", AceFlags::FAILED_ACCESS),
    ];

    /// Flags from their bits, if all are known.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Option<AceFlags> {
        if bits & !AceFlags::ALL.0 == 0 {
            Some(AceFlags(bits))
        } else {
            None
        }
    }

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set.
    #[must_use]
    pub const fn contains(self, other: AceFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for AceFlags {
    type Output = AceFlags;
    fn bitor(self, rhs: AceFlags) -> AceFlags {
        AceFlags(self.0 | rhs.0)
    }
}

impl fmt::Debug for AceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AceFlags({self})")
    }
}

impl fmt::Display for AceFlags {
    /// The SDDL form, such as `OICIIO`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, flag) in AceFlags::NAMES {
            if self.contains(flag) {
                f.write_str(name)?;
            }
        }
        Ok(())
    }
}

/// One access control entry: a type (with its data), flags, an access mask and a trustee SID.
///
/// ```
/// use rms_dacl::{AccessMask, Ace, Sid};
/// let ace = Ace::allow(Sid::BUILTIN_ADMINISTRATORS, AccessMask::GENERIC_ALL);
/// assert_eq!(ace.to_string(), "(A;;GA;;;BA)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ace {
    kind: AceKind,
    flags: AceFlags,
    mask: AccessMask,
    sid: Sid,
}

impl Ace {
    /// An ACE of any kind.
    ///
    /// # Errors
    /// [`Error::InvalidAce`] for a resource attribute ACE whose trustee is not Everyone.
    pub fn new(kind: AceKind, flags: AceFlags, mask: AccessMask, sid: Sid) -> Result<Ace, Error> {
        if matches!(kind, AceKind::SystemResourceAttribute(_)) && sid != Sid::EVERYONE {
            return Err(Error::InvalidAce(
                "a resource attribute ACE must name Everyone (WD)",
            ));
        }
        Ok(Ace {
            kind,
            flags,
            mask,
            sid,
        })
    }

    /// An explicit access-allowed ACE (`A`) without flags.
    #[must_use]
    pub fn allow(sid: Sid, mask: AccessMask) -> Ace {
        Ace {
            kind: AceKind::AccessAllowed,
            flags: AceFlags::NONE,
            mask,
            sid,
        }
    }

    /// An explicit access-denied ACE (`D`) without flags.
    #[must_use]
    pub fn deny(sid: Sid, mask: AccessMask) -> Ace {
        Ace {
            kind: AceKind::AccessDenied,
            flags: AceFlags::NONE,
            mask,
            sid,
        }
    }

    /// This ACE with other flags.
    #[must_use]
    pub fn with_flags(mut self, flags: AceFlags) -> Ace {
        self.flags = flags;
        self
    }

    /// The type and its data.
    #[must_use]
    pub fn kind(&self) -> &AceKind {
        &self.kind
    }

    /// The type.
    #[must_use]
    pub fn ace_type(&self) -> AceType {
        self.kind.ace_type()
    }

    /// The flags.
    #[must_use]
    pub fn flags(&self) -> AceFlags {
        self.flags
    }

    /// The access mask.
    #[must_use]
    pub fn mask(&self) -> AccessMask {
        self.mask
    }

    /// The trustee.
    #[must_use]
    pub fn sid(&self) -> &Sid {
        &self.sid
    }

    /// Whether the ACE has the INHERIT_ONLY flag (the access check skips it).
    #[must_use]
    pub fn is_inherit_only(&self) -> bool {
        self.flags.contains(AceFlags::INHERIT_ONLY)
    }

    /// Whether the ACE has the INHERITED flag.
    #[must_use]
    pub fn is_inherited(&self) -> bool {
        self.flags.contains(AceFlags::INHERITED)
    }

    pub(crate) fn set_mask(&mut self, mask: AccessMask) {
        self.mask = mask;
    }

    /// The SDDL form, with SIDs relative to `ctx`.
    #[must_use]
    pub fn to_sddl(&self, ctx: &SidContext) -> String {
        let mut out = String::new();
        crate::sddl::print::write_ace(&mut out, self, ctx);
        out
    }
}

impl fmt::Display for Ace {
    /// The SDDL form without domain aliases.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sddl(&SidContext::none()))
    }
}
