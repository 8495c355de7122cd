//! Who a server is: its role, its identifier (a GUID), its name and its service URL, and how
//! these travel in requests and certificates.

use std::fmt;
use std::str::FromStr;

use der::asn1::{Any, Ia5String, Utf8StringRef};
use der::{Decode, Encode, Tag, Tagged};
use getrandom::SysRng;
use getrandom::rand_core::TryRng;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::{Name, RelativeDistinguishedName};

use crate::{CertError, RequestError, oid};

const COMMON_NAME: const_oid::ObjectIdentifier = const_oid::db::rfc4519::COMMON_NAME;
/// Longest common name X.520 allows (ub-common-name).
const MAX_COMMON_NAME_CHARS: usize = 64;
/// Longest service URL we accept.
const MAX_URL_LEN: usize = 2048;

/// The role a server asks for in its request, and holds in its SLC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerRole {
    /// A root certification server: enrolled by an enrollment authority, sub-enrolls licensing
    /// servers. Named `root`.
    RootCertificationServer,
    /// A licensing server: sub-enrolled by a root, issues publishing and use licenses. Named
    /// `licensing`.
    LicensingServer,
}

impl ServerRole {
    /// The role's name, as carried in the server-role extension (`root` or `licensing`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ServerRole::RootCertificationServer => "root",
            ServerRole::LicensingServer => "licensing",
        }
    }

    /// The rights an SLC of this role grants.
    #[must_use]
    pub const fn rights(self) -> crate::Rights {
        match self {
            ServerRole::RootCertificationServer => crate::Rights::ROOT,
            ServerRole::LicensingServer => crate::Rights::LICENSING,
        }
    }

    /// The value of the server-role extension: the name as a DER UTF8String.
    pub fn to_der(self) -> Result<Vec<u8>, CertError> {
        utf8_der(self.name(), "server role")
    }

    /// Reads the value of the server-role extension.
    pub fn from_der(bytes: &[u8]) -> Result<Self, RequestError> {
        let text = Utf8StringRef::from_der(bytes).map_err(|err| RequestError::InvalidRole {
            reason: format!("not a DER UTF8String: {err}"),
        })?;
        text.as_str()
            .parse()
            .map_err(|_| RequestError::InvalidRole {
                reason: format!("{:?} is not \"root\" or \"licensing\"", text.as_str()),
            })
    }
}

impl fmt::Display for ServerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ServerRole {
    type Err = CertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "root" => Ok(ServerRole::RootCertificationServer),
            "licensing" => Ok(ServerRole::LicensingServer),
            _ => Err(CertError::InvalidRole {
                input: s.to_owned(),
            }),
        }
    }
}

/// A server's identifier: a GUID, as the original protocol carries it.
///
/// Printed lowercase as `0f8fad5b-d9cb-469f-a165-70867728950e`
/// ([`to_braced_string`](Self::to_braced_string) adds the `{}` of the original protocol);
/// parsed in either case, with or without braces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId([u8; 16]);

impl ServerId {
    /// A random (version 4) GUID from the operating system's CSPRNG.
    pub fn random() -> Result<Self, CertError> {
        let mut bytes = [0u8; 16];
        SysRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| CertError::InvalidServerId {
                input: "(the operating system's random number generator failed)".to_owned(),
            })?;
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Ok(Self(bytes))
    }

    /// The GUID from its 16 octets, in the order they are printed.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 octets, in the order they are printed.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The GUID in the braced form of the original protocol: `{0f8fad5b-...}`.
    #[must_use]
    pub fn to_braced_string(&self) -> String {
        format!("{{{self}}}")
    }

    /// The value of the server-id extension: the GUID text as a DER UTF8String.
    pub fn to_der(&self) -> Result<Vec<u8>, CertError> {
        utf8_der(&self.to_string(), "server id")
    }

    /// Reads the value of the server-id extension.
    pub fn from_der(bytes: &[u8]) -> Result<Self, RequestError> {
        let text = Utf8StringRef::from_der(bytes).map_err(|err| RequestError::InvalidServerId {
            reason: format!("not a DER UTF8String: {err}"),
        })?;
        text.as_str()
            .parse()
            .map_err(|_| RequestError::InvalidServerId {
                reason: format!("{:?} is not a GUID", text.as_str()),
            })
    }
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for ServerId {
    type Err = CertError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || CertError::InvalidServerId {
            input: s.to_owned(),
        };
        let inner = match s.strip_prefix('{') {
            Some(rest) => rest.strip_suffix('}').ok_or_else(invalid)?,
            None => s,
        };
        let groups: Vec<&str> = inner.split('-').collect();
        if groups.iter().map(|g| g.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
            return Err(invalid());
        }
        let hex: String = groups.concat();
        let mut bytes = [0u8; 16];
        for (i, out) in bytes.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2).ok_or_else(invalid)?;
            if !pair.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid());
            }
            *out = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(Self(bytes))
    }
}

