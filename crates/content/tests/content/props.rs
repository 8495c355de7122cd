//! Decoding arbitrary bytes, or a protected file with random damage, never panics.

use std::io::Cursor;
use std::sync::LazyLock;

use proptest::prelude::*;
use rms_content::{ContentKey, info, open_in_memory};

use crate::common::*;

static SAMPLE: LazyLock<(ContentKey, Vec<u8>)> = LazyLock::new(|| {
    let (key, _, file) = protected(100);
    (key, file)
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let key = &SAMPLE.0;
        prop_assert!(open_in_memory(&bytes, key, 1 << 20).is_err());
        prop_assert!(info(Cursor::new(&bytes)).is_err());
    }

    #[test]
    fn a_damaged_file_never_panics_and_never_opens(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let (key, file) = &*SAMPLE;
        let mut damaged = file.clone();
        for (index, byte, kind) in edits {
            let at = index.index(damaged.len());
            match kind {
                0 => damaged[at] ^= byte | 1,
                1 => { damaged.remove(at); }
                _ => damaged.insert(at, byte),
            }
        }
        if do_cut {
            damaged.truncate(cut.index(damaged.len()));
        }
        prop_assume!(damaged != *file);
        prop_assert!(open_in_memory(&damaged, key, 1 << 20).is_err());
        let _ = info(Cursor::new(&damaged));
    }

    #[test]
    fn a_valid_prefix_followed_by_noise_never_panics(
        keep in 0usize..400,
        noise in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let (key, file) = &*SAMPLE;
        let mut bytes = file[..keep.min(file.len())].to_vec();
        bytes.extend_from_slice(&noise);
        prop_assume!(bytes != *file);
        prop_assert!(open_in_memory(&bytes, key, 1 << 20).is_err());
        let _ = info(Cursor::new(&bytes));
    }
}
