//! Reading a descriptor back from its own forms, so that a caller stores only what it (and every
//! other node) can read again.

use crate::acl::Acl;
use crate::descriptor::{AclState, SecurityDescriptor};
use crate::error::Error;
use crate::sddl::SidContext;

impl SecurityDescriptor {
    /// Reads this descriptor back from its own SDDL form (printed and parsed with `ctx`) and
    /// from its own binary form, and returns the copy read from SDDL if both are identical to
    /// it.
    ///
    /// Everything this crate parses or decodes passes; a descriptor built by hand may not (an
    /// explicit ACL revision, or `P`/`AR`/`AI` flags of an absent ACL, have no SDDL form). A
    /// store should refuse to keep a descriptor that fails this check.
    ///
    /// ```
    /// use rms_dacl::{SecurityDescriptor, SidContext};
    /// let ctx = SidContext::none();
    /// let sd = SecurityDescriptor::from_sddl("O:SYG:SYD:P(A;;CC;;;BA)", &ctx)?;
    /// assert_eq!(sd.read_back(&ctx)?, sd);
    /// # Ok::<(), rms_dacl::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnreadableForm`] if a form does not parse or decode (its error is the source),
    /// [`Error::FormDiffers`] naming the first difference if it reads back differently, and
    /// [`Error::Binary`] if the binary form cannot be produced (an ACL over 64 KiB).
    pub fn read_back(&self, ctx: &SidContext) -> Result<SecurityDescriptor, Error> {
        let sddl = self.to_sddl(ctx);
        let from_sddl =
            SecurityDescriptor::from_sddl(&sddl, ctx).map_err(|e| Error::UnreadableForm {
                form: "SDDL",
                cause: Box::new(Error::Sddl(e)),
            })?;
        if let Some(difference) = first_difference(self, &from_sddl) {
            return Err(Error::FormDiffers {
                form: "SDDL",
                difference,
            });
        }
        let bytes = self.to_bytes()?;
        let from_bytes =
            SecurityDescriptor::from_bytes(&bytes).map_err(|e| Error::UnreadableForm {
                form: "binary",
                cause: Box::new(Error::Binary(e)),
            })?;
        if let Some(difference) = first_difference(self, &from_bytes) {
            return Err(Error::FormDiffers {
                form: "binary",
                difference,
            });
        }
        Ok(from_sddl)
    }
}

/// The first way in which `read` differs from `original`, in words, or `None` if they are equal.
fn first_difference(original: &SecurityDescriptor, read: &SecurityDescriptor) -> Option<String> {
    if original == read {
        return None;
    }
    if original.owner() != read.owner() {
        return Some("the owner differs".to_owned());
    }
    if original.group() != read.group() {
        return Some("the group differs".to_owned());
    }
    for (name, a, b) in [
        ("DACL", original.dacl(), read.dacl()),
        ("SACL", original.sacl(), read.sacl()),
    ] {
        if let Some(difference) = acl_difference(a, b) {
            return Some(format!("the {name}{difference}"));
        }
    }
    if original.control() != read.control() {
        return Some(format!(
            "the control flags differ (0x{:04x}, read back as 0x{:04x})",
            original.control().bits(),
            read.control().bits()
        ));
    }
    Some("the descriptors differ".to_owned())
}

fn acl_difference(a: &AclState, b: &AclState) -> Option<String> {
    match (a, b) {
        (AclState::Present(a), AclState::Present(b)) => present_acl_difference(a, b),
        (a, b) if a == b => None,
        (a, b) => Some(format!(
            " is {}, read back as {}",
            state_name(a),
            state_name(b)
        )),
    }
}

fn present_acl_difference(a: &Acl, b: &Acl) -> Option<String> {
    if let Some(index) = a.aces().iter().zip(b.aces()).position(|(x, y)| x != y) {
        return Some(format!("'s ACE #{index} differs"));
    }
    if a.len() != b.len() {
        return Some(format!(" has {} ACEs, read back with {}", a.len(), b.len()));
    }
    if a.revision() != b.revision() {
        return Some(format!(
            " revision {} reads back as {}",
            a.revision().byte(),
            b.revision().byte()
        ));
    }
    (a != b).then(|| " differs".to_owned())
}

fn state_name(state: &AclState) -> &'static str {
    match state {
        AclState::NotPresent => "absent",
        AclState::Null => "NULL",
        AclState::Present(_) => "present",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::acl::AclRevision;
    use crate::descriptor::Control;
    use crate::{AccessMask, Ace, Sid};

    #[test]
    fn parsed_descriptors_read_back() {
        let ctx = SidContext::none();
        for text in [
            "",
            "O:SYG:SYD:P",
            "D:NO_ACCESS_CONTROL",
            "D:PAI(A;OICI;FA;;;BA)(D;;;;;MP)S:AI(AU;SA;CR;;;WD)",
            r#"D:(XA;;FX;;;WD;((@USER.a == 1) || (Member_of {SID(BA), 3})))"#,
        ] {
            let sd = SecurityDescriptor::from_sddl(text, &ctx).unwrap();
            assert_eq!(sd.read_back(&ctx).unwrap(), sd, "{text}");
        }
    }

    #[test]
    fn what_sddl_cannot_express_is_named() {
        let ctx = SidContext::none();
        let aces = vec![Ace::allow(Sid::EVERYONE, AccessMask::GENERIC_ALL)];
        let sd = SecurityDescriptor::new()
            .with_dacl(AclState::Present(Acl::with_revision(AclRevision::V4, aces)))
            .unwrap();
        let err = sd.read_back(&ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the descriptor's own SDDL form reads back differently: the DACL revision 4 reads back as 2"
        );

        // `D:P` without a DACL has no SDDL form.
        let sd = SecurityDescriptor::new().with_control(Control::DACL_PROTECTED);
        let err = sd.read_back(&ctx).unwrap_err();
        assert!(
            matches!(&err, Error::FormDiffers { form: "SDDL", difference } if difference.starts_with("the control flags differ")),
            "{err}"
        );
    }
}
