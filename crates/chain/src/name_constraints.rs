//! Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b), (c), §6.1.4 (g)): DNS names, RFC 822
//! names, directory names, IP addresses (v4 and v6, with masks) and URIs, permitted and
//! excluded, imposed by intermediates and by the trust anchor.
//!
//! Each certificate's names are checked against the constraints of every certificate above
//! it, and of the anchor: checking each constraint set on its own is the same as checking the
//! intersection that §6.1.4 (g) computes. A self-issued intermediate is not checked
//! (§6.1.3 (b)). The names checked are the subject distinguished name (when not empty), the
//! emailAddress attributes of the subject (as rfc822Name, §4.2.1.10) and every subject
//! alternative name.
//!
//! Matching: a DNS constraint `example.com` covers `example.com` and every name below it, one
//! with a leading dot only the names below it; an RFC 822 constraint is a mailbox (exact), a
//! host (every mailbox at it) or `.domain` (every mailbox below it); a URI constraint applies
//! to the URI's host like a DNS one; an IP constraint is an address and mask of the same
//! family; a directory name constraint covers the names whose first RDNs are its RDNs. Host
//! parts compare without regard to ASCII case.
//!
//! Forms we do not implement (otherName, x400Address, ediPartyName, registeredID) and
//! minimum or maximum values other than the defaults make a critical extension (and any
//! constraint given with a trust anchor) unacceptable; in a non-critical extension they are
//! skipped. Every comparison of a name with a subtree draws on
//! [`Budget::name_comparisons`](crate::Budget::name_comparisons).

use std::borrow::Cow;

use der::asn1::Ia5String;
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;

use crate::error::{CertRef, ChainError, Position};
use crate::meter::Meter;
use crate::name::NormalizedName;
use crate::{Cert, TrustAnchor};

