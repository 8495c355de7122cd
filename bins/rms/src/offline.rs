//! `rms-client`'s offline commands: verifying a license or a certificate chain against the
//! enrollment authority, and saying what a PEM artifact is. Neither needs a server.

use std::path::{Path, PathBuf};

use rms_roles::cert::{Grant, LicenseBody, RsaSigner, SignedLicense};
use rms_roles::chain::Cert;
use rms_roles::client::Authority;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{CliResult, fail, outln, read_text, time_text};

/// Verifies `file` (a license, or a certificate chain) against the enrollment authority in
/// `anchor` at `at` (RFC 3339; now by default), applying the certificate revocation lists
/// `crls`; with `key`, also unwraps the license's content key with that private key.
pub fn verify(
    anchor: &Path,
    file: &Path,
    at: Option<&str>,
    key: Option<&Path>,
    crls: &[PathBuf],
) -> CliResult {
    let at = match at {
        Some(text) => {
            OffsetDateTime::parse(text, &Rfc3339).map_err(fail("--at is not an RFC 3339 time"))?
        }
        None => OffsetDateTime::now_utc(),
    };
    let text = read_text(file)?;
    let authority = Authority::from_pem(&read_text(anchor)?).map_err(crate::report)?;
    let lists = crls
        .iter()
        .map(|file| {
            let bytes =
                std::fs::read(file).map_err(fail(&format!("cannot read {}", file.display())))?;
            let list = rms_roles::client::read_revocation_list(&bytes)
                .map_err(|e| format!("{}: {}", file.display(), crate::report(e)))?;
            if at > list.next_update() {
                eprintln!(
                    "warning: {} was due to be replaced at {}: fetch a newer one",
                    file.display(),
                    time_text(list.next_update())
                );
            }
            Ok(list)
        })
        .collect::<CliResult<Vec<_>>>()?;
    if text.contains("BEGIN CERTIFICATE") {
        let verified = authority
            .verify_chain(&text, at, &lists)
            .map_err(crate::report)?;
        outln!(
            "valid at {}: {} (path of {} certificates to the anchor)",
            time_text(at),
            verified.leaf.subject(),
            verified.path.intermediates().len() + 2
        );
        return Ok(());
    }
    let license =
        SignedLicense::from_pem(&text).map_err(fail("not a license or certificate chain"))?;
    let verified = authority
        .verify_license(&license, at, &lists)
        .map_err(crate::report)?;
    outln!("valid at {} (chain model)", time_text(at));
    if !lists.is_empty() {
        outln!(
            "not revoked by the {} revocation list(s) given",
            lists.len()
        );
    }
    outln!("signed by: {}", verified.signer);
    describe_license(&license)?;
    if let Some(key_path) = key {
        let signer = RsaSigner::from_pkcs8_pem(&read_text(key_path)?).map_err(crate::report)?;
        let content_key = rms_roles::client::unwrap_license_key(&license, signer.private_key())
            .map_err(crate::report)?;
        let digest: String = Sha256::digest(&content_key)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        outln!(
            "content key unwraps with {}: {} bytes, SHA-256 {digest}...",
            key_path.display(),
            content_key.len()
        );
    }
    Ok(())
}

/// A publishing license's grant as the commands print it, indented under its license.
pub fn grant_line(grant: &Grant) -> String {
    let until = grant
        .expires()
        .map(time_text)
        .unwrap_or_else(|| "the license's end".into());
    format!(
        "  grants {} to {:?} until {until}",
        grant.rights(),
        grant.principal()
    )
}

/// Prints what `license` grants, to whom, and for how long.
fn describe_license(license: &SignedLicense) -> CliResult {
    let validity = license.validity();
    match license.body() {
        LicenseBody::Publishing(pl) => {
            outln!(
                "publishing license {} for content {:?}",
                pl.serial(),
                pl.content_id()
            );
            outln!(
                "issued by {} on {}, valid until {}",
                pl.issuer(),
                time_text(validity.not_before()),
                time_text(validity.not_after())
            );
            for grant in pl.grants() {
                outln!("{}", grant_line(grant));
            }
        }
        LicenseBody::Use(ul) => {
            outln!(
                "use license {} for content {:?}",
                ul.serial(),
                ul.content_id()
            );
            outln!(
                "issued by {} on {}",
                ul.issuer(),
                time_text(validity.not_before())
            );
            outln!(
                "grants {} to {:?} until {}",
                ul.rights(),
                ul.principal(),
                time_text(validity.not_after())
            );
            outln!("from publishing license {}", ul.publishing_license_serial());
        }
        _ => outln!("a license of a kind this version does not know"),
    }
    Ok(())
}

/// Says what the PEM artifact `text` is: a license, an enrollment request, certificates or a
/// key, with what can be read of it without a server.
pub fn inspect(text: &str) -> CliResult {
    if text.contains("BEGIN CMS") || text.contains("BEGIN PKCS7") {
        let license = SignedLicense::from_pem(text).map_err(crate::report)?;
        describe_license(&license)?;
        outln!("{} certificates embedded", license.certificates().len());
    } else if text.contains("BEGIN CERTIFICATE REQUEST") {
        let request = rms_roles::cert::EnrollmentRequest::from_pem(text).map_err(crate::report)?;
        match request.check() {
            Ok(checked) => {
                let id = checked.identity();
                outln!(
                    "enrollment request from {:?}: role {}, id {}, url {}",
                    id.common_name(),
                    id.role(),
                    id.id(),
                    id.url()
                );
                outln!("well formed: signature, key and fields check");
            }
            Err(e) => outln!("enrollment request that would be refused: {e}"),
        }
    } else if text.contains("BEGIN CERTIFICATE") {
        for cert in Cert::from_pem_chain(text).map_err(crate::report)? {
            let v = cert.validity();
            outln!("certificate {}", cert.subject());
            outln!("  issuer:  {}", cert.issuer());
            outln!("  serial:  {}", rms_roles::serial_hex(cert.certificate()));
            outln!(
                "  valid:   {} .. {}",
                time_text(v.not_before()),
                time_text(v.not_after())
            );
            outln!(
                "  rights:  {}",
                cert.rights()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "(none: not an SLC)".into())
            );
            let fp: String = cert
                .fingerprint()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            outln!("  sha256:  {fp}");
        }
    } else if text.contains("BEGIN PRIVATE KEY") {
        let key = RsaSigner::from_pkcs8_pem(text).map_err(crate::report)?;
        outln!("RSA private key, {} bits (PKCS#8)", key.bits());
    } else if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        outln!("encrypted private key (PKCS#8): needs its passphrase to read");
    } else if text.contains("BEGIN PUBLIC KEY") {
        outln!("public key (SubjectPublicKeyInfo)");
    } else {
        return Err("not one of our PEM artifacts (certificate, request, license, key)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rms_roles::cert::{Grant, UsageRights};
    use time::macros::datetime;

    use super::grant_line;

    #[test]
    fn a_grant_line_names_the_rights_the_principal_and_the_end()
    -> Result<(), Box<dyn std::error::Error>> {
        let rights = UsageRights::from_names(&["view", "print"])?;
        let open_ended = Grant::new("alice", rights)?;
        assert_eq!(
            grant_line(&open_ended),
            format!("  grants {rights} to \"alice\" until the license's end")
        );
        let ending = open_ended.with_expiry(datetime!(2027-03-01 12:00 UTC));
        assert_eq!(
            grant_line(&ending),
            format!("  grants {rights} to \"alice\" until 2027-03-01T12:00:00Z")
        );
        Ok(())
    }
}
