//! A licensing cluster's signed template list, as a client reads it: the body alone, then the
//! whole signed list verified by a client's authority that did not sign it: refused, never a
//! panic.
#![no_main]

mod shared;

use libfuzzer_sys::fuzz_target;
use rms_cert::{LicenseBody, LicenseKind};

fuzz_target!(|data: &[u8]| {
    if let Ok(LicenseBody::TemplateList(list)) =
        LicenseBody::from_der(LicenseKind::TemplateList, data)
    {
        let _ = (
            list.templates().len(),
            list.next_update(),
            list.template("seed"),
        );
    }
    let _ = shared::authority().verify_template_list(data, time::OffsetDateTime::now_utc());
});
