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
                    failures.push(format!(
                        "{input}\n  printed  {printed}\n  expected {expected}"
                    ));
                }
                // Round trip: parsing the canonical form gives the same descriptor, and so
                // does decoding its binary form.
                let again = SecurityDescriptor::from_sddl(&printed, &ctx).unwrap();
                assert_eq!(again, sd, "parse(print(d)) != d for {input}");
                assert_eq!(sd.read_back(&ctx).unwrap(), sd, "{input}");
            }
            Err(e) => failures.push(format!("{input}\n  refused: {e}")),
        }
    }
    println!(
        "{file}: {}/{} print as Windows prints",
        cases.len() - failures.len(),
        cases.len()
    );
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
    println!(
        "should_fail.txt: {}/{} refused",
        cases.len() - accepted.len(),
        cases.len()
    );
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
    println!(
        "windows_is_weird.txt: {}/{} deliberately refused",
        cases.len(),
        cases.len()
    );
}

fn json_cases(name: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let dir = common::sddl_vectors_dir()?;
    let raw = std::fs::read(dir.join(name)).expect("read JSON vector file");
    let text = if name.ends_with(".gz") {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
            .expect("gunzip");
        out
    } else {
        String::from_utf8(raw).expect("UTF-8")
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("a JSON object");
    Some(
        map.into_iter()
            .map(|(sddl, bytes)| {
                let bytes = bytes
                    .as_array()
                    .expect("an array of bytes")
                    .iter()
                    .map(|b| u8::try_from(b.as_u64().expect("a byte")).expect("a byte"))
                    .collect();
                (sddl, bytes)
            })
            .collect(),
    )
}

/// Every SDDL string encodes to exactly Windows' bytes, and the bytes decode back to it.
#[test]
fn short_ordinary_acls_encode_byte_exact() {
    let Some(cases) = json_cases("short-ordinary-acls-v2.json.gz") else {
        return;
    };
    let ctx = common::ctx();
    let mut failures = Vec::new();
    for (sddl, windows) in &cases {
        let sd = SecurityDescriptor::from_sddl(sddl, &ctx).unwrap();
        let ours = sd.to_bytes().unwrap();
        if &ours != windows {
            failures.push(format!(
                "{sddl}\n  ours    {ours:02x?}\n  windows {windows:02x?}"
            ));
        }
        let decoded = SecurityDescriptor::from_bytes(windows).unwrap();
        assert_eq!(decoded, sd, "decode(windows bytes) differs for {sddl}");
        assert_eq!(&decoded.to_sddl(&ctx), sddl);
        assert_eq!(decoded.read_back(&ctx).unwrap(), decoded);
    }
    println!(
        "short-ordinary-acls-v2.json.gz: {}/{} byte-exact, {n}/{n} decode back",
        cases.len() - failures.len(),
        cases.len(),
        n = cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Windows' oversize ACLs: revision 4 and 4 unused bytes per allow or deny ACE with no rights
/// (`(D;;;;;MP)`, `(A;OICI;;;;AU)`), which Windows' SDDL converter sizes as object ACEs. We
/// match them byte for byte, and decode them to exactly what their SDDL parses to.
#[test]
fn oversize_acls_encode_byte_exact() {
    let Some(cases) = json_cases("oversize-acls.json") else {
        return;
    };
    let ctx = common::ctx();
    let mut failures = Vec::new();
    for (sddl, windows) in &cases {
        let parsed = SecurityDescriptor::from_sddl(sddl, &ctx).unwrap();
        let ours = parsed.to_bytes().unwrap();
        if &ours != windows {
            failures.push(format!(
                "{sddl}\n  ours    {ours:02x?}\n  windows {windows:02x?}"
            ));
        }
        let decoded = SecurityDescriptor::from_bytes(windows).unwrap();
        assert_eq!(decoded, parsed, "decode(windows bytes) differs for {sddl}");
        assert_eq!(&decoded.to_sddl(&ctx), sddl);
        assert_eq!(decoded.read_back(&ctx).unwrap(), decoded);
    }
    println!(
        "oversize-acls.json: {}/{} byte-exact, {n}/{n} decode back",
        cases.len() - failures.len(),
        cases.len(),
        n = cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
