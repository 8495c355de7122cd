//! Protected files: the clear part (`info`) and opening with a key, in memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rms_content::ContentKey;

fuzz_target!(|data: &[u8]| {
    let _ = rms_content::info(std::io::Cursor::new(data));
    if let Ok(key) = ContentKey::from_bytes(&[0x42; 32]) {
        let _ = rms_content::open_in_memory(data, &key, 1 << 20);
    }
});
