//! What a client learns of revocations: the licensing cluster's signed list of revoked
//! content and use licenses, fetched whenever the server is reachable, kept in the user's
//! license store, and applied to every use license before a document opens, including one
//! kept from earlier (which is how a revocation reaches a client that holds a license
//! already).
//!
//! Offline, the list kept last applies, however old: it can only have missed revocations,
//! never invented one. A list that does not verify is an error, never a reason to open.

use rms_cert::{ContentRevocationList, LicenseBody, LicenseKind, SignedLicense, UseLicense};
use rms_chain::VerifyOptions;
use time::OffsetDateTime;

use super::documents::publishing_issuer;
use super::{Authority, DocumentInfo, LicenseStore, LicensingChannel};
use crate::RoleError;

impl Authority {
    /// Verifies a revocation list (the DER `GET /licensing/revocations` serves) offline:
    /// signed by a licensing SLC that chains to the authority (chain model, at the list's
    /// signing time), and, unless `allow_stale`, not past its next update at `now`.
    pub fn verify_revocation_list(
        &self,
        der: &[u8],
        now: OffsetDateTime,
        allow_stale: bool,
    ) -> Result<ContentRevocationList, RoleError> {
        let malformed = |detail: String| RoleError::bad_input("malformed_revocation_list", detail);
        let signed = SignedLicense::from_der(der).map_err(|e| {
            malformed(format!(
                "not a signed revocation list: {}",
                crate::describe_error(&e)
            ))
        })?;
        let LicenseBody::ContentRevocations(list) = signed.body() else {
            return Err(malformed(format!(
                "a signed document of another kind ({:?})",
                signed.kind()
            )));
        };
        debug_assert_eq!(signed.kind(), LicenseKind::ContentRevocations);
        let skew = VerifyOptions::new().clock_skew();
        if !allow_stale && list.next_update() + skew < now {
            return Err(RoleError::refused(
                "stale_revocation_list",
                format!(
                    "the revocation list was due to be replaced at {}: fetch it again",
                    crate::rfc3339(list.next_update())
                ),
            ));
        }
        self.verify_license(&signed, list.this_update(), &[])?;
        Ok(list.clone())
    }
}

/// The revocation list that applies to the document `info` describes: fetched through
/// `channel` and kept in `store` when the server answers, otherwise the one `store` kept;
/// `None` when there is neither (or the list is another cluster's).
pub(super) async fn current_list(
    channel: &impl LicensingChannel,
    authority: &Authority,
    info: &DocumentInfo,
    store: Option<&LicenseStore>,
    now: OffsetDateTime,
) -> Result<Option<ContentRevocationList>, RoleError> {
    let issuer = publishing_issuer(info)?;
    let issuer_der = der::Encode::to_der(issuer).map_err(|e| {
        RoleError::bad_input(
            "malformed_license",
            format!("the publishing license's issuer does not encode: {e}"),
        )
    })?;
    if let Ok(der) = channel.revocation_list().await {
        let list = authority.verify_revocation_list(&der, now, false)?;
        if list.issuer() != issuer {
            return Ok(None);
        }
        if let Some(store) = store {
            store.put_revocation_list(&issuer_der, &der)?;
        }
        return Ok(Some(list));
    }
    let Some(store) = store else { return Ok(None) };
    let Some(der) = store.revocation_list(&issuer_der)? else {
        return Ok(None);
    };
    match authority.verify_revocation_list(&der, now, true) {
        Ok(list) if list.issuer() == issuer => Ok(Some(list)),
        // A kept file that does not verify was not written by us: it tells nothing.
        _ => Ok(None),
    }
}

/// Refuses the document `content_id` when `list` revokes it.
pub(super) fn check_content(
    list: &ContentRevocationList,
    content_id: &str,
) -> Result<(), RoleError> {
    match list.content_revocation(content_id) {
        None => Ok(()),
        Some(revoked) => Err(RoleError::refused(
            "content_revoked",
            format!(
                "access to this document was revoked on {}{}",
                crate::rfc3339(revoked.revoked_at()),
                crate::reason_suffix(revoked.reason())
            ),
        )),
    }
}

/// Refuses the use license `body` when `list` revokes it.
pub(super) fn check_use_license(
    list: &ContentRevocationList,
    body: &UseLicense,
) -> Result<(), RoleError> {
    match list.use_license_revocation(body.serial()) {
        None => Ok(()),
        Some(revoked) => Err(RoleError::refused(
            "use_license_revoked",
            format!(
                "access to this document was revoked on {}: the use license {} issued to {} was revoked{}",
                crate::rfc3339(revoked.revoked_at()),
                body.serial(),
                body.principal(),
                crate::reason_suffix(revoked.reason())
            ),
        )),
    }
}