/// emailAddress (PKCS #9), which RFC 5280 §4.2.1.10 checks as an rfc822Name.
const EMAIL_ADDRESS: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// One name of a certificate, in the form constraints compare.
enum Subject<'a> {
    Dns(&'a str),
    Email(Cow<'a, str>),
    Uri(&'a str),
    Ip(&'a [u8]),
    /// A directory name, with its text when it is not the subject's.
    Directory(Cow<'a, NormalizedName>, Option<String>),
}

impl Subject<'_> {
    fn describe(&self, cert: &Cert) -> String {
        match self {
            Subject::Dns(s) => format!("DNS:{s}"),
            Subject::Email(s) => format!("email:{s}"),
            Subject::Uri(s) => format!("URI:{s}"),
            Subject::Ip(bytes) => format!("IP:{}", ip_text(bytes)),
            Subject::Directory(_, Some(text)) => format!("DN:{text}"),
            Subject::Directory(_, None) => format!("DN:{}", cert.subject()),
        }
    }
}

/// A set of constraints with who imposed it.
struct Holder<'a> {
    constraints: &'a NameConstraints,
    /// Whether unsupported forms must refuse rather than be skipped.
    critical: bool,
    who: CertRef,
    /// Index in the path (the anchor is above every certificate).
    index: usize,
}

/// Checks the names of every certificate of `path` (leaf first) against the constraints of
/// the certificates above it and of `anchor`.
pub(crate) fn check(
    path: &[&Cert],
    anchor: &TrustAnchor,
    meter: &mut Meter,
) -> Result<(), ChainError> {
    let anchor_cert = anchor.cert();
    let mut holders: Vec<Holder<'_>> = Vec::new();
    if let Some(nc) = &anchor_cert.extensions().name_constraints {
        holders.push(Holder {
            constraints: nc,
            critical: anchor_cert.extensions().name_constraints_critical,
            who: anchor_cert.at(Position::Anchor),
            index: path.len(),
        });
    }
    if let Some(nc) = anchor.name_constraints() {
        holders.push(Holder {
            constraints: nc,
            critical: true,
            who: anchor_cert.at(Position::Anchor),
            index: path.len(),
        });
    }
    for (index, cert) in path.iter().enumerate().skip(1) {
        if let Some(nc) = &cert.extensions().name_constraints {
            holders.push(Holder {
                constraints: nc,
                critical: cert.extensions().name_constraints_critical,
                who: cert.at(Position::Path(index)),
                index,
            });
        }
    }
    if holders.is_empty() {
        return Ok(());
    }
    for holder in &holders {
        check_supported(holder)?;
    }
    for (index, cert) in path.iter().enumerate() {
        if index > 0 && cert.is_self_issued() {
            continue;
        }
        let above: Vec<&Holder<'_>> = holders.iter().filter(|h| h.index > index).collect();
        if above.is_empty() {
            continue;
        }
        let position = Position::Path(index);
        for name in names(cert, position)? {
            for holder in &above {
                check_name(&name, cert, position, holder, meter)?;
            }
        }
    }
    Ok(())
}

/// Refuses unsupported forms in a constraint that must not be ignored.
fn check_supported(holder: &Holder<'_>) -> Result<(), ChainError> {
    if !holder.critical {
        return Ok(());
    }
    let subtrees = holder
        .constraints
        .permitted_subtrees
        .iter()
        .chain(&holder.constraints.excluded_subtrees)
        .flatten();
    for subtree in subtrees {
        if let Some(reason) = unsupported(subtree) {
            return Err(ChainError::UnsupportedNameConstraint {
                cert: holder.who.clone(),
                reason: reason.to_owned(),
            });
        }
    }
    Ok(())
}

fn unsupported(subtree: &GeneralSubtree) -> Option<&'static str> {
    if subtree.minimum != 0 || subtree.maximum.is_some() {
        return Some("a subtree with minimum or maximum (RFC 5280 requires 0 and absent)");
    }
    match subtree.base {
        GeneralName::OtherName(_) => Some("otherName subtrees"),
        GeneralName::EdiPartyName(_) => Some("ediPartyName subtrees"),
        GeneralName::RegisteredId(_) => Some("registeredID subtrees"),
        _ => None,
    }
}

/// The names of `cert` that constraints apply to.
fn names(cert: &Cert, position: Position) -> Result<Vec<Subject<'_>>, ChainError> {
    let mut names = Vec::new();
    let subject = cert.normalized_subject();
    if !subject.is_empty() {
        names.push(Subject::Directory(Cow::Borrowed(subject), None));
    }
    for atv in cert.subject().iter_rdn().flat_map(|rdn| rdn.iter()) {
        if atv.oid == EMAIL_ADDRESS {
            let text = Ia5String::try_from(&atv.value)
                .map(|s| s.to_string())
                .or_else(|_| {
                    std::str::from_utf8(atv.value.value())
                        .map(str::to_owned)
                        .map_err(|_| ())
                })
                .map_err(|()| ChainError::UnsupportedNameConstraint {
                    cert: cert.at(position),
                    reason: "an emailAddress attribute of the subject cannot be read".to_owned(),
                })?;
            names.push(Subject::Email(Cow::Owned(text)));
        }
    }
    match &cert.extensions().subject_alt_names {
        None => {}
        Some(Err(reason)) => {
            return Err(ChainError::UnsupportedNameConstraint {
                cert: cert.at(position),
                reason: format!("its subject alternative names cannot be read: {reason}"),
            });
        }
        Some(Ok(sans)) => {
            for san in sans {
                match san {
                    GeneralName::DnsName(s) => names.push(Subject::Dns(s.as_str())),
                    GeneralName::Rfc822Name(s) => {
                        names.push(Subject::Email(Cow::Borrowed(s.as_str())));
                    }
                    GeneralName::UniformResourceIdentifier(s) => {
                        names.push(Subject::Uri(s.as_str()));
                    }
                    GeneralName::IpAddress(bytes) => names.push(Subject::Ip(bytes.as_bytes())),
                    GeneralName::DirectoryName(name) => {
                        names.push(Subject::Directory(
                            Cow::Owned(NormalizedName::new(name)),
                            Some(name.to_string()),
                        ));
                    }
                    // Constraints of these forms are refused or skipped, so nothing restricts
                    // such names.
                    GeneralName::OtherName(_)
                    | GeneralName::EdiPartyName(_)
                    | GeneralName::RegisteredId(_) => {}
                }
            }
        }
    }
    Ok(names)
}

/// Checks one name against one holder's permitted and excluded subtrees.
fn check_name(
    name: &Subject<'_>,
    cert: &Cert,
    position: Position,
    holder: &Holder<'_>,
    meter: &mut Meter,
) -> Result<(), ChainError> {
    let violation = |violation: &'static str| ChainError::NameConstraintViolation {
        cert: cert.at(position),
        name: name.describe(cert),
        violation,
        constrained_by: holder.who.clone(),
    };
    if let Some(permitted) = &holder.constraints.permitted_subtrees {
        let mut same_form = false;
        let mut inside = false;
        for subtree in permitted.iter().filter(|s| unsupported(s).is_none()) {
            meter.name_comparison()?;
            if let Some(m) = matches(name, &subtree.base) {
                same_form = true;
                if m {
                    inside = true;
                    break;
                }
            }
        }
        if same_form && !inside {
            return Err(violation("not permitted"));
        }
    }
    if let Some(excluded) = &holder.constraints.excluded_subtrees {
        for subtree in excluded.iter().filter(|s| unsupported(s).is_none()) {
            meter.name_comparison()?;
            if matches(name, &subtree.base) == Some(true) {
                return Err(violation("excluded"));
            }
        }
    }
    Ok(())
}

