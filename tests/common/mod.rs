//! What the tests of the examples share.

use std::path::{Path, PathBuf};

/// The example `name`, as `cargo test` builds it next to the tests: a test is
/// `target/<profile>/deps/NAME-HASH`, the example `target/<profile>/examples/NAME`.
///
/// `cargo test` (for the package or the workspace) builds the examples before it runs any
/// test; `cargo test --test NAME` alone does not, so a missing or stale example is refused with
/// what to run, rather than tested. (Building it from here would run a nested cargo that waits
/// forever on the build lock the outer one holds.)
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "the example is not at {}: run `cargo test -p rms` (which builds examples) or `cargo build --example {name}` first",
                path.display()
            )
        });
    let edited = source_modified(name);
    assert!(
        built >= edited,
        "{} is older than its source: run `cargo test -p rms` or `cargo build --example {name}` first",
        path.display()
    );
    path
}

/// When the example's source was last edited: `examples/NAME.rs`, or the newest file of
/// `examples/NAME/`.
fn source_modified(name: &str) -> std::time::SystemTime {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let modified = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .expect("the example's source")
    };
    let single = examples.join(format!("{name}.rs"));
    if single.exists() {
        return modified(&single);
    }
    std::fs::read_dir(examples.join(name))
        .expect("the example's source directory")
        .map(|entry| modified(&entry.expect("a source file").path()))
        .max()
        .expect("the example's source files")
}
