//! Windows' own behaviour, from the Samba-collected vectors in `../shared/vectors/sddl/`.
//! Counts are printed with `--nocapture` and recorded in docs/conformance.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use rms_dacl::SecurityDescriptor;

fn check_prints(file: &str) {
    let Some(cases) = common::text_cases(file) else {
        return;
    };
    let ctx = common::ctx();
    let mut failures = Vec::new();
    for (input, expected) in &cases {
        match SecurityDescriptor::from_sddl(input, &ctx) {
            Ok(sd) => {
                let printed = sd.to_sddl(&ctx);
                if &printed != expected {
                    failures.push(format!("{input}\n  printed  {printed}\n  expected {expected}"));
                }
                // Round trip: parsing the canonical form gives the same descriptor.
                let again = SecurityDescriptor::from_sddl(&printed, &ctx).unwrap();
                assert_eq!(again, sd, "parse(print(d)) != d for {input}");
            }
            Err(e) => failures.push(format!("{input}\n  refused: {e}")),
        }
    }
    println!("{file}: {}/{} print as Windows prints", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn canonical_cases_print_unchanged() {
    check_prints("canonical.txt");
}

#[test]
fn non_canonical_cases_print_as_windows() {
    check_prints("non_canonical.txt");
}

#[test]
fn should_fail_cases_are_refused() {
    let Some(cases) = common::text_cases("should_fail.txt") else {
        return;
    };
    let ctx = common::ctx();
    let accepted: Vec<_> = cases
        .iter()
        .filter(|(input, _)| SecurityDescriptor::from_sddl(input, &ctx).is_ok())
        .map(|(input, _)| input.clone())
        .collect();
    println!("should_fail.txt: {}/{} refused", cases.len() - accepted.len(), cases.len());
    assert!(accepted.is_empty(), "accepted: {accepted:#?}");
}

#[test]
fn windows_is_fussy_cases_are_refused() {
    let Some(cases) = common::text_cases("windows_is_fussy.txt") else {
        return;
    };
    for (input, _) in &cases {
        let err = SecurityDescriptor::from_sddl(input, &common::ctx()).unwrap_err();
        println!("windows_is_fussy.txt: refused {input}: {err}");
    }
}

/// Windows accepts these by clamping or wrapping numbers; we deliberately refuse them
/// (docs/conformance.md explains why), each with a position.
#[test]
fn windows_is_weird_cases_are_deliberately_refused() {
    let Some(cases) = common::text_cases("windows_is_weird.txt") else {
        return;
    };
    for (input, _) in &cases {
        let err = SecurityDescriptor::from_sddl(input, &common::ctx())
            .expect_err("we refuse Windows' numeric quirks");
        assert!(err.position() <= input.len());
    }
    println!("windows_is_weird.txt: {}/{} deliberately refused", cases.len(), cases.len());
}