/// Whether `name` lies in the subtree `base`: `None` when they are of different forms.
fn matches(name: &Subject<'_>, base: &GeneralName) -> Option<bool> {
    Some(match (name, base) {
        (Subject::Dns(n), GeneralName::DnsName(c)) => dns_in(n, c.as_str()),
        (Subject::Email(n), GeneralName::Rfc822Name(c)) => email_in(n, c.as_str()),
        (Subject::Uri(n), GeneralName::UniformResourceIdentifier(c)) => {
            uri_host(n).is_some_and(|host| host_in(host, c.as_str()))
        }
        (Subject::Ip(n), GeneralName::IpAddress(c)) => ip_in(n, c.as_bytes()),
        (Subject::Directory(n, _), GeneralName::DirectoryName(c)) => {
            n.starts_with(&NormalizedName::new(c))
        }
        _ => return None,
    })
}

/// `name` is `constraint` or below it; with a leading dot, strictly below it.
fn dns_in(name: &str, constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let constraint = constraint.strip_suffix('.').unwrap_or(constraint);
    if let Some(domain) = constraint.strip_prefix('.') {
        return ends_with_label(name, domain) && name.len() > domain.len();
    }
    name.eq_ignore_ascii_case(constraint) || ends_with_label(name, constraint)
}

/// `name` ends with `.domain` (ASCII case ignored).
fn ends_with_label(name: &str, domain: &str) -> bool {
    name.len() > domain.len()
        && name
            .get(name.len() - domain.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
        && name.as_bytes().get(name.len() - domain.len() - 1) == Some(&b'.')
}

/// A host constraint of the URI and RFC 822 forms: `host` exactly, or `.domain` for hosts
/// strictly below `domain`.
fn host_in(host: &str, constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    match constraint.strip_prefix('.') {
        Some(domain) => ends_with_label(host, domain),
        None => host.eq_ignore_ascii_case(constraint),
    }
}

fn email_in(mailbox: &str, constraint: &str) -> bool {
    let Some((local, host)) = mailbox.rsplit_once('@') else {
        return false;
    };
    match constraint.rsplit_once('@') {
        Some((c_local, c_host)) => local == c_local && host.eq_ignore_ascii_case(c_host),
        None => host_in(host, constraint),
    }
}

/// The host of a URI (`scheme://[userinfo@]host[:port]/...`), when it has one.
fn uri_host(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

fn ip_in(address: &[u8], constraint: &[u8]) -> bool {
    let len = address.len();
    if !(len == 4 || len == 16) || constraint.len() != 2 * len {
        return false;
    }
    let (network, mask) = constraint.split_at(len);
    address
        .iter()
        .zip(network)
        .zip(mask)
        .all(|((a, n), m)| a & m == n & m)
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => bytes
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join("."),
        16 => bytes
            .chunks(2)
            .map(|pair| format!("{:x}", u16::from_be_bytes([pair[0], pair[1]])))
            .collect::<Vec<_>>()
            .join(":"),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subtrees() {
        assert!(dns_in("example.com", "example.com"));
        assert!(dns_in("a.Example.COM", "example.com"));
        assert!(!dns_in("badexample.com", "example.com"));
        assert!(!dns_in("example.com", ".example.com"));
        assert!(dns_in("a.example.com", ".example.com"));
        assert!(dns_in("anything", ""));
    }

    #[test]
    fn mailbox_subtrees() {
        assert!(email_in("user@example.com", "example.com"));
        assert!(!email_in("user@a.example.com", "example.com"));
        assert!(email_in("user@a.example.com", ".example.com"));
        assert!(email_in("user@EXAMPLE.com", "user@example.com"));
        assert!(!email_in("User@example.com", "user@example.com"));
        assert!(!email_in("no-at-sign", "example.com"));
    }

    #[test]
    fn uri_hosts() {
        assert_eq!(
            uri_host("https://user@host.example:443/p?q"),
            Some("host.example")
        );
        assert_eq!(uri_host("ldap://[2001:db8::1]/x"), Some("2001:db8::1"));
        assert_eq!(uri_host("urn:isbn:123"), None);
        assert!(host_in("a.example.com", ".example.com"));
        assert!(!host_in("a.example.com", "example.com"));
    }

    #[test]
    fn ip_ranges() {
        assert!(ip_in(&[192, 0, 2, 7], &[192, 0, 2, 0, 255, 255, 255, 0]));
        assert!(!ip_in(&[192, 0, 3, 7], &[192, 0, 2, 0, 255, 255, 255, 0]));
        let mut v6 = [0u8; 32];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[16] = 0xff;
        v6[17] = 0xff;
        let mut addr = [0u8; 16];
        addr[0] = 0x20;
        addr[1] = 0x01;
        addr[15] = 1;
        assert!(ip_in(&addr, &v6));
        assert!(!ip_in(&[192, 0, 2, 7], &v6));
        assert_eq!(ip_text(&[192, 0, 2, 7]), "192.0.2.7");
    }
}