fn utf8_der(text: &str, what: &'static str) -> Result<Vec<u8>, CertError> {
    Utf8StringRef::new(text)
        .and_then(|s| s.to_der())
        .map_err(|source| CertError::Encode { what, source })
}

/// Who a server is, as its enrollment request states and its SLC certifies: subject name (with
/// a common name), role, server id and service URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    subject: Name,
    common_name: String,
    role: ServerRole,
    id: ServerId,
    url: String,
}

impl ServerIdentity {
    /// An identity whose subject is `CN=<common_name>`. Refuses an empty or over-long name
    /// (more than 64 characters, or with control characters) and a URL that is not http or
    /// https with a host.
    pub fn new(
        common_name: &str,
        role: ServerRole,
        id: ServerId,
        url: &str,
    ) -> Result<Self, CertError> {
        check_common_name(common_name).map_err(CertError::InvalidIdentity)?;
        check_url(url).map_err(CertError::InvalidIdentity)?;
        Ok(Self {
            subject: common_name_only(common_name)?,
            common_name: common_name.to_owned(),
            role,
            id,
            url: url.to_owned(),
        })
    }

    /// The same identity with a fuller subject (e.g. `CN=licensing-1,O=Example,C=IT`); the
    /// subject must hold exactly one acceptable common name, which replaces the previous one.
    pub fn with_subject(mut self, subject: Name) -> Result<Self, CertError> {
        self.common_name = common_name_of(&subject).map_err(CertError::InvalidIdentity)?;
        self.subject = subject;
        Ok(self)
    }

    /// The subject name.
    #[must_use]
    pub fn subject(&self) -> &Name {
        &self.subject
    }

    /// The subject's common name: the server's name.
    #[must_use]
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// The role.
    #[must_use]
    pub fn role(&self) -> ServerRole {
        self.role
    }

    /// The server id.
    #[must_use]
    pub fn id(&self) -> ServerId {
        self.id
    }

    /// The service URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The extensions that carry the identity, in the order requests and certificates hold
    /// them: server role, server id, subjectAltName with the URL.
    pub(crate) fn extensions(&self) -> Result<Vec<Extension>, CertError> {
        let encode = |what, source| CertError::Encode { what, source };
        let uri = Ia5String::new(&self.url).map_err(|e| encode("service URL", e))?;
        let san = SubjectAltName(vec![GeneralName::UniformResourceIdentifier(uri)]);
        Ok(vec![
            extension(oid::SERVER_ROLE, self.role.to_der()?)?,
            extension(oid::SERVER_ID, self.id.to_der()?)?,
            extension(
                const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME,
                san.to_der().map_err(|e| encode("subjectAltName", e))?,
            )?,
        ])
    }

    /// Reads the identity from a subject and a list of extensions (of a request or a
    /// certificate). Duplicates must have been refused by the caller.
    pub(crate) fn from_parts(
        subject: &Name,
        extensions: &[Extension],
    ) -> Result<Self, RequestError> {
        let common_name = common_name_of(subject)?;
        let find = |oid| extensions.iter().find(|e| e.extn_id == oid);
        let role = ServerRole::from_der(
            find(oid::SERVER_ROLE)
                .ok_or(RequestError::MissingRole)?
                .extn_value
                .as_bytes(),
        )?;
        let id = ServerId::from_der(
            find(oid::SERVER_ID)
                .ok_or(RequestError::MissingServerId)?
                .extn_value
                .as_bytes(),
        )?;
        let san =
            find(const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME).ok_or(RequestError::MissingUrl)?;
        let url = url_of(san.extn_value.as_bytes())?;
        Ok(Self {
            subject: subject.clone(),
            common_name,
            role,
            id,
            url,
        })
    }

