//! Enrollment requests (PKCS#10) as a root receives them: decoding and every check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rms_cert::EnrollmentRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = EnrollmentRequest::from_der(data) {
        let _ = request.check();
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(request) = EnrollmentRequest::from_pem(text)
    {
        let _ = request.check();
    }
});
