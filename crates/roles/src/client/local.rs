//! A licensing role in the same process as its client: an embedding service, an example, a
//! test. Each call goes through the role exactly as an HTTP request would (authentication,
//! DACL, audit), with the caller's bearer token.

use rms_cert::spki::SubjectPublicKeyInfoOwned;

use super::LicensingChannel;
use crate::{LicensingRole, PublishRequest, RequestContext};

type ChannelResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A [`LicensingChannel`] to a [`LicensingRole`] in this process, as the holder of a token.
/// A refusal comes back as the role's own [`RoleError`](crate::RoleError) (the source of the
/// client's `Upstream` error).
#[derive(Debug, Clone)]
pub struct LocalLicensing<'a> {
    role: &'a LicensingRole,
    token: String,
}

impl<'a> LocalLicensing<'a> {
    /// Calls `role` as the holder of `token`.
    #[must_use]
    pub fn new(role: &'a LicensingRole, token: &str) -> Self {
        Self {
            role,
            token: token.to_owned(),
        }
    }

    fn context(&self) -> RequestContext {
        RequestContext::bearer(&self.token)
    }
}

impl LicensingChannel for LocalLicensing<'_> {
    async fn chain(&self) -> ChannelResult<String> {
        Ok(self.role.cluster().chain().to_pem()?)
    }

    async fn publish(&self, request: &PublishRequest) -> ChannelResult<String> {
        let license = self.role.publish(&self.context(), request).await?;
        Ok(license.to_pem()?)
    }

    async fn template_list(&self) -> ChannelResult<Vec<u8>> {
        Ok(self.role.template_list(&self.context()).await?.to_der()?)
    }

    async fn revocation_list(&self) -> ChannelResult<Vec<u8>> {
        Ok(self.role.revocation_list(&self.context()).await?.to_der()?)
    }

    async fn use_license(
        &self,
        publishing_license_pem: &str,
        public_key: &SubjectPublicKeyInfoOwned,
    ) -> ChannelResult<String> {
        let license = self
            .role
            .use_license_pem(&self.context(), publishing_license_pem, public_key.clone())
            .await?;
        Ok(license.to_pem()?)
    }
}
