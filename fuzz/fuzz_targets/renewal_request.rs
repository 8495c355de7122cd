//! Renewal requests as a root receives them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rms_cert::RenewalRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = RenewalRequest::from_der(data) {
        let _ = request.current_serial().to_string();
        let _ = request.to_pem();
    }
});