    /// Reads the identity a certificate (an SLC) carries.
    pub fn from_certificate(certificate: &x509_cert::Certificate) -> Result<Self, CertError> {
        let tbs = certificate.tbs_certificate();
        let extensions = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
        Self::from_parts(tbs.subject(), extensions).map_err(CertError::Request)
    }
}

fn extension(extn_id: const_oid::ObjectIdentifier, value: Vec<u8>) -> Result<Extension, CertError> {
    Ok(Extension {
        extn_id,
        critical: false,
        extn_value: der::asn1::OctetString::new(value).map_err(|source| CertError::Encode {
            what: "extension value",
            source,
        })?,
    })
}

/// `CN=<name>` as a Name, the value a UTF8String.
fn common_name_only(common_name: &str) -> Result<Name, CertError> {
    let encode = |source| CertError::Encode {
        what: "subject name",
        source,
    };
    let value = Any::new(Tag::Utf8String, common_name.as_bytes()).map_err(encode)?;
    let rdn = RelativeDistinguishedName::try_from(vec![AttributeTypeAndValue {
        oid: COMMON_NAME,
        value,
    }])
    .map_err(encode)?;
    let der = vec![rdn].to_der().map_err(encode)?;
    Name::from_der(&der).map_err(encode)
}

/// The one common name of `subject`, checked.
fn common_name_of(subject: &Name) -> Result<String, RequestError> {
    let mut names = subject.iter().filter(|atv| atv.oid == COMMON_NAME);
    let first = names.next().ok_or(RequestError::MissingCommonName)?;
    if names.next().is_some() {
        return Err(RequestError::InvalidCommonName {
            reason: "the subject has more than one common name",
        });
    }
    let text = match first.value.tag() {
        Tag::Utf8String | Tag::PrintableString => std::str::from_utf8(first.value.value())
            .map_err(|_| RequestError::InvalidCommonName {
                reason: "not valid UTF-8",
            })?,
        _ => {
            return Err(RequestError::InvalidCommonName {
                reason: "not a UTF8String or PrintableString",
            });
        }
    };
    if first.value.tag() == Tag::PrintableString
        && der::asn1::PrintableStringRef::new(text).is_err()
    {
        return Err(RequestError::InvalidCommonName {
            reason: "characters not allowed in a PrintableString",
        });
    }
    check_common_name(text)?;
    Ok(text.to_owned())
}

