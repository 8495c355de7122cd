//! A licensing cluster's controls over its content as of one configuration generation: who
//! the super users are (when they are enabled), which content is revoked, and whose use
//! licenses of which content were revoked. What a use-license request is checked against
//! before any grant.

use std::collections::{HashMap, HashSet};

use rms_store::{ContentRevocationRecord, Store, StoreError};

use super::Caller;

/// The super users and revocations of a cluster.
#[derive(Debug, Default)]
pub(crate) struct ContentControls {
    /// The SIDs of the super users (users or groups); empty when super users are disabled.
    super_user_sids: HashSet<String>,
    revoked_content: HashMap<String, ContentRevocationRecord>,
    /// (content id, principal) of every revoked use license.
    revoked_licenses: HashSet<(String, String)>,
}

impl ContentControls {
    /// Reads the controls from `store`.
    pub(crate) async fn load(store: &Store) -> Result<Self, StoreError> {
        let super_users = store.super_users().await?;
        let super_user_sids = if super_users.enabled {
            super_users.members.into_iter().map(|p| p.sid).collect()
        } else {
            HashSet::new()
        };
        let revoked_content = store
            .content_revocations()
            .await?
            .into_iter()
            .map(|r| (r.content_id.clone(), r))
            .collect();
        let revoked_licenses = store
            .use_license_revocations()
            .await?
            .into_iter()
            .map(|r| (r.content_id, r.principal))
            .collect();
        Ok(Self {
            super_user_sids,
            revoked_content,
            revoked_licenses,
        })
    }

    /// Whether `caller` is a super user now: super users are enabled and the caller, or one
    /// of its groups, is a member.
    pub(crate) fn is_super_user(&self, caller: &Caller) -> bool {
        !self.super_user_sids.is_empty()
            && (self.super_user_sids.contains(&caller.sid.to_string())
                || caller
                    .token
                    .groups()
                    .any(|(sid, _)| self.super_user_sids.contains(&sid.to_string())))
    }

    /// The revocation of `content_id`, if it is revoked.
    pub(crate) fn content_revocation(&self, content_id: &str) -> Option<&ContentRevocationRecord> {
        self.revoked_content.get(content_id)
    }

    /// Whether a use license of `content_id` issued to `principal` was revoked.
    pub(crate) fn license_revoked(&self, content_id: &str, principal: &str) -> bool {
        self.revoked_licenses
            .contains(&(content_id.to_owned(), principal.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rms_dacl::{Sid, Token};

    use super::*;

    #[test]
    fn super_users_match_by_own_or_group_sid() {
        let editors: Sid = "S-1-5-21-1-2-3-2002".parse().unwrap();
        let alice: Sid = "S-1-5-21-1-2-3-2001".parse().unwrap();
        let bob: Sid = "S-1-5-21-1-2-3-2003".parse().unwrap();
        let controls = ContentControls {
            super_user_sids: [editors.to_string()].into_iter().collect(),
            ..ContentControls::default()
        };
        let member = Caller::for_tests("alice", Token::new(alice).with_group(editors));
        let other = Caller::for_tests("bob", Token::new(bob).with_group(Sid::EVERYONE));
        assert!(controls.is_super_user(&member));
        assert!(!controls.is_super_user(&other));
        assert!(!ContentControls::default().is_super_user(&member));
    }
}
