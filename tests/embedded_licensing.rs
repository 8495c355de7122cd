//! Runs `examples/embedded_licensing`: the embedded role publishes, issues a use license that
//! verifies offline, refuses a user nobody granted, and the service refuses an unknown API key;
//! the databases are where `--dir` says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

mod common;

#[test]
fn the_embedded_role_issues_and_refuses_without_http() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(common::example("embedded_licensing"))
        .arg("--dir")
        .arg(dir.path())
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "embedded_licensing failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |start: &str| {
        stdout
            .lines()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{stdout}"))
            .to_owned()
    };
    assert!(line("alice published").contains("2 grants"));
    let bob = line("bob got a use license");
    assert!(bob.contains("rights view,"), "{bob}");
    assert!(bob.contains("valid until 20"), "{bob}");
    assert!(line("carol was refused").contains("not"), "{stdout}");
    line("an unknown API key was refused");
    for db in ["root.db", "licensing.db"] {
        assert!(dir.path().join(db).is_file(), "{db} is not in --dir");
    }
}