fn check_common_name(name: &str) -> Result<(), RequestError> {
    if name.trim().is_empty() {
        return Err(RequestError::InvalidCommonName {
            reason: "empty or blank",
        });
    }
    if name.chars().count() > MAX_COMMON_NAME_CHARS {
        return Err(RequestError::InvalidCommonName {
            reason: "longer than 64 characters",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(RequestError::InvalidCommonName {
            reason: "contains control characters",
        });
    }
    Ok(())
}

/// The one URI of a subjectAltName value, checked.
fn url_of(san_der: &[u8]) -> Result<String, RequestError> {
    let san = SubjectAltName::from_der(san_der).map_err(|err| RequestError::InvalidUrl {
        reason: format!("subjectAltName is not valid DER: {err}"),
    })?;
    let [name] = san.0.as_slice() else {
        return Err(RequestError::InvalidUrl {
            reason: format!(
                "subjectAltName must hold exactly one URI, it holds {} names",
                san.0.len()
            ),
        });
    };
    let GeneralName::UniformResourceIdentifier(uri) = name else {
        return Err(RequestError::InvalidUrl {
            reason: "the subjectAltName entry is not a URI".to_owned(),
        });
    };
    let url = uri.as_str();
    check_url(url)?;
    Ok(url.to_owned())
}

/// An absolute http or https URL with a host, an optional port and path, no user information
/// and no fragment.
fn check_url(url: &str) -> Result<(), RequestError> {
    let refuse = |reason: &str| RequestError::InvalidUrl {
        reason: format!("{url:?}: {reason}"),
    };
    if url.len() > MAX_URL_LEN {
        return Err(refuse("longer than 2048 characters"));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse("only printable ASCII without spaces is allowed"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        url.get(8..)
    } else if lower.starts_with("http://") {
        url.get(7..)
    } else {
        return Err(refuse("the scheme must be http or https"));
    }
    .unwrap_or_default();
    if url.contains('#') {
        return Err(refuse("a service URL has no fragment"));
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or_default();
    if authority.contains('@') {
        return Err(refuse("user information is not allowed"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6
            .find(']')
            .ok_or_else(|| refuse("unclosed IPv6 literal"))?;
        let host = v6.get(..close).unwrap_or_default();
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(refuse("invalid IPv6 literal"));
        }
        let after = v6.get(close + 1..).unwrap_or_default();
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| refuse("junk after the IPv6 literal"))?,
            ),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(refuse("no host"));
    }
    if !authority.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(refuse(
            "the host may hold only letters, digits, '-' and '.'",
        ));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return Err(refuse("the port must be a number from 1 to 65535"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn server_ids_print_and_parse() {
        let text = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let id: ServerId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(id.to_braced_string(), format!("{{{text}}}"));
        assert_eq!(
            format!("{{{}}}", text.to_uppercase())
                .parse::<ServerId>()
                .unwrap(),
            id
        );
        for bad in [
            "",
            "{0f8fad5b-d9cb-469f-a165-70867728950e",
            "0f8fad5bd9cb469fa16570867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950g",
            "0f8fad5b-d9cb-469f-a165-70867728950e0",
            "+f8fad5b-d9cb-469f-a165-70867728950e",
        ] {
            assert!(bad.parse::<ServerId>().is_err(), "{bad}");
        }
        let random = ServerId::random().unwrap();
        assert_eq!(random.as_bytes()[6] >> 4, 4);
        assert_eq!(random.as_bytes()[8] >> 6, 2);
        assert_eq!(
            ServerId::from_der(&random.to_der().unwrap()).unwrap(),
            random
        );
    }

    #[test]
    fn roles_round_trip() {
        for role in [
            ServerRole::RootCertificationServer,
            ServerRole::LicensingServer,
        ] {
            assert_eq!(role.name().parse::<ServerRole>().unwrap(), role);
            assert_eq!(ServerRole::from_der(&role.to_der().unwrap()).unwrap(), role);
        }
        assert_eq!(
            ServerRole::LicensingServer.to_der().unwrap(),
            b"\x0c\x09licensing"
        );
        assert!("Root".parse::<ServerRole>().is_err());
        // A PrintableString is not accepted.
        assert!(ServerRole::from_der(b"\x13\x04root").is_err());
    }

    #[test]
    fn urls() {
        for good in [
            "https://rms.example.com",
            "http://rms.example.com:8080/_wmcs/certification",
            "https://10.0.0.1/",
            "https://[::1]:443/x?y=1",
            "HTTPS://Example.com",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://x",
            "https://",
            "https://user@host/",
            "https://host:0/",
            "https://host:99999",
            "https://ho st/",
            "https://host/#frag",
            "https://host:/",
            "https://[::1",
            "https://h_st/",
            "//host/",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn common_names() {
        let name = common_name_only("licensing-1").unwrap();
        assert_eq!(name.to_string(), "CN=licensing-1");
        assert_eq!(common_name_of(&name).unwrap(), "licensing-1");
        let two: Name = "CN=a,CN=b".parse().unwrap();
        assert!(common_name_of(&two).is_err());
        let none: Name = "O=Example".parse().unwrap();
        assert_eq!(common_name_of(&none), Err(RequestError::MissingCommonName));
        assert!(check_common_name(" ").is_err());
        assert!(check_common_name(&"x".repeat(65)).is_err());
        assert!(check_common_name("a\nb").is_err());
    }
}
