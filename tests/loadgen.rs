//! Runs `examples/loadgen` briefly: it drives real servers over HTTP, checks that every answer
//! it counted is recorded, verifies a sample, and prints the ratio table. (The figures
//! themselves are measured in release builds and recorded in docs/performance.md.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

mod common;

fn run(args: &[&str]) -> String {
    let out = Command::new(common::example("loadgen"))
        .args(args)
        .output()
        .expect("the load generator starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "loadgen {args:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The cells of a table line.
fn cells(line: &str) -> Vec<String> {
    line.split('|')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The cell in column `column` (by its header) of `operation`'s row in the printed table.
fn cell(stdout: &str, operation: &str, column: &str) -> String {
    let header = stdout
        .lines()
        .find(|l| l.starts_with("| operation |"))
        .unwrap_or_else(|| panic!("no table in:\n{stdout}"));
    let index = cells(header)
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column:?} in {header}"));
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("| {operation} |")))
        .unwrap_or_else(|| panic!("no {operation} row in:\n{stdout}"));
    cells(line)[index].clone()
}

/// What every run of both phases must show: each answer it counted is in the database, a
/// sample verifies, and neither phase had an error.
fn assert_both_phases_recorded(out: &str) {
    assert!(
        out.contains("returned are recorded; a sample verifies"),
        "{out}"
    );
    assert!(out.contains("sub-enrollments: all"), "{out}");
    for operation in ["use licenses", "sub-enrollments"] {
        let rate: f64 = cell(out, operation, "per second").parse().unwrap();
        assert!(rate > 0.0, "{operation}: {out}");
        assert_eq!(
            cell(out, operation, "errors"),
            "0",
            "{operation} had errors: {out}"
        );
    }
}

#[test]
fn measures_use_licenses_and_sub_enrollments_on_sqlite() {
    let out = run(&["--seconds", "1", "--warmup", "0", "--clients", "4"]);
    assert!(out.contains("4 clients over HTTP"), "{out}");
    assert_both_phases_recorded(&out);
    for operation in ["use licenses", "sub-enrollments"] {
        let ratio: f64 = cell(&out, operation, "ratio").parse().unwrap();
        assert!(ratio > 0.0 && ratio < 2.0, "{operation}: {out}");
        // Each round's ratio, lowest-highest, brackets the phase's.
        let rounds = cell(&out, operation, "ratio per round");
        let (low, high) = rounds.split_once('-').unwrap();
        let (low, high): (f64, f64) = (low.parse().unwrap(), high.parse().unwrap());
        assert!(
            low <= ratio + 0.005 && ratio <= high + 0.005,
            "{operation}: {out}"
        );
    }
}

#[test]
fn several_nodes_need_postgres() {
    let out = Command::new(common::example("loadgen"))
        .args(["--nodes", "2", "--seconds", "1"])
        .env_remove("RMS_LOADGEN_DATABASE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give --database postgres://"), "{stderr}");
}

#[test]
fn three_nodes_on_postgres() {
    let Ok(url) = std::env::var("RMS_TEST_POSTGRES_URL") else {
        eprintln!("skipping: RMS_TEST_POSTGRES_URL is not set (CI sets it)");
        return;
    };
    let out = run(&[
        "--database",
        &url,
        "--nodes",
        "3",
        "--seconds",
        "1",
        "--warmup",
        "0",
        "--clients",
        "6",
        "--mode",
        "use-license",
    ]);
    assert!(out.contains("3 licensing node(s)"), "{out}");
    assert!(out.contains("on PostgreSQL"), "{out}");
    assert_eq!(cell(&out, "use licenses", "errors"), "0", "{out}");
}

#[test]
fn in_process_calls_the_roles_and_records_every_answer() {
    let out = run(&[
        "--in-process",
        "--seconds",
        "1",
        "--warmup",
        "0",
        "--clients",
        "4",
    ]);
    assert!(
        out.contains("4 clients calling the roles in process (no HTTP)"),
        "{out}"
    );
    // The same checks as over HTTP: every granted call is in the database.
    assert_both_phases_recorded(&out);
}
