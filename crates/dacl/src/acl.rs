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
    pub const fn byte(self) -> u8 {
        match self {
            AclRevision::V2 => 2,
            AclRevision::V3 => 3,
            AclRevision::V4 => 4,
        }
    }

    /// The revision for a byte, if supported.
    pub const fn from_byte(b: u8) -> Option<AclRevision> {
        match b {
            2 => Some(AclRevision::V2),
            3 => Some(AclRevision::V3),
            4 => Some(AclRevision::V4),
            _ => None,
        }
    }
}

/// An ordered list of ACEs. Order is significant: the access check walks it from the start, and
/// nothing in this crate re-sorts it (editing keeps canonical order, see [`Acl::grant`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    revision: AclRevision,
    aces: Vec<Ace>,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    /// An empty ACL (revision 2).
    pub fn new() -> Acl {
        Acl {
            revision: AclRevision::V2,
            aces: Vec::new(),
        }
    }

    /// An ACL of these ACEs, with the revision Windows would choose (4 if any ACE is an object
    /// ACE, else 2).
    pub fn from_aces(aces: Vec<Ace>) -> Acl {
        let revision = Acl::revision_for(&aces);
        Acl { revision, aces }
    }

    /// An ACL with an explicit revision, as decoded; raised to 4 if object ACEs need it.
    pub fn with_revision(revision: AclRevision, aces: Vec<Ace>) -> Acl {
        let revision = revision.max(Acl::revision_for(&aces));
        Acl { revision, aces }
    }

    fn revision_for(aces: &[Ace]) -> AclRevision {
        if aces.iter().any(|a| a.ace_type().is_object()) {
            AclRevision::V4
        } else {
            AclRevision::V2
        }
    }

    /// The revision.
    pub fn revision(&self) -> AclRevision {
        self.revision
    }

    /// The ACEs, in order.
    pub fn aces(&self) -> &[Ace] {
        &self.aces
    }

    /// How many ACEs there are.
    pub fn len(&self) -> usize {
        self.aces.len()
    }

    /// Whether there is no ACE.
    pub fn is_empty(&self) -> bool {
        self.aces.is_empty()
    }

    /// Appends an ACE at the end (no reordering; use [`Acl::grant`] and friends to keep
    /// canonical order).
    pub fn push(&mut self, ace: Ace) {
        if ace.ace_type().is_object() {
            self.revision = self.revision.max(AclRevision::V4);
        }
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
