//! Signed licenses (CMS SignedData), as a licensing server and a client read them, then
//! verified against an anchor that did not sign them: refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rms_cert::SignedLicense;
use rms_chain::{TrustAnchors, Verifier, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let decoded = SignedLicense::from_der(data).ok().or_else(|| {
        std::str::from_utf8(data)
            .ok()
            .and_then(|text| SignedLicense::from_pem(text).ok())
    });
    let Some(license) = decoded else {
        return;
    };
    let _ = (license.body(), license.validity(), license.certificates().len());
    let verifier = Verifier::new(TrustAnchors::new(), VerifyOptions::new());
    let _ = verifier.verify_license(&license, &[], license.validity().not_before());
});
