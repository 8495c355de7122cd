//! What a caller's credentials carry beyond who they are: a token's expiry and when it was
//! last used, and the principal a TLS client certificate names.

use super::access::CALLER_CACHE;
use super::{Caller, Cluster};
use crate::RoleError;

/// How finely the last use of a token is recorded.
const TOKEN_USE_RESOLUTION: time::Duration = time::Duration::HOUR;

impl Cluster {
    /// The caller for a TLS client certificate (DER) that the transport verified against the
    /// client CA the operator configured: the principal (a user) named by the certificate's
    /// subject common name, with its groups. A certificate that names no principal of the
    /// cluster, names a group or a disabled user, or is not an X.509 certificate is refused
    /// (401).
    pub async fn authenticate_certificate(&self, der: &[u8]) -> Result<Caller, RoleError> {
        let name = certificate_principal(der)?;
        let generation = self.cached_generation().await?;
        self.principal_caller_at(&name, generation).await
    }

    /// Refuses a caller whose token has expired (a cached caller too: expiry is a matter of
    /// time, not of the configuration).
    pub(super) fn check_token_time(&self, caller: &Caller) -> Result<(), RoleError> {
        match caller.expires_at {
            Some(end) if end <= self.now() => Err(RoleError::Unauthenticated(format!(
                "token {} of {} expired at {}",
                caller.token_id.as_deref().unwrap_or("?"),
                caller.name,
                crate::rfc3339(end)
            ))),
            _ => Ok(()),
        }
    }

    /// Records when a token was last used, at most once an hour per token and node (for
    /// operators; a failure to record refuses nothing).
    pub(super) async fn note_token_use(&self, caller: &Caller) {
        let Some(id) = &caller.token_id else { return };
        let now = self.now();
        let due = {
            let mut uses = crate::lock(&self.token_uses);
            match uses.get(id) {
                Some(last) if now - *last < TOKEN_USE_RESOLUTION => false,
                _ => {
                    if uses.len() >= CALLER_CACHE {
                        uses.clear();
                    }
                    uses.insert(id.clone(), now);
                    true
                }
            }
        };
        if due && let Err(error) = self.store.record_token_use(id, now).await {
            tracing::warn!(error = %crate::describe_error(&error), token = %id, "cannot record when a token was used");
        }
    }
}

/// The principal a client certificate names: its subject's common name (the only one).
fn certificate_principal(der: &[u8]) -> Result<String, RoleError> {
    use der::Decode;
    let refuse = |why: String| RoleError::Unauthenticated(format!("client certificate: {why}"));
    let certificate = rms_cert::x509_cert::Certificate::from_der(der)
        .map_err(|e| refuse(format!("not an X.509 certificate ({e})")))?;
    let subject = certificate.tbs_certificate().subject();
    let mut names = subject
        .iter()
        .filter(|atv| atv.oid == const_oid::db::rfc4519::CN)
        .map(|atv| {
            der::asn1::Utf8StringRef::try_from(&atv.value)
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    der::asn1::PrintableStringRef::try_from(&atv.value)
                        .map(|s| s.as_str().to_owned())
                })
                .map_err(|_| refuse(format!("the common name of {subject} is not text")))
        });
    match (names.next(), names.next()) {
        (Some(name), None) => name,
        (None, _) => Err(refuse(format!(
            "{subject} has no common name (CN) to name a principal"
        ))),
        (Some(_), Some(_)) => Err(refuse(format!(
            "{subject} has several common names: which principal it names is unclear"
        ))),
    }
}
