//! Connecting to a token: finding it in its module, logging in, finding the key `uri` names and
//! checking that it is an RSA key we can use.

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use der::Encode;
use der::asn1::{BitString, UintRef};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::module::{find_slot, module_error, read_pin, rv};
use crate::public::unsigned_bits;
use crate::{KeyError, Pkcs11Uri};

/// RSA moduli a token's key may have, in bits.
const TOKEN_KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// A session open on the token, with the key's handle valid in it.
pub(super) struct Connection {
    pub(super) slot: Slot,
    pub(super) key: ObjectHandle,
    /// Never used for operations: keeps the login, which ends with the last session.
    pub(super) _login: Session,
    pub(super) idle: Vec<Session>,
}

/// What we learn of the key when connecting.
pub(super) struct Found {
    pub(super) connection: Connection,
    pub(super) modulus: Vec<u8>,
    pub(super) exponent: Vec<u8>,
    pub(super) can_decrypt: bool,
}

/// Finds the token, logs in, finds the key and reads what it is.
pub(super) fn connect(context: &Pkcs11, uri: &Pkcs11Uri) -> Result<Found, KeyError> {
    let fail = |err: CkError| module_error(uri, "open", &err);
    let slot = find_slot(context, uri)
        .map_err(fail)?
        .ok_or_else(|| token_not_found(uri))?;
    let login_session = context.open_ro_session(slot).map_err(fail)?;
    login(context, &login_session, slot, uri)?;
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    let mut any_class = Vec::new();
    if let Some(label) = uri.object() {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
        any_class.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = uri.id() {
        template.push(Attribute::Id(id.to_vec()));
        any_class.push(Attribute::Id(id.to_vec()));
    }
    let keys = login_session.find_objects(&template).map_err(fail)?;
    let key = match keys.as_slice() {
        [key] => *key,
        [] => {
            let others = login_session.find_objects(&any_class).map_err(fail)?;
            if others.is_empty() {
                return Err(KeyError::KeyNotFound {
                    token: uri.token().to_owned(),
                    uri: uri.key_name(),
                });
            }
            return Err(wrong_type(uri, "the object there is not a private key"));
        }
        many => {
            return Err(KeyError::AmbiguousKey {
                token: uri.token().to_owned(),
                uri: uri.key_name(),
                count: many.len(),
            });
        }
    };
    let attributes = login_session
        .get_attributes(
            key,
            &[
                AttributeType::KeyType,
                AttributeType::Sign,
                AttributeType::Decrypt,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
            ],
        )
        .map_err(fail)?;
    let mut key_type = None;
    let (mut can_sign, mut can_decrypt) = (false, false);
    let (mut modulus, mut exponent) = (None, None);
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(value) => key_type = Some(value),
            Attribute::Sign(value) => can_sign = value,
            Attribute::Decrypt(value) => can_decrypt = value,
            Attribute::Modulus(value) => modulus = Some(value),
            Attribute::PublicExponent(value) => exponent = Some(value),
            _ => {}
        }
    }
    match key_type {
        Some(KeyType::RSA) => {}
        Some(other) => return Err(wrong_type(uri, &format!("a {other} key, not RSA"))),
        None => return Err(wrong_type(uri, "the token does not say its key type")),
    }
    let modulus =
        modulus.ok_or_else(|| wrong_type(uri, "the token does not reveal its modulus"))?;
    let bits = unsigned_bits(&modulus);
    if !TOKEN_KEY_BITS.contains(&bits) {
        return Err(wrong_type(
            uri,
            &format!("an RSA key of {bits} bits (2048 to 8192 are accepted)"),
        ));
    }
    if !can_sign {
        return Err(wrong_type(uri, "the key may not sign (CKA_SIGN is false)"));
    }
    let exponent = match exponent {
        Some(exponent) => exponent,
        None => public_exponent(&login_session, uri)?,
    };
    Ok(Found {
        connection: Connection {
            slot,
            key,
            _login: login_session,
            idle: Vec::new(),
        },
        modulus,
        exponent,
        can_decrypt,
    })
}

/// The public exponent from the matching public key object, for tokens that do not keep it
/// on the private key.
fn public_exponent(session: &Session, uri: &Pkcs11Uri) -> Result<Vec<u8>, KeyError> {
    let fail = |err: CkError| module_error(uri, "open", &err);
    let mut template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY)];
    if let Some(label) = uri.object() {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = uri.id() {
        template.push(Attribute::Id(id.to_vec()));
    }
    let missing = || wrong_type(uri, "the token reveals no public exponent for the key");
    let public = *session
        .find_objects(&template)
        .map_err(fail)?
        .first()
        .ok_or_else(missing)?;
    session
        .get_attributes(public, &[AttributeType::PublicExponent])
        .map_err(fail)?
        .into_iter()
        .find_map(|a| match a {
            Attribute::PublicExponent(value) => Some(value),
            _ => None,
        })
        .ok_or_else(missing)
}

/// Logs in to the token when it asks for it, with the PIN from the source `uri` names.
pub(super) fn login(
    context: &Pkcs11,
    session: &Session,
    slot: Slot,
    uri: &Pkcs11Uri,
) -> Result<(), KeyError> {
    let info = context
        .get_token_info(slot)
        .map_err(|err| module_error(uri, "open", &err))?;
    if !info.login_required() {
        return Ok(());
    }
    let source = uri.pin_source().ok_or_else(|| KeyError::PinRequired {
        token: uri.token().to_owned(),
    })?;
    let pin = read_pin(source)?;
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) => Ok(()),
        Err(err) if rv(&err) == Some(RvError::UserAlreadyLoggedIn) => Ok(()),
        Err(err) => Err(module_error(uri, "log in", &err)),
    }
}

/// The token `uri` names, not found in its module.
pub(super) fn token_not_found(uri: &Pkcs11Uri) -> KeyError {
    KeyError::TokenNotFound {
        token: uri.token().to_owned(),
        module: uri.module_path().display().to_string(),
    }
}

/// The key `uri` names is not one we can use, for `reason`.
pub(super) fn wrong_type(uri: &Pkcs11Uri, reason: &str) -> KeyError {
    KeyError::WrongKeyType {
        uri: uri.key_name(),
        reason: reason.to_owned(),
    }
}

/// The SubjectPublicKeyInfo (rsaEncryption) of a modulus and exponent.
pub(super) fn rsa_spki(
    modulus: &[u8],
    exponent: &[u8],
) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
    let invalid = |err: der::Error| KeyError::InvalidPublicKey {
        reason: format!("the token's public key does not encode: {err}"),
    };
    let key = pkcs1::RsaPublicKey {
        modulus: UintRef::new(strip_zeros(modulus)).map_err(invalid)?,
        public_exponent: UintRef::new(strip_zeros(exponent)).map_err(invalid)?,
    };
    let der = key.to_der().map_err(invalid)?;
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::RSA_ENCRYPTION,
            parameters: Some(der::asn1::Any::from(der::asn1::AnyRef::NULL)),
        },
        subject_public_key: BitString::from_bytes(&der).map_err(invalid)?,
    })
}

/// A big-endian integer without its leading zero octets.
fn strip_zeros(mut bytes: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}
