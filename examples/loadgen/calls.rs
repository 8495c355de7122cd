//! The load generator's in-process calls (`--in-process`): a role asked directly, on the
//! runtime its server would run on, as one client's request.

use std::sync::Arc;

use rms::cert::spki::SubjectPublicKeyInfoOwned;
use rms::roles::{LicensingRole, RequestContext, RootRole};
use rms::transport::RunningServer;

use crate::measure::Call;

/// A node of a phase: served over HTTP, or called in process (`--in-process`).
pub(crate) enum Node {
    Served(RunningServer),
    Called(Call),
}

/// A use license for the reader, asked of the role itself.
pub(crate) fn use_license_call(
    role: Arc<LicensingRole>,
    token: &str,
    publishing_pem: &str,
    grantee_key: &SubjectPublicKeyInfoOwned,
) -> Call {
    let ctx = Arc::new(RequestContext::bearer(token));
    let (pem, key) = (Arc::<str>::from(publishing_pem), grantee_key.clone());
    Arc::new(move || {
        let (role, ctx, pem, key) = (role.clone(), ctx.clone(), pem.clone(), key.clone());
        Box::pin(async move {
            role.use_license_pem(&ctx, &pem, key)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    })
}

/// A sub-enrollment by the administrator, asked of the root role itself.
pub(crate) fn sub_enroll_call(root: RootRole, token: &str, request_pem: &str) -> Call {
    let ctx = Arc::new(RequestContext::bearer(token));
    let request = Arc::<str>::from(request_pem);
    Arc::new(move || {
        let (root, ctx, request) = (root.clone(), ctx.clone(), request.clone());
        Box::pin(async move {
            root.sub_enroll(&ctx, request.as_bytes())
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    })
}
