//! Renewing the SLC a node signs with: the request its issuer checks, and installing the
//! renewed SLC once its chain verifies.
//!
//! A server renews by sending a [`RenewalRequest`]: a new enrollment request for its own
//! identity, wrapped and signed with the key of the SLC being renewed. The issuer checks that
//! signature against its record of that SLC, that the SLC is not revoked, and that it is inside
//! its renewal window (or expired within the grace period), then issues a new one-year SLC.

use std::sync::Arc;

use rms_cert::{Chain, EnrollmentRequest, RenewalRequest, ServerIdentity};
use rms_keys::{KeyLocation, KeyReference, PrivateKey};
use rms_policy::Validity;

use crate::{Cluster, RoleError};

/// A renewal in progress on the server that renews: the request to send, and the key the new
/// SLC will certify (the current one, or a new one for a rekey).
#[derive(Debug)]
pub struct RenewalPlan {
    key: Arc<dyn PrivateKey>,
    request: RenewalRequest,
    identity: ServerIdentity,
    rekey: bool,
}

impl RenewalPlan {
    /// A renewal of `cluster`'s current SLC; with `rekey`, for a new RSA key of `key_bits`.
    pub fn new(cluster: &Cluster, rekey: bool, key_bits: usize) -> Result<Self, RoleError> {
        let signing = cluster.signing();
        let current = signing.issuer.certificate();
        let identity = ServerIdentity::from_certificate(current).map_err(RoleError::Cert)?;
        let key = if rekey {
            rekey_location(signing.key.as_ref(), cluster.now())?
                .generate(key_bits)
                .map_err(RoleError::Key)?
        } else {
            signing.key.clone()
        };
        let inner = EnrollmentRequest::new(&identity, key.as_ref()).map_err(RoleError::Cert)?;
        let request = RenewalRequest::new(current, signing.key.as_ref(), &inner, cluster.now())
            .map_err(RoleError::Cert)?;
        Ok(Self {
            key,
            request,
            identity,
            rekey,
        })
    }

    /// The request to send to the issuer.
    #[must_use]
    pub fn request(&self) -> &RenewalRequest {
        &self.request
    }

    /// The request as PEM.
    pub fn request_pem(&self) -> Result<String, RoleError> {
        self.request.to_pem().map_err(RoleError::Cert)
    }

    /// Whether the renewal certifies a new key.
    #[must_use]
    pub fn is_rekey(&self) -> bool {
        self.rekey
    }

    /// Finishes the renewal with the chain the issuer returned: it must verify under the
    /// cluster's trust anchor, certify this plan's key, and keep the server's identity. The new
    /// SLC is then installed; the cluster signs with it from the next request on.
    pub async fn complete(self, cluster: &Cluster, chain_pem: &str) -> Result<Validity, RoleError> {
        let chain = Chain::from_pem(chain_pem).map_err(|e| {
            RoleError::bad_input(
                "malformed_chain",
                format!(
                    "the issuer's answer is not a PEM chain: {}",
                    crate::describe_error(&e)
                ),
            )
        })?;
        let certs = chain
            .certificates()
            .iter()
            .map(rms_chain::Cert::from_certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(untrusted)?;
        let (leaf, pool) = certs
            .split_first()
            .ok_or_else(|| RoleError::bad_input("malformed_chain", "empty chain"))?;
        cluster
            .verifier()
            .verify_path(leaf, pool, cluster.now())
            .map_err(untrusted)?;
        if *chain.leaf().tbs_certificate().subject_public_key_info() != self.key.public_key() {
            return Err(RoleError::refused(
                "wrong_key",
                "the renewed SLC does not certify the key this renewal asked for",
            ));
        }
        let renewed = ServerIdentity::from_certificate(chain.leaf()).map_err(RoleError::Cert)?;
        if renewed != self.identity {
            return Err(RoleError::refused(
                "identity_changed",
                "the renewed SLC names another server than the one renewed",
            ));
        }
        cluster.install_slc(&chain, self.key).await
    }
}

/// Where a rekey makes the new key: beside the current one, in the same token under a new
/// label when the current key is in a token, in memory otherwise.
fn rekey_location(
    current: &dyn PrivateKey,
    now: time::OffsetDateTime,
) -> Result<KeyLocation, RoleError> {
    if current.backend() != rms_keys::Backend::Pkcs11 {
        return Ok(KeyLocation::default());
    }
    // A token key's reference needs no passphrase.
    match current.to_reference(&[]).map_err(RoleError::Key)? {
        KeyReference::Pkcs11 { uri } => {
            let label = format!(
                "{}-{}",
                uri.object().unwrap_or("rms-slc"),
                now.unix_timestamp()
            );
            Ok(KeyLocation::Pkcs11(uri.for_new_object(&label)))
        }
        _ => Ok(KeyLocation::default()),
    }
}

fn untrusted(error: rms_chain::ChainError) -> RoleError {
    RoleError::refused(
        "untrusted_chain",
        format!("the renewed chain does not verify under the cluster's trust anchor: {error}"),
    )
}
