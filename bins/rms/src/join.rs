//! `join`: a new node of an existing cluster, from the shared database and the cluster secret.

use rms_roles::Cluster;
use rms_roles::store::ClusterRole;
use time::format_description::well_known::Rfc3339;

use crate::{CliResult, ClusterArgs, init_logging};

/// `join`: a new node of the cluster in the shared database `args.database`.
pub(crate) async fn join(args: &ClusterArgs, role: ClusterRole) -> CliResult {
    init_logging(false);
    let Some(url) = args.database.clone() else {
        return Err(
            "join needs the cluster's shared database: give --database postgres://... (or set RMS_DATABASE_URL)"
                .into(),
        );
    };
    let dir = args.dir();
    for existing in [dir.node_file(), dir.file("rms.db")] {
        if existing.exists() {
            return Err(format!(
                "{} already belongs to a node ({} exists): give a new data directory",
                dir.path().display(),
                existing.display()
            ));
        }
    }
    let env_secret = std::env::var(rms_roles::CLUSTER_SECRET_ENV).is_ok();
    if !env_secret && args.secret_file.is_none() {
        return Err(format!(
            "join needs the cluster secret that protects the SLC key: set {} or give --secret-file (the file init or enroll wrote on the first node)",
            rms_roles::CLUSTER_SECRET_ENV
        ));
    }
    let secret = args.secret()?;
    let store = args.create_store().await?;
    let identity = store.cluster().await.map_err(|e| {
        format!(
            "{} holds no cluster to join: {e}",
            rms_roles::store::redact(&url)
        )
    })?;
    if identity.role != role {
        return Err(format!(
            "{} holds a {} cluster, not a {role} cluster: use rms-{} join",
            rms_roles::store::redact(&url),
            identity.role,
            if identity.role == ClusterRole::Root {
                "root"
            } else {
                "licensing"
            }
        ));
    }
    // Loading the cluster decrypts its SLC key: a wrong secret stops here, with its cause.
    let cluster = Cluster::open(store.clone(), &secret, rms_roles::NodeOptions::default())
        .await
        .map_err(crate::report)?;
    dir.create()?;
    dir.remember_database(&url)?;
    if !env_secret {
        secret
            .write_new_file(&dir.secret_file())
            .map_err(crate::report)?;
    }
    let validity = cluster.slc_validity();
    crate::outln!(
        "joined {} cluster {} (id {}) as a new node in {}",
        identity.role,
        identity.name,
        identity.cluster_id,
        dir.path().display()
    );
    crate::outln!("database: {}", rms_roles::store::redact(&url));
    crate::outln!(
        "SLC: serial {}, valid until {}",
        rms_roles::serial_hex(cluster.chain().leaf()),
        validity.not_after().format(&Rfc3339).unwrap_or_default()
    );
    if env_secret {
        crate::outln!(
            "cluster secret: from {} (set it for serve too)",
            rms_roles::CLUSTER_SECRET_ENV
        );
    } else {
        crate::outln!(
            "cluster secret: copied to {} (mode 0600)",
            dir.secret_file().display()
        );
    }
    store.close().await;
    Ok(())
}
