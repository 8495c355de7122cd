//! Self-relative binary security descriptors: whatever decodes reads back from its own SDDL
//! and binary forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rms_dacl::{DomainSid, SecurityDescriptor, SidContext};

fuzz_target!(|data: &[u8]| {
    let Ok(descriptor) = SecurityDescriptor::from_bytes(data) else {
        return;
    };
    let ctx = SidContext::domain(DomainSid::new(1, 2, 3));
    if let Err(e) = descriptor.read_back(&ctx) {
        panic!("a decoded descriptor does not read back: {e}");
    }
});
