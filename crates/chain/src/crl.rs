//! [`Crl`] and [`CrlSet`]: X.509 revocation lists read for RFC 5280 §6.3 processing, complete
//! and delta, direct and indirect. Reading checks the structure only; signatures, currency and
//! scope are decided when a certificate's status is (see `crl_status`).

use std::ops::Range;
use std::sync::Arc;

use const_oid::ObjectIdentifier;
use der::{Decode, Encode, Header, Reader, SliceReader, Tag};
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason};
use x509_cert::time::Time;

use crate::ChainError;
use crate::name::NormalizedName;

const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ISSUING_DISTRIBUTION_POINT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");
const FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");

/// An X.509 certificate revocation list (v1 or v2), read for RFC 5280 §6.3 processing with
/// [`RevocationPolicy::RequireCurrent`](crate::RevocationPolicy::RequireCurrent).
///
/// Reading refuses what is not a well-formed list ([`ChainError::InvalidCrl`]). A list with an
/// unknown critical extension, or an entry with one, is read but never used to decide a status
/// (RFC 5280 §5.2, §5.3), nor is one without nextUpdate. Cloning is cheap.
#[derive(Clone)]
pub struct Crl(Arc<Inner>);

struct Inner {
    der: Vec<u8>,
    tbs: Range<usize>,
    list: CertificateList,
    issuer: NormalizedName,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    number: Option<Vec<u8>>,
    base_number: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    idp: Option<IssuingDistributionPoint>,
    idp_der: Option<Vec<u8>>,
    /// Why the list may not be used, when it may not.
    unusable: Option<String>,
    entries: Vec<Entry>,
}

/// One revoked certificate, with the issuer it is attributed to (the list's issuer, or the
/// certificateIssuer of an indirect list's entries).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) issuer: NormalizedName,
    pub(crate) serial: Vec<u8>,
    pub(crate) revoked_at: OffsetDateTime,
    pub(crate) reason: Option<CrlReason>,
}

fn invalid(reason: impl Into<String>) -> ChainError {
    ChainError::InvalidCrl {
        reason: reason.into(),
    }
}

