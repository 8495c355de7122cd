//! What several fuzz targets share.

use std::sync::OnceLock;

use rms_roles::client::Authority;

/// An authority of its own, made once: nothing the fuzzer writes can verify under it.
pub(crate) fn authority() -> &'static Authority {
    static AUTHORITY: OnceLock<Authority> = OnceLock::new();
    AUTHORITY.get_or_init(|| {
        let now = time::OffsetDateTime::now_utc();
        let issuer = rms_cert::Issuer::create_authority(
            "CN=Fuzz Authority".parse().expect("a valid name"),
            std::sync::Arc::new(rms_cert::RsaSigner::generate(2048).expect("a key")),
            rms_policy::ValidityPolicy::default(),
            now,
        )
        .expect("an authority");
        let pem = rms_cert::certificate_to_pem(issuer.certificate()).expect("PEM");
        Authority::from_pem(&pem).expect("an authority")
    })
}
