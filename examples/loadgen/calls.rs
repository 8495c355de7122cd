//! The load generator's in-process calls (`--in-process`): a role asked directly, on the
//! runtime its server would run on, as one client's request.

use std::sync::Arc;

use rms::cert::spki::SubjectPublicKeyInfoOwned;
use rms::roles::{LicensingRole, RequestContext, RootRole};
use rms::transport::RunningServer;

use crate::measure::{Call, Target};

/// A node of a phase: served over HTTP, or called in process (`--in-process`).
pub(crate) enum Node {
    Served(RunningServer),
    Called(Call),
}

/// What the clients of a phase ask: the nodes' servers over HTTP (`token`, `path` and `body`
/// are the request), or the nodes' calls on their runtimes.
pub(crate) fn target<'a>(
    nodes: &[(tokio::runtime::Runtime, Node)],
    token: &'a str,
    path: &'a str,
    body: &'a [u8],
) -> Target<'a> {
    let (mut urls, mut called) = (Vec::new(), Vec::new());
    for (runtime, node) in nodes {
        match node {
            Node::Served(server) => urls.push(server.url()),
            Node::Called(call) => called.push((runtime.handle().clone(), call.clone())),
        }
    }
    if called.is_empty() {
        Target::Http {
            urls,
            token,
            path,
            body,
        }
    } else {
        Target::InProcess { nodes: called }
    }
}

/// Stops the nodes' servers, each on its runtime.
pub(crate) fn shut_down(nodes: Vec<(tokio::runtime::Runtime, Node)>) {
    for (runtime, node) in nodes {
        if let Node::Served(server) = node {
            runtime.block_on(server.shutdown());
        }
    }
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
