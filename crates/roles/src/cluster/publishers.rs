//! The publishers a licensing cluster honours: the server licensor certificates whose
//! publishing licenses it issues use licenses for, each with the key their content keys are
//! wrapped to.
//!
//! A publishing license that verifies under the enrollment authority is not enough: every
//! licensing cluster of the authority signs licenses that verify. A cluster honours only what
//! its own SLCs signed (the current one and those it held before a renewal or rekey, so that
//! what they published stays readable), with the content key addressed to that SLC's key.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rms_cert::{Chain, key_identifier};
use rms_keys::PrivateKey;
use rms_store::SlcRecord;

use super::SigningIdentity;
use crate::RoleError;
use crate::secret::ClusterSecret;

/// One SLC whose publishing licenses the cluster honours.
#[derive(Debug)]
pub(crate) struct Publisher {
    /// The SLC's serial (hex), for messages and the audit log.
    pub(crate) serial: String,
    /// Key identifier of the SLC's key: what a wrapped content key must name as recipient.
    pub(crate) key_id: Vec<u8>,
    /// The SLC's private key, encrypted at rest; decrypted on first use.
    encrypted_key: Vec<u8>,
    key: OnceLock<Arc<dyn PrivateKey>>,
}

impl Publisher {
    /// The key content keys addressed to this publisher are unwrapped with.
    pub(crate) fn key(&self, secret: &ClusterSecret) -> Result<Arc<dyn PrivateKey>, RoleError> {
        if let Some(key) = self.key.get() {
            return Ok(key.clone());
        }
        let key = super::open_stored_key(&self.encrypted_key, secret)?;
        Ok(self.key.get_or_init(|| key).clone())
    }
}

/// The cluster's publishers, by the DER of their certificate.
#[derive(Debug, Default)]
pub(crate) struct Publishers {
    by_certificate: HashMap<Vec<u8>, Arc<Publisher>>,
}

impl Publishers {
    /// Every SLC the cluster has held, the current one's key already in hand.
    pub(crate) fn load(slcs: &[SlcRecord], current: &SigningIdentity) -> Result<Self, RoleError> {
        let mut by_certificate = HashMap::with_capacity(slcs.len());
        for slc in slcs {
            let chain = Chain::from_pem(&slc.chain_pem).map_err(|e| {
                RoleError::Internal(format!(
                    "stored chain of SLC {}: {}",
                    slc.serial,
                    crate::describe_error(&e)
                ))
            })?;
            let leaf = chain.leaf();
            let der = rms_cert::certificate_to_der(leaf).map_err(RoleError::Cert)?;
            let key_id = key_identifier(leaf.tbs_certificate().subject_public_key_info())
                .map_err(RoleError::Cert)?;
            let key = OnceLock::new();
            if slc.serial == current.serial {
                let _ = key.set(current.key.clone());
            }
            by_certificate.insert(
                der,
                Arc::new(Publisher {
                    serial: slc.serial.clone(),
                    key_id,
                    encrypted_key: slc.encrypted_key.clone(),
                    key,
                }),
            );
        }
        Ok(Self { by_certificate })
    }

    /// The publisher whose certificate is `certificate_der`, if the cluster honours it.
    pub(crate) fn get(&self, certificate_der: &[u8]) -> Option<Arc<Publisher>> {
        self.by_certificate.get(certificate_der).cloned()
    }
}
