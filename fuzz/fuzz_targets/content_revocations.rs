//! A licensing cluster's signed list of revoked content and use licenses, as a client reads
//! it: the body alone, then the whole signed list verified (fresh, and as a kept list that may
//! be stale) by a client's authority that did not sign it: refused, never a panic.
#![no_main]

mod shared;

use libfuzzer_sys::fuzz_target;
use rms_cert::{LicenseBody, LicenseKind};

fuzz_target!(|data: &[u8]| {
    if let Ok(LicenseBody::ContentRevocations(list)) =
        LicenseBody::from_der(LicenseKind::ContentRevocations, data)
    {
        let _ = (
            list.content().len(),
            list.use_licenses().len(),
            list.next_update(),
            list.content_revocation("urn:seed:doc"),
        );
    }
    let now = time::OffsetDateTime::now_utc();
    let _ = shared::authority().verify_revocation_list(data, now, false);
    let _ = shared::authority().verify_revocation_list(data, now, true);
});
