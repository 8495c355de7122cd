//! The object identifiers of protected files: the sub-arc `3` of the project's arc
//! ([`rms_cert::oid::ARC`], `1.3.6.1.4.1.32473`), next to `1` (certificate extensions) and
//! `2` (licenses) that `rms-cert` uses, and `0.2` for the ASN.1 module (`0.1` is the licenses'
//! module).
//!
//! | OID | name | what it identifies |
//! | --- | --- | --- |
//! | `ARC.3.1` | [`LICENSE_ACQUISITION`] | CMS `OtherRecipientInfo` type: how to get the content key, a licensing server's URL and the publishing license |
//! | `ARC.3.2` | [`PROTECTED_CONTENT`] | the first field of the encrypted header: what follows is a protected file's header and content |

use const_oid::ObjectIdentifier;

/// `oriType` of the recipient info that carries the licensing server's URL and the publishing
/// license (RFC 5652 §6.2.5, OtherRecipientInfo).
pub const LICENSE_ACQUISITION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3.1");
/// Type of the header at the start of the encrypted content.
pub const PROTECTED_CONTENT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3.2");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_under_the_projects_arc_and_not_taken() {
        let taken = [
            rms_cert::oid::RIGHTS_GRANTED,
            rms_cert::oid::SERVER_ROLE,
            rms_cert::oid::SERVER_ID,
            rms_cert::oid::PUBLISHING_LICENSE,
            rms_cert::oid::USE_LICENSE,
        ];
        for oid in [LICENSE_ACQUISITION, PROTECTED_CONTENT] {
            assert!(
                oid.to_string()
                    .starts_with(&format!("{}.3.", rms_cert::oid::ARC)),
                "{oid}"
            );
            assert!(!taken.contains(&oid), "{oid}");
        }
        assert_ne!(LICENSE_ACQUISITION, PROTECTED_CONTENT);
    }
}
