//! Clients of our servers as the commands make them: the CA to trust, the token, and the TLS
//! client certificate the environment names.

use std::path::{Path, PathBuf};

use rms_transport::TlsIdentity;

use crate::{CliResult, fail, report};

/// The environment variables naming a TLS client certificate (PEM chain) and its key, which
/// every command presents to `https://` servers that ask for one.
pub const TLS_CLIENT_CERT_ENV: &str = "RMS_TLS_CLIENT_CERT";
/// See [`TLS_CLIENT_CERT_ENV`].
pub const TLS_CLIENT_KEY_ENV: &str = "RMS_TLS_CLIENT_KEY";

/// A client of `url`, trusting `tls_ca` for HTTPS, sending `token`, and presenting the client
/// certificate named by `RMS_TLS_CLIENT_CERT` and `RMS_TLS_CLIENT_KEY` when both are set.
pub fn client(
    url: &str,
    tls_ca: Option<&Path>,
    token: Option<String>,
) -> CliResult<rms_transport::api::ApiClient> {
    let read =
        |path: &Path| std::fs::read(path).map_err(fail(&format!("cannot read {}", path.display())));
    let tls_roots_pem = match tls_ca {
        Some(path) => Some(read(path)?),
        None => None,
    };
    let env_path = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let tls_client_identity = match (env_path(TLS_CLIENT_CERT_ENV), env_path(TLS_CLIENT_KEY_ENV)) {
        (Some(cert), Some(key)) => Some(TlsIdentity::from_pem(read(&cert)?, read(&key)?)),
        (None, None) => None,
        _ => {
            return Err(format!(
                "set both {TLS_CLIENT_CERT_ENV} and {TLS_CLIENT_KEY_ENV} (the client certificate and its key), or neither"
            ));
        }
    };
    let client = rms_transport::Client::new(
        url,
        rms_transport::ClientOptions {
            tls_roots_pem,
            token,
            tls_client_identity,
            ..rms_transport::ClientOptions::default()
        },
    )
    .map_err(report)?;
    Ok(rms_transport::api::ApiClient::new(client))
}
