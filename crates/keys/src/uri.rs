//! PKCS#11 URIs (RFC 7512), parsed strictly: the subset that names one private key in one
//! token of one module, with where its PIN comes from.
//!
//! `pkcs11:token=rms;object=cluster-key;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/rms/pin`
//!
//! | attribute | where | meaning |
//! | --- | --- | --- |
//! | `token` | path, required | the token's label (CKA_LABEL of the token) |
//! | `serial` | path | the token's serial number, when labels are not unique |
//! | `object` | path | the key's label (CKA_LABEL) |
//! | `id` | path | the key's CKA_ID, percent-encoded octets |
//! | `type` | path | `private` (the only type a key reference names) |
//! | `module-path` | query, required | the PKCS#11 module (shared library) to load |
//! | `pin-source` | query | `file:/path` (the file's first line) or `env:NAME` (an environment variable) |
//!
//! `pin-value` is refused: a PIN in a URI ends up on command lines and in the configuration
//! database. At least one of `object` and `id` is required.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Why a PKCS#11 URI is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// It does not start with `pkcs11:`.
    #[error("a PKCS#11 URI starts with \"pkcs11:\"")]
    NotPkcs11,
    /// An attribute without `=`.
    #[error("attribute {text:?} has no '='")]
    Malformed {
        /// The attribute as written.
        text: String,
    },
    /// An attribute RFC 7512 does not define.
    #[error("unknown attribute {name:?}")]
    UnknownAttribute {
        /// Its name.
        name: String,
    },
    /// An attribute of RFC 7512 that a key reference does not use.
    #[error("attribute {name:?} is not supported: {why}")]
    UnsupportedAttribute {
        /// Its name.
        name: String,
        /// Why, and what to use instead.
        why: &'static str,
    },
    /// The same attribute twice.
    #[error("attribute {name:?} appears twice")]
    DuplicateAttribute {
        /// Its name.
        name: String,
    },
    /// An attribute with an empty value.
    #[error("attribute {name:?} is empty")]
    EmptyValue {
        /// Its name.
        name: String,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("attribute {name:?} has a bad percent-encoding")]
    BadPercentEncoding {
        /// The attribute's name.
        name: String,
    },
    /// A character a URI may not hold unencoded.
    #[error("attribute {name:?} holds {character:?}, which must be percent-encoded")]
    InvalidCharacter {
        /// The attribute's name.
        name: String,
        /// The character.
        character: char,
    },
    /// A text attribute whose octets are not UTF-8.
    #[error("attribute {name:?} is not UTF-8 once decoded")]
    NotUtf8 {
        /// The attribute's name.
        name: String,
    },
    /// `type` other than `private`.
    #[error("type={value:?}: a key reference names a private key (type=private)")]
    WrongObjectType {
        /// The type written.
        value: String,
    },
    /// No `token`.
    #[error("the URI names no token (token=LABEL)")]
    MissingToken,
    /// Neither `object` nor `id`.
    #[error("the URI names no key (object=LABEL or id=%..)")]
    MissingKeyName,
    /// No `module-path`.
    #[error("the URI names no module (?module-path=/path/to/module.so)")]
    MissingModulePath,
    /// `pin-value` present.
    #[error(
        "pin-value is refused: give the PIN through pin-source=file:PATH or pin-source=env:NAME"
    )]
    PinValueRefused,
    /// A `pin-source` that is neither `file:` nor `env:`.
    #[error("pin-source {value:?} is neither file:/absolute/path nor env:NAME")]
    BadPinSource {
        /// The value written.
        value: String,
    },
}

/// Where a token's PIN is read from (never the URI, never the command line).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PinSource {
    /// The first line of a file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl fmt::Display for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file:{}", path.display()),
            Self::Env(name) => write!(f, "env:{name}"),
        }
    }
}

