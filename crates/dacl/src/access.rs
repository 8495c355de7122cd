//! The Windows access check (MS-DTYP 2.5.3.2), as a pure function.
//!
//! Rules, in order:
//! 1. Generic rights in the desired mask and in every ACE mask are mapped first.
//! 2. Nothing requested is a refusal (as Windows does).
//! 3. ACCESS_SYSTEM_SECURITY needs the security privilege; WRITE_OWNER is granted by the
//!    take-ownership privilege.
//! 4. No DACL, or a NULL DACL, grants everything (MAXIMUM_ALLOWED: the mapping's "all").
//! 5. The owner gets READ_CONTROL and WRITE_DAC implicitly, unless the DACL has a
//!    (non-inherit-only) OWNER RIGHTS ACE; then `OW` ACEs apply to the owner instead.
//! 6. ACEs are walked in order; inherit-only ACEs are skipped; allow ACEs match the user and
//!    enabled groups, deny ACEs also match deny-only groups.
//! 7. Allowed bits accumulate; a deny ACE naming any still-wanted bit refuses the request;
//!    a bit granted earlier is not taken back by a later deny (first match wins per bit).
//! 8. Bits still wanted after the last ACE are refused (an empty DACL refuses everything).
//! 9. MAXIMUM_ALLOWED: the first ACE that mentions a bit decides it; the result is every
//!    allowed bit, refused if it misses an explicitly requested bit or is empty.
//!
//! Object ACEs (`OA`, `OD`) apply as plain allow and deny ACEs, as in Windows when no
//! object-type list is given (object-type lists are not supported). Conditional ACEs (`XA`,
//! `XD`, `ZA`) are not evaluated: when one matches the caller and could change the outcome,
//! the check refuses and says so, instead of ignoring it.

use std::fmt;

use crate::ace::Ace;
use crate::descriptor::{AclState, SecurityDescriptor};
use crate::mask::{AccessMask, GenericMapping};
use crate::sid::Sid;

/// A privilege that changes the access check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Privilege {
    /// SeSecurityPrivilege: grants ACCESS_SYSTEM_SECURITY.
    Security,
    /// SeTakeOwnershipPrivilege: grants WRITE_OWNER whatever the DACL says.
    TakeOwnership,
}

/// How a group SID counts in the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupUse {
    /// Enabled: matches allow and deny ACEs.
    Enabled,
    /// Deny-only: matches deny ACEs only.
    DenyOnly,
}

/// The caller: a user SID, group SIDs (enabled or deny-only) and privileges.
///
/// ```
/// use rms_dacl::{Sid, Token};
/// let token = Token::new("S-1-5-21-1-2-3-1107".parse()?)
///     .with_group(Sid::AUTHENTICATED_USERS)
///     .with_deny_only_group(Sid::BUILTIN_ADMINISTRATORS);
/// assert_eq!(token.groups().count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    user: Sid,
    groups: Vec<(Sid, GroupUse)>,
    security: bool,
    take_ownership: bool,
}

impl Token {
    /// A token with a user SID and no groups or privileges.
    #[must_use]
    pub fn new(user: Sid) -> Token {
        Token {
            user,
            groups: Vec::new(),
            security: false,
            take_ownership: false,
        }
    }

    /// With an enabled group.
    #[must_use]
    pub fn with_group(mut self, sid: Sid) -> Token {
        self.groups.push((sid, GroupUse::Enabled));
        self
    }

    /// With a deny-only group (matches deny ACEs, never allow ACEs).
    #[must_use]
    pub fn with_deny_only_group(mut self, sid: Sid) -> Token {
        self.groups.push((sid, GroupUse::DenyOnly));
        self
    }

    /// With a privilege.
    #[must_use]
    pub fn with_privilege(mut self, privilege: Privilege) -> Token {
        match privilege {
            Privilege::Security => self.security = true,
            Privilege::TakeOwnership => self.take_ownership = true,
        }
        self
    }

    /// The user SID.
    #[must_use]
    pub fn user(&self) -> &Sid {
        &self.user
    }

    /// The groups and how each counts.
    pub fn groups(&self) -> impl Iterator<Item = (&Sid, GroupUse)> {
        self.groups.iter().map(|(s, u)| (s, *u))
    }

    /// Whether the token holds a privilege.
    #[must_use]
    pub fn has_privilege(&self, privilege: Privilege) -> bool {
        match privilege {
            Privilege::Security => self.security,
            Privilege::TakeOwnership => self.take_ownership,
        }
    }

    /// Whether an allow ACE for `sid` applies (user or enabled group).
    fn matches_allow(&self, sid: &Sid) -> bool {
        self.user == *sid
            || self
                .groups
                .iter()
                .any(|(g, u)| *u == GroupUse::Enabled && g == sid)
    }

