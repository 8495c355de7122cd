//! Distinguished names compared as RFC 5280 §7.1 requires.
//!
//! [RFC 5280 §7.1](https://datatracker.ietf.org/doc/html/rfc5280#section-7.1): two names match
//! when they have the same number of RDNs and each RDN holds the same set of attribute values;
//! attribute values of the directory string types are compared after the LDAP StringPrep of
//! RFC 4518, which folds case and removes insignificant spaces. We apply case folding
//! (Unicode lowercase) and space folding (leading and trailing spaces dropped, runs of white
//! space reduced to one space) to PrintableString, UTF8String, IA5String, VisibleString,
//! BMPString and TeletexString values (`der` cannot decode UniversalString), so a PrintableString and a UTF8String with the same
//! text match (the "rollover" of PKITS 4.3.10). Unicode normalisation (NFKC) is not applied.
//! Values of any other type are compared as their exact DER encoding.

use der::{Encode, Tag, Tagged};
use x509_cert::name::Name;

/// One attribute value, normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Value {
    /// A directory string after case and space folding.
    Text(String),
    /// Any other value: its DER encoding (tag, length and contents).
    Raw(Vec<u8>),
}

/// A name in the form used for comparison: RDNs in order, the attributes of each RDN sorted.
/// Ordered (arbitrarily but consistently) so that it can key a sorted map.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NormalizedName(Vec<Vec<(String, Value)>>);

impl NormalizedName {
    /// Normalises `name`.
    pub(crate) fn new(name: &Name) -> Self {
        let rdns = name
            .iter_rdn()
            .map(|rdn| {
                let mut attributes: Vec<(String, Value)> = rdn
                    .iter()
                    .map(|atv| (atv.oid.to_string(), normalize_value(&atv.value)))
                    .collect();
                attributes.sort();
                attributes
            })
            .collect();
        Self(rdns)
    }

    /// Whether `prefix`'s RDNs are the first RDNs of this name: the name lies in the subtree
    /// of `prefix` (RFC 5280 §4.2.1.10, directoryName constraints).
    pub(crate) fn starts_with(&self, prefix: &NormalizedName) -> bool {
        self.0.len() >= prefix.0.len() && self.0.iter().zip(&prefix.0).all(|(a, b)| a == b)
    }

    /// Whether the name has no RDN.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This name with one more RDN at the end (a distribution point name relative to a CRL
    /// issuer, RFC 5280 §4.2.1.13).
    pub(crate) fn with_rdn(&self, rdn: &x509_cert::name::RelativeDistinguishedName) -> Self {
        let mut attributes: Vec<(String, Value)> = rdn
            .iter()
            .map(|atv| (atv.oid.to_string(), normalize_value(&atv.value)))
            .collect();
        attributes.sort();
        let mut rdns = self.0.clone();
        rdns.push(attributes);
        Self(rdns)
    }
}

fn normalize_value(value: &der::Any) -> Value {
    let text = match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            std::str::from_utf8(value.value()).ok().map(str::to_owned)
        }
        // TeletexString (T.61) is read as Latin-1, as most software does.
        Tag::TeletexString => Some(value.value().iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => decode_utf16(value.value()),
        _ => None,
    };
    match text {
        Some(text) => Value::Text(fold(&text)),
        None => Value::Raw(value.to_der().unwrap_or_else(|_| value.value().to_vec())),
    }
}

fn decode_utf16(bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Case folding and insignificant-space handling (RFC 4518 §2.3 and §2.6.1, simplified).
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::str::FromStr;

    use der::Decode;
    use der::asn1::{PrintableStringRef, Utf8StringRef};
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

    use super::*;

    fn name(s: &str) -> NormalizedName {
        NormalizedName::new(&Name::from_str(s).unwrap())
    }

    fn cn_with(value: der::Any) -> NormalizedName {
        let mut rdn = RelativeDistinguishedName::default();
        rdn.insert(AttributeTypeAndValue {
            oid: const_oid::db::rfc4519::CN,
            value,
        })
        .unwrap();
        let mut seq = RdnSequence::default();
        seq.push(rdn);
        NormalizedName::new(&Name::from_der(&seq.to_der().unwrap()).unwrap())
    }

    #[test]
    fn case_and_spaces_are_folded() {
        assert_eq!(name("CN=Good CA,O=Test"), name("CN=good  ca,O=TEST"));
        assert_ne!(name("CN=Good CA,O=Test"), name("CN=GoodCA,O=Test"));
    }

    #[test]
    fn rdn_order_matters() {
        assert_ne!(name("CN=a,O=b"), name("O=b,CN=a"));
    }

    #[test]
    fn printable_and_utf8_strings_match() {
        let printable = der::Any::encode_from(&PrintableStringRef::new("Good CA").unwrap());
        let utf8 = der::Any::encode_from(&Utf8StringRef::new("  good   CA ").unwrap());
        assert_eq!(cn_with(printable.unwrap()), cn_with(utf8.unwrap()));
    }

    #[test]
    fn other_types_compare_exactly() {
        let a = der::Any::new(Tag::OctetString, vec![1, 2]).unwrap();
        let b = der::Any::new(Tag::OctetString, vec![1, 3]).unwrap();
        assert_ne!(cn_with(a.clone()), cn_with(b));
        assert_eq!(cn_with(a.clone()), cn_with(a));
    }

    #[test]
    fn bmp_strings_are_decoded() {
        let bmp = der::Any::new(Tag::BmpString, vec![0, b'G', 0, b'o']).unwrap();
        let utf8 = der::Any::encode_from(&Utf8StringRef::new("go").unwrap()).unwrap();
        assert_eq!(cn_with(bmp), cn_with(utf8));
    }
}
