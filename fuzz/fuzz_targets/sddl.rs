//! SDDL as an administrator gives it: whatever parses prints as SDDL that parses back to the
//! same descriptor, and reads back from its binary form too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rms_dacl::{DomainSid, SecurityDescriptor, SidContext};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = SidContext::domain(DomainSid::new(1, 2, 3));
    let Ok(descriptor) = SecurityDescriptor::from_sddl(text, &ctx) else {
        return;
    };
    let printed = descriptor.to_sddl(&ctx);
    let reparsed = match SecurityDescriptor::from_sddl(&printed, &ctx) {
        Ok(reparsed) => reparsed,
        Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
    };
    assert_eq!(reparsed, descriptor, "{text:?} printed as {printed:?}");
    if let Err(e) = descriptor.read_back(&ctx) {
        panic!("{text:?} does not read back: {e}");
    }
});