fn time_of(time: &Time) -> OffsetDateTime {
    let seconds = i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// An INTEGER's content without leading zero octets, so numbers compare by length then bytes.
fn magnitude(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default().to_vec()
}

/// Compares two non-negative INTEGER magnitudes.
pub(crate) fn compare_numbers(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Crl {
    /// Reads a DER revocation list.
    pub fn from_der(der: &[u8]) -> Result<Self, ChainError> {
        let list = CertificateList::from_der(der).map_err(|e| invalid(e.to_string()))?;
        let tbs = tbs_range(der).ok_or_else(|| invalid("no TBSCertList"))?;
        let tbs_list = &list.tbs_cert_list;
        if tbs_list.signature != list.signature_algorithm {
            return Err(invalid(
                "signatureAlgorithm differs from the signature field of tbsCertList",
            ));
        }
        let issuer = NormalizedName::new(&tbs_list.issuer);
        let mut inner = Inner {
            der: der.to_vec(),
            tbs,
            issuer: issuer.clone(),
            this_update: time_of(&tbs_list.this_update),
            next_update: tbs_list.next_update.as_ref().map(time_of),
            number: None,
            base_number: None,
            authority_key_id: None,
            idp: None,
            idp_der: None,
            unusable: None,
            entries: Vec::new(),
            list: list.clone(),
        };
        let mut seen = Vec::new();
        for e in tbs_list.crl_extensions.iter().flatten() {
            if seen.contains(&e.extn_id) {
                return Err(invalid(format!("extension {} appears twice", e.extn_id)));
            }
            seen.push(e.extn_id);
            let value = e.extn_value.as_bytes();
            let bad = |what: &str, err: der::Error| invalid(format!("{what}: {err}"));
            match e.extn_id {
                AUTHORITY_KEY_ID => {
                    let aki = AuthorityKeyIdentifier::from_der(value)
                        .map_err(|err| bad("authorityKeyIdentifier", err))?;
                    inner.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                CRL_NUMBER => {
                    let n = CrlNumber::from_der(value).map_err(|err| bad("cRLNumber", err))?;
                    inner.number = Some(magnitude(n.0.as_bytes()));
                }
                DELTA_CRL_INDICATOR => {
                    let n =
                        CrlNumber::from_der(value).map_err(|err| bad("deltaCRLIndicator", err))?;
                    inner.base_number = Some(magnitude(n.0.as_bytes()));
                }
                ISSUING_DISTRIBUTION_POINT => {
                    inner.idp = Some(
                        IssuingDistributionPoint::from_der(value)
                            .map_err(|err| bad("issuingDistributionPoint", err))?,
                    );
                    inner.idp_der = Some(value.to_vec());
                }
                FRESHEST_CRL => {}
                oid if e.critical && inner.unusable.is_none() => {
                    inner.unusable = Some(format!("it has the unknown critical extension {oid}"));
                }
                _ => {}
            }
        }
        if inner.base_number.is_some() && inner.number.is_none() {
            return Err(invalid("a delta list without cRLNumber (RFC 5280 §5.2.4)"));
        }
        let mut current_issuer = issuer;
        for (index, revoked) in tbs_list.revoked_certificates.iter().flatten().enumerate() {
            let mut reason = None;
            for e in revoked.crl_entry_extensions.iter().flatten() {
                let value = e.extn_value.as_bytes();
                match e.extn_id {
                    REASON_CODE => {
                        reason =
                            Some(CrlReason::from_der(value).map_err(|err| {
                                invalid(format!("entry {index}: reasonCode: {err}"))
                            })?);
                    }
                    INVALIDITY_DATE => {}
                    CERTIFICATE_ISSUER => {
                        let names = Vec::<GeneralName>::from_der(value).map_err(|err| {
                            invalid(format!("entry {index}: certificateIssuer: {err}"))
                        })?;
                        match names.iter().find_map(|n| match n {
                            GeneralName::DirectoryName(name) => Some(name),
                            _ => None,
                        }) {
                            Some(name) => current_issuer = NormalizedName::new(name),
                            None if inner.unusable.is_none() => {
                                inner.unusable = Some(format!(
                                    "entry {index} names its certificate issuer without a \
                                     directory name"
                                ));
                            }
                            None => {}
                        }
                    }
                    oid if e.critical && inner.unusable.is_none() => {
                        inner.unusable = Some(format!(
                            "entry {index} has the unknown critical extension {oid}"
                        ));
                    }
                    _ => {}
                }
            }
            inner.entries.push(Entry {
                issuer: current_issuer.clone(),
                serial: revoked.serial_number.as_bytes().to_vec(),
                revoked_at: time_of(&revoked.revocation_date),
                reason,
            });
        }
        Ok(Self(Arc::new(inner)))
    }

    /// Reads a revocation list made by rms-cert.
    pub fn from_revocation_list(list: &rms_cert::RevocationList) -> Result<Self, ChainError> {
        let der = list
            .to_der()
            .map_err(|e| invalid(format!("cannot encode: {e}")))?;
        Self::from_der(&der)
    }

    /// The list's DER, as given.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// The decoded list.
    #[must_use]
    pub fn certificate_list(&self) -> &CertificateList {
        &self.0.list
    }

    /// thisUpdate.
    #[must_use]
    pub fn this_update(&self) -> OffsetDateTime {
        self.0.this_update
    }

    /// nextUpdate, when the list has one.
    #[must_use]
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.0.next_update
    }

    /// Whether this is a delta list (it carries deltaCRLIndicator).
    #[must_use]
    pub fn is_delta(&self) -> bool {
        self.0.base_number.is_some()
    }

    pub(crate) fn issuer(&self) -> &NormalizedName {
        &self.0.issuer
    }

    pub(crate) fn issuer_text(&self) -> String {
        self.0.list.tbs_cert_list.issuer.to_string()
    }

    pub(crate) fn number(&self) -> Option<&[u8]> {
        self.0.number.as_deref()
    }

    pub(crate) fn base_number(&self) -> Option<&[u8]> {
        self.0.base_number.as_deref()
    }

    pub(crate) fn authority_key_id(&self) -> Option<&[u8]> {
        self.0.authority_key_id.as_deref()
    }

    pub(crate) fn idp(&self) -> Option<&IssuingDistributionPoint> {
        self.0.idp.as_ref()
    }

    pub(crate) fn idp_der(&self) -> Option<&[u8]> {
        self.0.idp_der.as_deref()
    }

    pub(crate) fn unusable(&self) -> Option<&str> {
        self.0.unusable.as_deref()
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.0.entries
    }

    pub(crate) fn tbs_der(&self) -> &[u8] {
        self.0.der.get(self.0.tbs.clone()).unwrap_or_default()
    }

    pub(crate) fn signature(&self) -> Option<&[u8]> {
        self.0.list.signature.as_bytes()
    }

    pub(crate) fn signature_algorithm(&self) -> &spki::AlgorithmIdentifierOwned {
        &self.0.list.signature_algorithm
    }
}

impl PartialEq for Crl {
    fn eq(&self, other: &Self) -> bool {
        self.0.der == other.0.der
    }
}

impl Eq for Crl {}

impl std::hash::Hash for Crl {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.der.hash(state);
    }
}

impl std::fmt::Debug for Crl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crl")
            .field("issuer", &self.issuer_text())
            .field("delta", &self.is_delta())
            .field("entries", &self.0.entries.len())
            .finish()
    }
}

/// Where the TBSCertList sits in a list's DER.
fn tbs_range(der: &[u8]) -> Option<Range<usize>> {
    let mut reader = SliceReader::new(der).ok()?;
    let outer = Header::decode(&mut reader).ok()?;
    if outer.tag() != Tag::Sequence {
        return None;
    }
    let start = usize::try_from(reader.position()).ok()?;
    let tbs = reader.tlv_bytes().ok()?;
    let end = start.checked_add(tbs.len())?;
    (end <= der.len()).then_some(start..end)
}

/// The revocation lists given for [`RevocationPolicy::RequireCurrent`](crate::RevocationPolicy::RequireCurrent):
/// unverified, in any order, complete and delta lists of any issuers. Each is verified when it
/// is used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CrlSet {
    crls: Vec<Crl>,
}

impl CrlSet {
    /// An empty set: no certificate's status can be decided.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `crl` (once).
    pub fn add(&mut self, crl: Crl) {
        if !self.crls.contains(&crl) {
            self.crls.push(crl);
        }
    }

    /// The lists, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Crl> {
        self.crls.iter()
    }

    /// How many lists the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.crls.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }
}

impl FromIterator<Crl> for CrlSet {
    fn from_iter<I: IntoIterator<Item = Crl>>(iter: I) -> Self {
        let mut set = Self::new();
        for crl in iter {
            set.add(crl);
        }
        set
    }
}

/// The DER of a value, for messages and comparisons (empty when it cannot be encoded).
pub(crate) fn der_of(value: &impl Encode) -> Vec<u8> {
    value.to_der().unwrap_or_default()
}
