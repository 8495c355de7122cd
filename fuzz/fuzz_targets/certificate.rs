//! Certificates as rms-chain reads them (from a chain a root returns, or a license carries),
//! then used as their own trust anchor and leaf: path validation must refuse, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rms_chain::{Cert, TrustAnchor, TrustAnchors, VerifyOptions, verify_path};

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = Cert::from_der(data) else {
        return;
    };
    let _ = (cert.subject(), cert.issuer(), cert.validity(), cert.rights());
    let mut anchors = TrustAnchors::new();
    anchors.add(TrustAnchor::new(cert.clone()));
    let at = cert.validity().not_before();
    let _ = verify_path(&cert, &[], &anchors, at, &VerifyOptions::new());
});