    /// Whether a deny ACE for `sid` applies (user or any group).
    fn matches_deny(&self, sid: &Sid) -> bool {
        self.user == *sid || self.groups.iter().any(|(g, _)| g == sid)
    }
}

/// Proof that an access check granted access, with the granted rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct Granted {
    mask: AccessMask,
}

impl Granted {
    /// The granted rights: the (mapped) desired rights, or with MAXIMUM_ALLOWED every right
    /// the descriptor grants.
    #[must_use]
    pub fn mask(&self) -> AccessMask {
        self.mask
    }
}

/// Why access was refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenialReason {
    /// The desired mask was empty.
    NothingRequested,
    /// A right needs a privilege the token lacks.
    PrivilegeNotHeld(Privilege),
    /// A deny ACE named wanted bits.
    DeniedByAce {
        /// Index of the ACE in the DACL.
        index: usize,
        /// The ACE in SDDL.
        ace: String,
        /// The wanted bits it denied.
        bits: AccessMask,
    },
    /// The DACL is empty: nobody but the owner gets anything.
    EmptyDacl {
        /// The bits not granted.
        missing: AccessMask,
    },
    /// No ACE granted these bits.
    NotGranted {
        /// The bits not granted.
        missing: AccessMask,
    },
    /// A matching ACE could change the outcome but is not evaluated by this crate.
    Unsupported {
        /// Index of the ACE in the DACL.
        index: usize,
        /// The ACE in SDDL.
        ace: String,
        /// Why it cannot be evaluated.
        why: &'static str,
    },
}

/// A refusal, saying which rights were requested and why they were refused, so an audit log
/// can record the deciding ACE.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("access denied (requested {requested}): {reason}")]
pub struct Denied {
    requested: AccessMask,
    reason: DenialReason,
}

impl Denied {
    /// The requested rights, after generic mapping.
    #[must_use]
    pub fn requested(&self) -> AccessMask {
        self.requested
    }

    /// Why access was refused.
    #[must_use]
    pub fn reason(&self) -> &DenialReason {
        &self.reason
    }
}

impl fmt::Display for DenialReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenialReason::NothingRequested => f.write_str("no right was requested"),
            DenialReason::PrivilegeNotHeld(Privilege::Security) => {
                f.write_str("access-system-security needs the security privilege")
            }
            DenialReason::PrivilegeNotHeld(Privilege::TakeOwnership) => {
                f.write_str("the take-ownership privilege is needed")
            }
            DenialReason::DeniedByAce { index, ace, bits } => {
                write!(f, "ACE #{index} {ace} denies {bits}")
            }
            DenialReason::EmptyDacl { missing } => {
                write!(f, "the DACL is empty, so nothing grants {missing}")
            }
            DenialReason::NotGranted { missing } if missing.is_empty() => {
                f.write_str("no ACE grants any right")
            }
            DenialReason::NotGranted { missing } => write!(f, "no ACE granted {missing}"),
            DenialReason::Unsupported { index, ace, why } => {
                write!(f, "ACE #{index} {ace} matches but {why}")
            }
        }
    }
}

const CONDITIONAL: &str =
    "is a conditional ACE, and conditions are not evaluated (refusing rather than guessing)";

