//! Editing a DACL while keeping canonical order ("Order of ACEs in a DACL"): explicit deny
//! ACEs, then explicit allow ACEs, then inherited ACEs (left in the order they have).

use crate::ace::{Ace, AceFlags, AceKind};
use crate::acl::Acl;
use crate::descriptor::{AclState, SecurityDescriptor};
use crate::error::Error;
use crate::mask::AccessMask;
use crate::sid::Sid;

/// 0: explicit deny, 1: explicit allow, 2: inherited.
fn phase(ace: &Ace) -> u8 {
    if ace.is_inherited() {
        2
    } else if ace.ace_type().is_deny() {
        0
    } else {
        1
    }
}

fn is_plain(ace: &Ace, sid: &Sid, deny: bool) -> bool {
    let kind_ok = if deny {
        matches!(ace.kind(), AceKind::AccessDenied)
    } else {
        matches!(ace.kind(), AceKind::AccessAllowed)
    };
    kind_ok && ace.flags() == AceFlags::NONE && ace.sid() == sid
}

impl Acl {
    /// Checks canonical order: explicit deny ACEs before explicit allow ACEs, and explicit
    /// ACEs before inherited ones.
    ///
    /// # Errors
    /// [`Error::NonCanonicalDacl`] naming the first ACE out of order.
    pub fn check_canonical(&self) -> Result<(), Error> {
        let mut highest = 0;
        for (index, ace) in self.aces().iter().enumerate() {
            let p = phase(ace);
            if p < highest {
                let reason = if highest == 2 {
                    "an explicit ACE follows an inherited one"
                } else {
                    "an explicit deny ACE follows an explicit allow ACE"
                };
                return Err(Error::NonCanonicalDacl { index, reason });
            }
            highest = p;
        }
        Ok(())
    }

    /// Whether the ACL is in canonical order.
    #[must_use]
    pub fn is_canonical(&self) -> bool {
        self.check_canonical().is_ok()
    }

    /// Allows `mask` to `sid`: merged into the principal's explicit allow ACE if there is one,
    /// else a new allow ACE after the other explicit allow ACEs.
    ///
    /// A deny ACE for the same principal still wins; [`Acl::revoke`] removes it.
    ///
    /// # Errors
    /// [`Error::NonCanonicalDacl`] if the ACL is not canonical, [`Error::EmptyMask`] for no
    /// rights.
    pub fn grant(&mut self, sid: Sid, mask: AccessMask) -> Result<(), Error> {
        self.add(sid, mask, false)
    }

    /// Denies `mask` to `sid`: merged into the principal's explicit deny ACE if there is one,
    /// else a new deny ACE after the other explicit deny ACEs.
    ///
    /// # Errors
    /// As [`Acl::grant`].
    pub fn deny(&mut self, sid: Sid, mask: AccessMask) -> Result<(), Error> {
        self.add(sid, mask, true)
    }

    fn add(&mut self, sid: Sid, mask: AccessMask, deny: bool) -> Result<(), Error> {
        self.check_canonical()?;
        if mask.is_empty() {
            return Err(Error::EmptyMask);
        }
        let aces = self.aces_mut();
        if let Some(ace) = aces.iter_mut().find(|a| is_plain(a, &sid, deny)) {
            let merged = ace.mask() | mask;
            ace.set_mask(merged);
        } else {
            let boundary = if deny { 1 } else { 2 };
            let at = aces
                .iter()
                .position(|a| phase(a) >= boundary)
                .unwrap_or(aces.len());
            let ace = if deny {
                Ace::deny(sid, mask)
            } else {
                Ace::allow(sid, mask)
            };
            aces.insert(at, ace);
        }
        self.check_canonical()
    }

    /// Removes every explicit ACE whose trustee is `sid` (allow and deny, of any type);
    /// inherited ACEs stay. Returns how many were removed.
    ///
    /// # Errors
    /// [`Error::NonCanonicalDacl`] if the ACL is not canonical.
    pub fn revoke(&mut self, sid: &Sid) -> Result<usize, Error> {
        self.check_canonical()?;
        let aces = self.aces_mut();
        let before = aces.len();
        aces.retain(|a| a.is_inherited() || a.sid() != sid);
        Ok(before - aces.len())
    }

    /// Removes `mask` from the explicit allow ACEs of `sid`, dropping ACEs left with no right.
    /// Returns how many ACEs changed or were removed.
    ///
    /// # Errors
    /// As [`Acl::grant`].
    pub fn revoke_rights(&mut self, sid: &Sid, mask: AccessMask) -> Result<usize, Error> {
        self.check_canonical()?;
        if mask.is_empty() {
            return Err(Error::EmptyMask);
        }
        let mut changed = 0;
        let aces = self.aces_mut();
        for ace in aces.iter_mut() {
            if phase(ace) == 1 && ace.sid() == sid && ace.mask().intersects(mask) {
                ace.set_mask(ace.mask().without(mask));
                changed += 1;
            }
        }
        aces.retain(|a| !(phase(a) == 1 && a.sid() == sid && a.mask().is_empty()));
        Ok(changed)
    }
}

impl SecurityDescriptor {
    fn acl_for_edit(&mut self) -> Result<&mut Acl, Error> {
        match self.dacl_mut() {
            AclState::Present(acl) => Ok(acl),
            AclState::NotPresent => Err(Error::NoDacl("no D: section")),
            AclState::Null => Err(Error::NoDacl("D:NO_ACCESS_CONTROL")),
        }
    }

