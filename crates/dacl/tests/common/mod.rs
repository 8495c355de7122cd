//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub(crate) mod strategies;
pub(crate) mod tokens;

use std::path::PathBuf;

use rms_dacl::{DomainSid, SidContext};

/// The domain Windows resolved the JSON vectors' aliases against.
pub(crate) const VECTOR_DOMAIN: DomainSid = DomainSid::new(2457507606, 2709100691, 398136650);

pub(crate) fn ctx() -> SidContext {
    SidContext::domain(VECTOR_DOMAIN)
}

/// `../shared/vectors/sddl/` next to the workspace root, or `$RMS_VECTORS_DIR`
/// (which points at the `vectors` folder). `None`, with the reason printed, when absent.
pub(crate) fn sddl_vectors_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("RMS_VECTORS_DIR") {
        Some(v) => PathBuf::from(v).join("sddl"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/sddl"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: SDDL vectors not found at {} (set RMS_VECTORS_DIR to the vectors folder)",
            dir.display()
        );
        None
    }
}

/// The `INPUT -> OUTPUT` cases of a text vector file (output = input when there is no arrow).
pub(crate) fn text_cases(name: &str) -> Option<Vec<(String, String)>> {
    let dir = sddl_vectors_dir()?;
    let text = std::fs::read_to_string(dir.join(name)).expect("read vector file");
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(" -> ") {
                Some((a, b)) => (a.to_owned(), b.to_owned()),
                None => (l.to_owned(), l.to_owned()),
            })
            .collect(),
    )
}