/// Checks whether `token` may have `desired` on an object protected by `sd`, as Windows'
/// AccessCheck does (see the module rules above).
///
/// # Errors
/// [`Denied`] naming the deciding ACE, or the bits no ACE granted.
///
/// ```
/// use rms_dacl::{access_check, AccessMask, GenericMapping, SecurityDescriptor, Sid, Token};
/// let sd: SecurityDescriptor = "O:SYG:SYD:(D;;CC;;;BG)(A;;GA;;;BA)".parse()?;
/// let admin = Token::new("S-1-5-21-1-2-3-1001".parse()?).with_group(Sid::BUILTIN_ADMINISTRATORS);
/// let granted = access_check(&sd, &admin, AccessMask::DS_CREATE_CHILD, &GenericMapping::DIRECTORY_SERVICE)?;
/// assert_eq!(granted.mask(), AccessMask::DS_CREATE_CHILD);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn access_check(
    sd: &SecurityDescriptor,
    token: &Token,
    desired: AccessMask,
    mapping: &GenericMapping,
) -> Result<Granted, Denied> {
    let max = desired.contains(AccessMask::MAXIMUM_ALLOWED);
    let mut want = mapping.map(desired.without(AccessMask::MAXIMUM_ALLOWED));
    let requested = if max {
        want | AccessMask::MAXIMUM_ALLOWED
    } else {
        want
    };
    let deny = |reason| Denied { requested, reason };
    if want.is_empty() && !max {
        return Err(deny(DenialReason::NothingRequested));
    }
    let mut by_privilege = AccessMask::EMPTY;
    if want.contains(AccessMask::ACCESS_SYSTEM_SECURITY) {
        if !token.has_privilege(Privilege::Security) {
            return Err(deny(DenialReason::PrivilegeNotHeld(Privilege::Security)));
        }
        by_privilege |= AccessMask::ACCESS_SYSTEM_SECURITY;
    }
    if token.has_privilege(Privilege::TakeOwnership)
        && (max || want.contains(AccessMask::WRITE_OWNER))
    {
        by_privilege |= AccessMask::WRITE_OWNER;
    }
    want = want.without(by_privilege);

    let acl = match sd.dacl() {
        AclState::NotPresent | AclState::Null => {
            let mask = if max { want | mapping.all } else { want };
            return Ok(Granted {
                mask: mask | by_privilege,
            });
        }
        AclState::Present(acl) => acl,
    };
    let owner = sd.owner();
    let am_owner = owner.is_some_and(|o| token.matches_allow(o));
    let has_owner_rights = acl
        .aces()
        .iter()
        .any(|a| !a.is_inherit_only() && *a.sid() == Sid::OWNER_RIGHTS);
    let implicit = if am_owner && !has_owner_rights {
        AccessMask::READ_CONTROL | AccessMask::WRITE_DAC
    } else {
        AccessMask::EMPTY
    };
    let applies = |ace: &Ace| -> bool {
        if ace.is_inherit_only() {
            return false;
        }
        // OWNER RIGHTS stands for the owner (and only the owner).
        let trustee = if *ace.sid() == Sid::OWNER_RIGHTS {
            match owner {
                Some(o) => o,
                None => return false,
            }
        } else {
            ace.sid()
        };
        if ace.ace_type().is_deny() {
            token.matches_deny(trustee)
        } else {
            token.matches_allow(trustee)
        }
    };
    let no_grant = |missing| {
        if acl.is_empty() {
            DenialReason::EmptyDacl { missing }
        } else {
            DenialReason::NotGranted { missing }
        }
    };

    if !max {
        let mut remaining = want.without(implicit);
        for (index, ace) in acl.aces().iter().enumerate() {
            if remaining.is_empty() {
                break;
            }
            let mask = mapping.map(ace.mask());
            if !mask.intersects(remaining) || !applies(ace) {
                continue;
            }
            if ace.kind().condition().is_some() {
                return Err(deny(DenialReason::Unsupported {
                    index,
                    ace: ace.to_string(),
                    why: CONDITIONAL,
                }));
            }
            if ace.ace_type().is_deny() {
                return Err(deny(DenialReason::DeniedByAce {
                    index,
                    ace: ace.to_string(),
                    bits: mask & remaining,
                }));
            }
            remaining = remaining.without(mask);
        }
        if remaining.is_empty() {
            return Ok(Granted {
                mask: want | by_privilege,
            });
        }
        return Err(deny(no_grant(remaining)));
    }

    // MAXIMUM_ALLOWED: the first ACE mentioning a bit decides it.
    let mut allowed = implicit;
    let mut denied = AccessMask::EMPTY;
    let mut first_deny: Option<(usize, &Ace, AccessMask)> = None;
    for (index, ace) in acl.aces().iter().enumerate() {
        if !applies(ace) {
            continue;
        }
        let mask = mapping
            .map(ace.mask())
            .without(AccessMask::ACCESS_SYSTEM_SECURITY | AccessMask::MAXIMUM_ALLOWED);
        let undecided = mask.without(allowed | denied);
        if undecided.is_empty() {
            continue;
        }
        if ace.kind().condition().is_some() {
            return Err(deny(DenialReason::Unsupported {
                index,
                ace: ace.to_string(),
                why: CONDITIONAL,
            }));
        }
        if ace.ace_type().is_deny() {
            denied |= undecided;
            if first_deny.is_none() && undecided.intersects(want) {
                first_deny = Some((index, ace, undecided & want));
            }
        } else {
            allowed |= undecided;
        }
    }
    let missing = want.without(allowed);
    if !missing.is_empty() {
        return Err(deny(match first_deny {
            Some((index, ace, bits)) if bits.intersects(missing) => DenialReason::DeniedByAce {
                index,
                ace: ace.to_string(),
                bits: bits & missing,
            },
            _ => no_grant(missing),
        }));
    }
    let mask = allowed | by_privilege;
    if mask.is_empty() {
        return Err(deny(no_grant(AccessMask::EMPTY)));
    }
    Ok(Granted { mask })
}
