//! The cluster's principals and groups by name, as of one configuration generation: what
//! publishing checks a policy's grants against, and what grants to groups resolve through.

use std::collections::HashMap;

use rms_store::{Principal, PrincipalKind};

use super::Caller;

/// Every principal and group of the cluster, by name and by SID.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    kinds: HashMap<String, PrincipalKind>,
    names_by_sid: HashMap<String, String>,
}

impl Directory {
    /// The directory of `principals` (as the database lists them).
    pub(crate) fn new(principals: Vec<Principal>) -> Self {
        let mut directory = Self::default();
        for principal in principals {
            directory
                .names_by_sid
                .insert(principal.sid, principal.name.clone());
            directory.kinds.insert(principal.name, principal.kind);
        }
        directory
    }

    /// Whether `name` is a principal or a group of the cluster.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.kinds.contains_key(name)
    }

    /// The names of the groups `caller` is a member of (its access token's group SIDs that
    /// name groups of the cluster; Everyone and Authenticated Users are not among them).
    pub(crate) fn group_names(&self, caller: &Caller) -> Vec<&str> {
        caller
            .token
            .groups()
            .filter_map(|(sid, _)| self.names_by_sid.get(&sid.to_string()))
            .filter(|name| self.kinds.get(name.as_str()) == Some(&PrincipalKind::Group))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rms_dacl::{Sid, Token};
    use time::OffsetDateTime;

    use super::*;

    fn principal(sid: &str, name: &str, kind: PrincipalKind) -> Principal {
        Principal {
            sid: sid.into(),
            name: name.into(),
            kind,
            created_at: OffsetDateTime::UNIX_EPOCH,
            disabled: false,
        }
    }

    #[test]
    fn groups_resolve_by_sid_and_unknown_names_are_absent() {
        let directory = Directory::new(vec![
            principal("S-1-5-21-1-2-3-2001", "alice", PrincipalKind::User),
            principal("S-1-5-21-1-2-3-2002", "editors", PrincipalKind::Group),
        ]);
        assert!(directory.contains("alice") && directory.contains("editors"));
        assert!(!directory.contains("nobody"));
        let alice: Sid = "S-1-5-21-1-2-3-2001".parse().unwrap();
        let editors: Sid = "S-1-5-21-1-2-3-2002".parse().unwrap();
        let caller = Caller::for_tests(
            "alice",
            Token::new(alice)
                .with_group(Sid::EVERYONE)
                .with_group(editors),
        );
        assert_eq!(directory.group_names(&caller), vec!["editors"]);
    }
}
