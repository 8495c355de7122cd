//! Every object identifier of ours, under one arc.
//!
//! The arc is provisional: `1.3.6.1.4.1.32473` is the private enterprise number RFC 5612 reserves
//! for documentation and examples. When the project registers its own enterprise number, change
//! [`ARC`] and the `rms_oid!` macro below, and nothing else. (The registration-free
//! `2.25.<uuid>` form cannot be used: `const-oid` caps every arc at 32 bits.)
//!
//! | OID | name | what it identifies |
//! | --- | --- | --- |
//! | `ARC.1.1` | [`RIGHTS_GRANTED`] | certificate extension: the rights granted to a server licensor certificate |
//! | `ARC.1.2` | [`SERVER_ROLE`] | request and certificate extension: the role a server asks for or holds |
//! | `ARC.1.3` | [`SERVER_ID`] | request and certificate extension: the server's identifier (a GUID) |
//! | `ARC.2.1` | [`PUBLISHING_LICENSE`] | CMS content type: a publishing license body |
//! | `ARC.2.2` | [`USE_LICENSE`] | CMS content type: a use license body |
//! | `ARC.2.3` | [`TEMPLATE_LIST`] | CMS content type: a licensing cluster's rights policy templates |
//! | `ARC.2.4` | [`CONTENT_REVOCATIONS`] | CMS content type: the content and use licenses a licensing cluster revoked |

use const_oid::ObjectIdentifier;

/// The arc under which every identifier of ours lives.
pub const ARC: &str = "1.3.6.1.4.1.32473";

/// Builds an identifier under [`ARC`]; the arc is repeated here because `concat!` needs a
/// literal.
macro_rules! rms_oid {
    ($suffix:literal) => {
        ObjectIdentifier::new_unwrap(concat!("1.3.6.1.4.1.32473.", $suffix))
    };
}

/// Certificate extension listing the rights granted to the certificate's holder.
pub const RIGHTS_GRANTED: ObjectIdentifier = rms_oid!("1.1");
/// Request and certificate extension naming the role of the server.
pub const SERVER_ROLE: ObjectIdentifier = rms_oid!("1.2");
/// Request and certificate extension carrying the server's identifier (a GUID).
pub const SERVER_ID: ObjectIdentifier = rms_oid!("1.3");
/// CMS `eContentType` of a publishing license body.
pub const PUBLISHING_LICENSE: ObjectIdentifier = rms_oid!("2.1");
/// CMS `eContentType` of a use license body.
pub const USE_LICENSE: ObjectIdentifier = rms_oid!("2.2");
/// CMS `eContentType` of a list of rights policy templates.
pub const TEMPLATE_LIST: ObjectIdentifier = rms_oid!("2.3");
/// CMS `eContentType` of a list of revoked content and use licenses.
pub const CONTENT_REVOCATIONS: ObjectIdentifier = rms_oid!("2.4");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_identifier_is_under_the_arc() {
        for oid in [
            RIGHTS_GRANTED,
            SERVER_ROLE,
            SERVER_ID,
            PUBLISHING_LICENSE,
            USE_LICENSE,
            TEMPLATE_LIST,
            CONTENT_REVOCATIONS,
        ] {
            assert!(oid.to_string().starts_with(&format!("{ARC}.")), "{oid}");
        }
    }
}