impl PinSource {
    fn parse(value: &str) -> Result<Self, UriError> {
        let bad = || UriError::BadPinSource {
            value: value.to_owned(),
        };
        if let Some(path) = value.strip_prefix("file:") {
            // file:/abs/path and file:///abs/path (RFC 8089); no host.
            let path = path.strip_prefix("//").unwrap_or(path);
            if !path.starts_with('/') {
                return Err(bad());
            }
            Ok(Self::File(PathBuf::from(path)))
        } else if let Some(name) = value.strip_prefix("env:") {
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(bad());
            }
            Ok(Self::Env(name.to_owned()))
        } else {
            Err(bad())
        }
    }
}

/// A PKCS#11 URI naming one private key: token, key label and/or id, module, PIN source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pkcs11Uri {
    token: String,
    serial: Option<String>,
    object: Option<String>,
    id: Option<Vec<u8>>,
    module_path: PathBuf,
    pin_source: Option<PinSource>,
}

/// Path attributes of RFC 7512 §2.3 that a key reference does not use.
const UNUSED_PATH_ATTRIBUTES: [&str; 8] = [
    "manufacturer",
    "model",
    "library-manufacturer",
    "library-description",
    "library-version",
    "slot-description",
    "slot-manufacturer",
    "slot-id",
];

impl Pkcs11Uri {
    /// Parses `text` strictly (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, UriError> {
        let rest = text.strip_prefix("pkcs11:").ok_or(UriError::NotPkcs11)?;
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let mut seen: Vec<String> = Vec::new();
        let mut token = None;
        let mut serial = None;
        let mut object = None;
        let mut id = None;
        let mut module_path = None;
        let mut pin_source = None;
        let attributes = split_nonempty(path, ';').map(|a| (a, true));
        let attributes = attributes.chain(
            query
                .into_iter()
                .flat_map(|q| split_nonempty(q, '&'))
                .map(|a| (a, false)),
        );
        for (attribute, in_path) in attributes {
            let (name, raw) = attribute
                .split_once('=')
                .ok_or_else(|| UriError::Malformed {
                    text: attribute.to_owned(),
                })?;
            if seen.iter().any(|s| s == name) {
                return Err(UriError::DuplicateAttribute {
                    name: name.to_owned(),
                });
            }
            seen.push(name.to_owned());
            if raw.is_empty() {
                return Err(UriError::EmptyValue {
                    name: name.to_owned(),
                });
            }
            let octets = percent_decode(name, raw)?;
            let text = || {
                String::from_utf8(octets.clone()).map_err(|_| UriError::NotUtf8 {
                    name: name.to_owned(),
                })
            };
            match (name, in_path) {
                ("token", true) => token = Some(text()?),
                ("serial", true) => serial = Some(text()?),
                ("object", true) => object = Some(text()?),
                ("id", true) => id = Some(octets.clone()),
                ("type", true) => {
                    let value = text()?;
                    if value != "private" {
                        return Err(UriError::WrongObjectType { value });
                    }
                }
                (unused, true) if UNUSED_PATH_ATTRIBUTES.contains(&unused) => {
                    return Err(UriError::UnsupportedAttribute {
                        name: unused.to_owned(),
                        why: "a key is found by token (and serial), object and id",
                    });
                }
                ("module-path", false) => module_path = Some(PathBuf::from(text()?)),
                ("pin-source", false) => pin_source = Some(PinSource::parse(&text()?)?),
                ("pin-value", false) => return Err(UriError::PinValueRefused),
                ("module-name", false) => {
                    return Err(UriError::UnsupportedAttribute {
                        name: name.to_owned(),
                        why: "name the module by module-path",
                    });
                }
                _ => {
                    return Err(UriError::UnknownAttribute {
                        name: name.to_owned(),
                    });
                }
            }
        }
        let token = token.ok_or(UriError::MissingToken)?;
        if object.is_none() && id.is_none() {
            return Err(UriError::MissingKeyName);
        }
        Ok(Self {
            token,
            serial,
            object,
            id,
            module_path: module_path.ok_or(UriError::MissingModulePath)?,
            pin_source,
        })
    }

    /// The token's label.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The token's serial number, if given.
    #[must_use]
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// The key's label, if given.
    #[must_use]
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// The key's CKA_ID, if given.
    #[must_use]
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// The module to load.
    #[must_use]
    pub fn module_path(&self) -> &std::path::Path {
        &self.module_path
    }

    /// Where the PIN comes from, if the token needs one.
    #[must_use]
    pub fn pin_source(&self) -> Option<&PinSource> {
        self.pin_source.as_ref()
    }

    /// The same URI with `id` set (what a generated key is referenced by).
    #[must_use]
    pub fn with_id(mut self, id: Vec<u8>) -> Self {
        self.id = Some(id);
        self
    }

    /// The same URI naming a key labelled `object` and with no id: where a new key of the same
    /// token is made (a rekey keeps the old key until the new SLC is installed).
    #[must_use]
    pub fn for_new_object(mut self, object: &str) -> Self {
        self.object = Some(object.to_owned());
        self.id = None;
        self
    }

    /// The same URI loading `module_path` instead (a node whose module lives elsewhere).
    #[must_use]
    pub fn with_module_path(mut self, module_path: PathBuf) -> Self {
        self.module_path = module_path;
        self
    }

    /// The same URI reading the PIN from `pin_source` instead.
    #[must_use]
    pub fn with_pin_source(mut self, pin_source: Option<PinSource>) -> Self {
        self.pin_source = pin_source;
        self
    }

    /// The path part only (`pkcs11:token=...;object=...;id=...`): what names the key, for
    /// messages and logs.
    #[must_use]
    pub fn key_name(&self) -> String {
        let mut out = String::from("pkcs11:");
        let mut first = true;
        let mut push = |name: &str, value: &[u8]| {
            if !first {
                out.push(';');
            }
            first = false;
            out.push_str(name);
            out.push('=');
            percent_encode(&mut out, value, name == "id");
        };
        push("token", self.token.as_bytes());
        if let Some(serial) = &self.serial {
            push("serial", serial.as_bytes());
        }
        if let Some(object) = &self.object {
            push("object", object.as_bytes());
        }
        if let Some(id) = &self.id {
            push("id", id);
        }
        push("type", b"private");
        out
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.key_name();
        out.push_str("?module-path=");
        percent_encode(
            &mut out,
            self.module_path.to_string_lossy().as_bytes(),
            false,
        );
        if let Some(source) = &self.pin_source {
            out.push_str("&pin-source=");
            percent_encode(&mut out, source.to_string().as_bytes(), false);
        }
        f.write_str(&out)
    }
}

