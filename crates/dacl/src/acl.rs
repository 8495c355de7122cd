//! Access control lists: an ordered list of ACEs with a revision (MS-DTYP 2.4.5).

use crate::ace::{Ace, AceType};
use crate::error::Error;

/// The revision of an ACL's binary form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclRevision {
    /// ACL_REVISION (2): no object ACEs.
    V2,
    /// ACL_REVISION3 (3).
    V3,
    /// ACL_REVISION_DS (4): needed for object ACEs.
    V4,
}

impl AclRevision {
    /// The revision byte.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            AclRevision::V2 => 2,
            AclRevision::V3 => 3,
            AclRevision::V4 => 4,
        }
    }

    /// The revision for a byte, if supported.
    #[must_use]
    pub const fn from_byte(b: u8) -> Option<AclRevision> {
        match b {
            2 => Some(AclRevision::V2),
            3 => Some(AclRevision::V3),
            4 => Some(AclRevision::V4),
            _ => None,
        }
    }
}

/// Whether Windows' SDDL converter sizes this ACE as an object ACE although it writes a plain
/// one: an `A` or `D` ACE with an empty mask.
fn sized_as_object(ace: &Ace) -> bool {
    matches!(
        ace.ace_type(),
        AceType::AccessAllowed | AceType::AccessDenied
    ) && ace.mask().is_empty()
}

/// The unused bytes Windows leaves at the end of an ACL for this ACE (see [`Acl::slack`]).
pub(crate) fn slack_of(ace: &Ace) -> usize {
    if sized_as_object(ace) { 4 } else { 0 }
}

/// An ordered list of ACEs. Order is significant: the access check walks it from the start, and
/// nothing in this crate re-sorts it (editing keeps canonical order, see [`Acl::grant`]).
///
/// The binary revision follows from the ACEs, as Windows chooses it when it converts SDDL
/// ([`Acl::revision`]); a higher one can be asked for with [`Acl::with_revision`], which SDDL
/// cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    /// The lowest revision to write (V2 unless a caller asked for more).
    min_revision: AclRevision,
    aces: Vec<Ace>,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    /// An empty ACL (revision 2).
    #[must_use]
    pub fn new() -> Acl {
        Acl {
            min_revision: AclRevision::V2,
            aces: Vec::new(),
        }
    }

    /// An ACL of these ACEs, with the revision Windows chooses for them ([`Acl::revision`]).
    #[must_use]
    pub fn from_aces(aces: Vec<Ace>) -> Acl {
        Acl {
            min_revision: AclRevision::V2,
            aces,
        }
    }

    /// An ACL written with at least `revision` (raised if the ACEs need more). SDDL cannot
    /// express a revision, so such an ACL does not read back identical from its SDDL form
    /// unless `revision` is the one Windows would choose anyway; the decoder does not use this.
    #[must_use]
    pub fn with_revision(revision: AclRevision, aces: Vec<Ace>) -> Acl {
        Acl {
            min_revision: revision,
            aces,
        }
    }

    /// The binary revision: 4 (ACL_REVISION_DS) if an ACE is an object ACE or an allow or deny
    /// ACE with no rights, else 2, or more if asked for with [`Acl::with_revision`].
    ///
    /// The rule for ACEs with no rights is Windows': its SDDL converter sizes an `A` or `D`
    /// ACE with an empty mask as if it were an object ACE, so it writes revision 4 and leaves
    /// 4 unused bytes per such ACE at the end of the ACL ([`Acl::slack`]). Found in the bytes
    /// Windows wrote (`docs/conformance.md`); callback ACEs with no rights are not affected.
    #[must_use]
    pub fn revision(&self) -> AclRevision {
        if self
            .aces
            .iter()
            .any(|a| a.ace_type().is_object() || sized_as_object(a))
        {
            AclRevision::V4.max(self.min_revision)
        } else {
            self.min_revision
        }
    }

    /// The unused bytes Windows leaves at the end of this ACL's binary form: 4 for each allow or
    /// deny ACE with no rights (see [`Acl::revision`]). The encoder writes them as zeros.
    #[must_use]
    pub fn slack(&self) -> usize {
        self.aces.iter().map(slack_of).sum()
    }

    /// The ACEs, in order.
    #[must_use]
    pub fn aces(&self) -> &[Ace] {
        &self.aces
    }

    /// How many ACEs there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.aces.len()
    }

    /// Whether there is no ACE.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.aces.is_empty()
    }

    /// Appends an ACE at the end (no reordering; use [`Acl::grant`] and friends to keep
    /// canonical order).
    pub fn push(&mut self, ace: Ace) {
        self.aces.push(ace);
    }

    pub(crate) fn aces_mut(&mut self) -> &mut Vec<Ace> {
        &mut self.aces
    }

    /// Checks that every ACE may appear in a DACL (`for_dacl`) or a SACL.
    ///
    /// # Errors
    /// [`Error::AceNotAllowed`] naming the first misplaced ACE type.
    pub fn check_placement(&self, for_dacl: bool) -> Result<(), Error> {
        match self
            .aces
            .iter()
            .map(Ace::ace_type)
            .find(|t: &AceType| t.is_dacl_type() != for_dacl)
        {
            Some(ace_type) => Err(Error::AceNotAllowed {
                ace_type,
                acl: if for_dacl { "DACL" } else { "SACL" },
            }),
            None => Ok(()),
        }
    }
}
