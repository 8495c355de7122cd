//! Typed calls to our endpoints.

use super::bodies::{
    ChainBody, Health, LicenseResponse, PublishBody, RenewBody, SubEnrollBody, UseLicenseBody,
};
use super::{CHAIN, CRL, HEALTH, PUBLISH, RENEW, REVOCATIONS, SUBENROLL, TEMPLATES, USE_LICENSE};
use crate::{Client, Method, TransportError};

/// Typed calls to our endpoints.
#[derive(Debug, Clone)]
pub struct ApiClient {
    client: Client,
}

impl ApiClient {
    /// Calls through `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Sub-enrolls with a root: sends the request, returns the chain PEM.
    pub async fn sub_enroll(&self, request_pem: &str) -> Result<String, TransportError> {
        let body = SubEnrollBody {
            request_pem: request_pem.to_owned(),
        };
        let answer: ChainBody = self.client.post_json(SUBENROLL, &body).await?;
        Ok(answer.chain_pem)
    }

    /// Sends a renewal request (PEM); returns the renewed chain PEM.
    pub async fn renew(&self, request_pem: &str) -> Result<String, TransportError> {
        let body = RenewBody {
            request_pem: request_pem.to_owned(),
        };
        let answer: ChainBody = self.client.post_json(RENEW, &body).await?;
        Ok(answer.chain_pem)
    }

    /// The root's current revocation list.
    pub async fn crl(&self) -> Result<rms_roles::cert::RevocationList, TransportError> {
        let der = self.client.send(Method::GET, CRL, None).await?;
        rms_roles::cert::RevocationList::from_der(&der)
            .map_err(|e| TransportError::BadResponse(format!("revocation list: {e}")))
    }

    /// The server's chain PEM.
    pub async fn chain(&self) -> Result<String, TransportError> {
        let answer: ChainBody = self.client.get_json(CHAIN).await?;
        Ok(answer.chain_pem)
    }

    /// Asks for a publishing license.
    pub async fn publish(&self, body: &PublishBody) -> Result<LicenseResponse, TransportError> {
        self.client.post_json(PUBLISH, body).await
    }

    /// The cluster's rights policy templates: the signed list (DER), to verify with
    /// `rms_roles::client::Authority::verify_template_list`.
    pub async fn template_list(&self) -> Result<Vec<u8>, TransportError> {
        Ok(self
            .client
            .send(Method::GET, TEMPLATES, None)
            .await?
            .to_vec())
    }

    /// What the cluster revoked: the signed list (DER), to verify with
    /// `rms_roles::client::Authority::verify_revocation_list`.
    pub async fn revocation_list(&self) -> Result<Vec<u8>, TransportError> {
        Ok(self
            .client
            .send(Method::GET, REVOCATIONS, None)
            .await?
            .to_vec())
    }

    /// Asks for a use license.
    pub async fn use_license(
        &self,
        body: &UseLicenseBody,
    ) -> Result<LicenseResponse, TransportError> {
        self.client.post_json(USE_LICENSE, body).await
    }

    /// The server's health; an unhealthy server's 503 is an [`TransportError::Api`] whose
    /// message holds the health body.
    pub async fn health(&self) -> Result<Health, TransportError> {
        let body = self.client.send(Method::GET, HEALTH, None).await?;
        serde_json::from_slice(&body).map_err(|e| TransportError::BadResponse(e.to_string()))
    }
}

/// Renewal requests reach the root over HTTP.
impl rms_roles::RenewalChannel for ApiClient {
    async fn renew(
        &self,
        request_pem: &str,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ApiClient::renew(self, request_pem).await?)
    }
}

/// A licensing server over HTTP, for the client side of `rms-roles`.
impl rms_roles::client::LicensingChannel for ApiClient {
    async fn chain(&self) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ApiClient::chain(self).await?)
    }

    async fn publish(
        &self,
        request: &rms_roles::PublishRequest,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let body = PublishBody::from_request(request).map_err(TransportError::Api)?;
        Ok(ApiClient::publish(self, &body).await?.license_pem)
    }

    async fn template_list(&self) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ApiClient::template_list(self).await?)
    }

    async fn revocation_list(&self) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ApiClient::revocation_list(self).await?)
    }

    async fn use_license(
        &self,
        publishing_license_pem: &str,
        public_key: &rms_roles::cert::spki::SubjectPublicKeyInfoOwned,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        use der::EncodePem;
        let body = UseLicenseBody {
            publishing_license_pem: publishing_license_pem.to_owned(),
            public_key_pem: public_key
                .to_pem(der::pem::LineEnding::LF)
                .map_err(|e| TransportError::BadResponse(format!("public key: {e}")))?,
        };
        Ok(ApiClient::use_license(self, &body).await?.license_pem)
    }
}