impl FromStr for Pkcs11Uri {
    type Err = UriError;

    fn from_str(text: &str) -> Result<Self, UriError> {
        Self::parse(text)
    }
}

fn split_nonempty(text: &str, separator: char) -> impl Iterator<Item = &str> {
    // A trailing separator is tolerated; an empty attribute between two is not an attribute.
    text.split(separator).filter(|a| !a.is_empty())
}

/// Characters RFC 7512 lets stand for themselves in a value (unreserved, and the sub-delims
/// and ':' '@' '/' that its grammar allows in path or query values), except the separators.
fn is_plain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~:@!$'()*+,/|".contains(&c)
}

fn percent_decode(name: &str, raw: &str) -> Result<Vec<u8>, UriError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| UriError::BadPercentEncoding {
                    name: name.to_owned(),
                })?;
            out.push(hex);
            i += 3;
        } else if is_plain(b) {
            out.push(b);
            i += 1;
        } else {
            let character = raw[i..].chars().next().unwrap_or('\u{fffd}');
            return Err(UriError::InvalidCharacter {
                name: name.to_owned(),
                character,
            });
        }
    }
    Ok(out)
}

fn percent_encode(out: &mut String, value: &[u8], every_octet: bool) {
    for &b in value {
        if !every_octet && is_plain(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MODULE: &str = "module-path=/usr/lib/softhsm/libsofthsm2.so";

    #[test]
    fn parses_and_prints_back() {
        let text = format!(
            "pkcs11:token=rms%20root;object=cluster-key;id=%01%ff?{MODULE}&pin-source=file:/etc/rms/pin"
        );
        let uri = Pkcs11Uri::parse(&text).unwrap();
        assert_eq!(uri.token(), "rms root");
        assert_eq!(uri.object(), Some("cluster-key"));
        assert_eq!(uri.id(), Some(&[0x01, 0xff][..]));
        assert_eq!(
            uri.pin_source(),
            Some(&PinSource::File("/etc/rms/pin".into()))
        );
        assert_eq!(Pkcs11Uri::parse(&uri.to_string()).unwrap(), uri);
        assert_eq!(
            uri.key_name(),
            "pkcs11:token=rms%20root;object=cluster-key;id=%01%ff;type=private"
        );
    }

    #[test]
    fn env_pin_source_and_file_url_form() {
        let uri = Pkcs11Uri::parse(&format!(
            "pkcs11:token=t;id=%02?{MODULE}&pin-source=env:RMS_PIN"
        ))
        .unwrap();
        assert_eq!(uri.pin_source(), Some(&PinSource::Env("RMS_PIN".into())));
        let uri = Pkcs11Uri::parse(&format!(
            "pkcs11:token=t;id=%02?{MODULE}&pin-source=file:///run/pin"
        ))
        .unwrap();
        assert_eq!(uri.pin_source(), Some(&PinSource::File("/run/pin".into())));
    }

    #[test]
    fn refuses_each_mistake_specifically() {
        let cases: [(&str, UriError); 14] = [
            ("pkcs12:token=t", UriError::NotPkcs11),
            (
                "pkcs11:token=t;object",
                UriError::Malformed {
                    text: "object".into(),
                },
            ),
            (
                "pkcs11:token=t;colour=red",
                UriError::UnknownAttribute {
                    name: "colour".into(),
                },
            ),
            (
                "pkcs11:token=t;token=u",
                UriError::DuplicateAttribute {
                    name: "token".into(),
                },
            ),
            (
                "pkcs11:token=;object=k",
                UriError::EmptyValue {
                    name: "token".into(),
                },
            ),
            (
                "pkcs11:token=t;id=%0g",
                UriError::BadPercentEncoding { name: "id".into() },
            ),
            (
                "pkcs11:token=a b;id=%01",
                UriError::InvalidCharacter {
                    name: "token".into(),
                    character: ' ',
                },
            ),
            (
                "pkcs11:token=%ff;id=%01",
                UriError::NotUtf8 {
                    name: "token".into(),
                },
            ),
            (
                "pkcs11:token=t;id=%01;type=cert",
                UriError::WrongObjectType {
                    value: "cert".into(),
                },
            ),
            ("pkcs11:object=k?module-path=/m.so", UriError::MissingToken),
            ("pkcs11:token=t?module-path=/m.so", UriError::MissingKeyName),
            ("pkcs11:token=t;object=k", UriError::MissingModulePath),
            (
                "pkcs11:token=t;object=k?module-path=/m.so&pin-value=1234",
                UriError::PinValueRefused,
            ),
            (
                "pkcs11:token=t;object=k?module-path=/m.so&pin-source=relative/pin",
                UriError::BadPinSource {
                    value: "relative/pin".into(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Pkcs11Uri::parse(text), Err(expected), "{text}");
        }
        assert!(matches!(
            Pkcs11Uri::parse("pkcs11:token=t;slot-id=1;object=k?module-path=/m.so"),
            Err(UriError::UnsupportedAttribute { .. })
        ));
        assert!(matches!(
            Pkcs11Uri::parse("pkcs11:token=t;object=k?module-name=softhsm2"),
            Err(UriError::UnsupportedAttribute { .. })
        ));
        assert!(matches!(
            Pkcs11Uri::parse("pkcs11:token=t;object=k?module-path=/m.so&pin-source=env:1X"),
            Err(UriError::BadPinSource { .. })
        ));
        // A module path in the path part is not a path attribute.
        assert!(matches!(
            Pkcs11Uri::parse("pkcs11:token=t;object=k;module-path=/m.so"),
            Err(UriError::UnknownAttribute { .. })
        ));
    }
}