    /// [`Acl::grant`] on the DACL.
    ///
    /// # Errors
    /// [`Error::NoDacl`] when there is no DACL, else as [`Acl::grant`].
    pub fn grant(&mut self, sid: Sid, mask: AccessMask) -> Result<(), Error> {
        self.acl_for_edit()?.grant(sid, mask)
    }

    /// [`Acl::deny`] on the DACL.
    ///
    /// # Errors
    /// [`Error::NoDacl`] when there is no DACL, else as [`Acl::deny`].
    pub fn deny(&mut self, sid: Sid, mask: AccessMask) -> Result<(), Error> {
        self.acl_for_edit()?.deny(sid, mask)
    }

    /// [`Acl::revoke`] on the DACL.
    ///
    /// # Errors
    /// [`Error::NoDacl`] when there is no DACL, else as [`Acl::revoke`].
    pub fn revoke(&mut self, sid: &Sid) -> Result<usize, Error> {
        self.acl_for_edit()?.revoke(sid)
    }

    /// [`Acl::revoke_rights`] on the DACL.
    ///
    /// # Errors
    /// [`Error::NoDacl`] when there is no DACL, else as [`Acl::revoke_rights`].
    pub fn revoke_rights(&mut self, sid: &Sid, mask: AccessMask) -> Result<usize, Error> {
        self.acl_for_edit()?.revoke_rights(sid, mask)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sd(text: &str) -> SecurityDescriptor {
        text.parse().unwrap()
    }

    #[test]
    fn grant_merges_and_keeps_order() {
        let mut d = sd("D:(D;;CC;;;BG)(A;;DC;;;BA)(A;ID;GA;;;SY)");
        d.grant(Sid::BUILTIN_ADMINISTRATORS, AccessMask::DS_CREATE_CHILD)
            .unwrap();
        assert_eq!(d.to_string(), "D:(D;;CC;;;BG)(A;;CCDC;;;BA)(A;ID;GA;;;SY)");
        d.grant(Sid::AUTHENTICATED_USERS, AccessMask::DS_DELETE_CHILD)
            .unwrap();
        assert_eq!(
            d.to_string(),
            "D:(D;;CC;;;BG)(A;;CCDC;;;BA)(A;;DC;;;AU)(A;ID;GA;;;SY)"
        );
        d.deny(Sid::ANONYMOUS, AccessMask::DS_DELETE_CHILD).unwrap();
        assert_eq!(
            d.to_string(),
            "D:(D;;CC;;;BG)(D;;DC;;;AN)(A;;CCDC;;;BA)(A;;DC;;;AU)(A;ID;GA;;;SY)"
        );
        d.deny(Sid::BUILTIN_GUESTS, AccessMask::DS_DELETE_CHILD)
            .unwrap();
        assert!(d.to_string().starts_with("D:(D;;CCDC;;;BG)"));
    }

    #[test]
    fn revoke_and_revoke_rights() {
        let mut d = sd("D:(D;;CC;;;BA)(A;;CCDC;;;BA)(A;;DC;;;AU)(A;ID;GA;;;BA)");
        assert_eq!(
            d.revoke_rights(&Sid::BUILTIN_ADMINISTRATORS, AccessMask::DS_CREATE_CHILD)
                .unwrap(),
            1
        );
        assert_eq!(
            d.to_string(),
            "D:(D;;CC;;;BA)(A;;DC;;;BA)(A;;DC;;;AU)(A;ID;GA;;;BA)"
        );
        assert_eq!(d.revoke(&Sid::BUILTIN_ADMINISTRATORS).unwrap(), 2);
        assert_eq!(d.to_string(), "D:(A;;DC;;;AU)(A;ID;GA;;;BA)");
        assert_eq!(
            d.revoke_rights(&Sid::AUTHENTICATED_USERS, AccessMask::DS_DELETE_CHILD)
                .unwrap(),
            1
        );
        assert_eq!(d.to_string(), "D:(A;ID;GA;;;BA)");
    }

    #[test]
    fn refuses_non_canonical_and_missing_dacls() {
        let mut d = sd("D:(A;;CC;;;BA)(D;;CC;;;BG)");
        assert!(matches!(
            d.grant(Sid::EVERYONE, AccessMask::DS_DELETE_CHILD),
            Err(Error::NonCanonicalDacl { index: 1, .. })
        ));
        let mut d = sd("D:(A;ID;CC;;;BA)(A;;CC;;;BG)");
        assert!(matches!(
            d.deny(Sid::EVERYONE, AccessMask::DS_DELETE_CHILD),
            Err(Error::NonCanonicalDacl { index: 1, .. })
        ));
        let mut d = sd("O:SY");
        assert!(matches!(
            d.grant(Sid::EVERYONE, AccessMask::DS_READ_PROPERTY),
            Err(Error::NoDacl(_))
        ));
        let mut d = sd("D:NO_ACCESS_CONTROL");
        assert!(matches!(
            d.grant(Sid::EVERYONE, AccessMask::DS_READ_PROPERTY),
            Err(Error::NoDacl(_))
        ));
        let mut d = sd("D:");
        assert_eq!(
            d.grant(Sid::EVERYONE, AccessMask::EMPTY),
            Err(Error::EmptyMask)
        );
    }
}
