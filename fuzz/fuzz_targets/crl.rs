//! Certificate revocation lists, as rms-cert and rms-chain read them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = rms_cert::RevocationList::from_der(data) {
        let _ = (list.entries().len(), list.issuer(), list.this_update());
    }
    let _ = rms_chain::Crl::from_der(data);
});
