//! An RSA private key inside a PKCS#11 token.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

use super::connect::{Connection, connect, login, rsa_spki, token_not_found, wrong_type};
use super::module::{context, find_slot, is_session_lost, module_error, rv, short};
use super::oaep;
use crate::public::unsigned_bits;
use crate::{
    Backend, HashAlg, KEY_SIZES, KeyError, KeyReference, Pkcs11Uri, PrivateKey, SignatureAlgorithm,
    Signer,
};

/// Sessions kept open for reuse beyond the one that holds the login.
const MAX_IDLE_SESSIONS: usize = 8;

/// What protects a token's key, as the token reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyProtection {
    /// CKA_SENSITIVE: the private parts are never revealed in the clear.
    pub sensitive: bool,
    /// CKA_EXTRACTABLE: the key may be wrapped out of the token.
    pub extractable: bool,
    /// CKA_NEVER_EXTRACTABLE: the key was never extractable.
    pub never_extractable: bool,
    /// Whether the token answered a request for CKA_PRIVATE_EXPONENT with its value.
    pub private_exponent_readable: bool,
}

struct State {
    connection: Option<Connection>,
    /// Raised whenever the connection is dropped, so that a session of an older connection
    /// is not put back.
    generation: u64,
}

/// An RSA private key that stays inside a PKCS#11 token: signing (CKM_SHA256_RSA_PKCS and
/// its SHA-384/512 and PSS siblings) and RSA-OAEP decryption (CKM_RSA_PKCS_OAEP with SHA-256
/// and MGF1-SHA-256) happen in the token.
///
/// Operations take a session from a small pool (a PKCS#11 session serves one call at a time).
/// When the module says the session, the login or the token went away, the key reconnects
/// (finds the token again, logs in again, finds the key and checks it is the same one) and
/// tries once more; if that fails the error is [`KeyError::TokenUnavailable`], and the next
/// operation tries to reconnect again.
pub struct Pkcs11Key {
    uri: Pkcs11Uri,
    context: Pkcs11,
    public_key: SubjectPublicKeyInfoOwned,
    modulus: Vec<u8>,
    bits: usize,
    can_decrypt: bool,
    /// Whether the token does RSA-OAEP with SHA-256 itself; if not, it does raw RSA and the
    /// padding is checked here in constant time (`oaep.rs`).
    oaep_in_token: AtomicBool,
    state: Mutex<State>,
}

impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("key", &self.uri.key_name())
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Key {
    /// Opens the RSA private key the URI names: loads the module, finds the token, logs in
    /// with the PIN from the URI's `pin-source`, finds exactly one private key and checks it
    /// is RSA of 2048 to 8192 bits allowed to sign.
    pub fn open(uri: &Pkcs11Uri) -> Result<Self, KeyError> {
        let context = context(uri.module_path())?;
        let found = connect(&context, uri)?;
        let bits = unsigned_bits(&found.modulus);
        let public_key = rsa_spki(&found.modulus, &found.exponent)?;
        Ok(Self {
            uri: uri.clone(),
            context,
            public_key,
            modulus: found.modulus,
            bits,
            can_decrypt: found.can_decrypt,
            oaep_in_token: AtomicBool::new(true),
            state: Mutex::new(State {
                connection: Some(found.connection),
                generation: 0,
            }),
        })
    }

    /// Generates an RSA key pair of `bits` bits (2048, 3072 or 4096) inside the token the URI
    /// names, labelled with its `object` and identified by its `id` (16 random octets if the
    /// URI has none): the private key is a token object, private, sensitive, never
    /// extractable, for signing and decryption. Refuses if a private key with that label or
    /// id exists. Returns the key, whose [`uri`](Self::uri) names it by id.
    pub fn generate(uri: &Pkcs11Uri, bits: usize) -> Result<Self, KeyError> {
        if !KEY_SIZES.contains(&bits) {
            return Err(KeyError::UnsupportedKeySize { bits });
        }
        let context = context(uri.module_path())?;
        let id = match uri.id() {
            Some(id) => id.to_vec(),
            None => {
                let mut id = vec![0; 16];
                getrandom::fill(&mut id).map_err(|err| KeyError::Pkcs11 {
                    operation: "generate",
                    reason: format!("no randomness for the key id: {err}"),
                })?;
                id
            }
        };
        let uri = uri.clone().with_id(id.clone());
        let fail = |err: CkError| module_error(&uri, "generate", &err);
        let slot = find_slot(&context, &uri)
            .map_err(fail)?
            .ok_or_else(|| token_not_found(&uri))?;
        let session = context.open_rw_session(slot).map_err(fail)?;
        login(&context, &session, slot, &uri)?;
        let mut exists = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Id(id.clone()),
            ])
            .map_err(fail)?;
        if let Some(label) = uri.object() {
            exists.extend(
                session
                    .find_objects(&[
                        Attribute::Class(ObjectClass::PRIVATE_KEY),
                        Attribute::Label(label.as_bytes().to_vec()),
                    ])
                    .map_err(fail)?,
            );
        }
        if !exists.is_empty() {
            return Err(KeyError::KeyExists {
                uri: uri.key_name(),
            });
        }
        let bits_attribute =
            cryptoki::types::Ulong::try_from(bits).map_err(|err| KeyError::Pkcs11 {
                operation: "generate",
                reason: err.to_string(),
            })?;
        let mut public = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::ModulusBits(bits_attribute),
            Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
            Attribute::Verify(true),
            Attribute::Encrypt(true),
            Attribute::Id(id.clone()),
        ];
        let mut private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(true),
            Attribute::Id(id),
        ];
        if let Some(label) = uri.object() {
            public.push(Attribute::Label(label.as_bytes().to_vec()));
            private.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        session
            .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
            .map_err(fail)?;
        drop(session);
        Self::open(&uri)
    }

    /// The URI the key was opened by.
    #[must_use]
    pub fn uri(&self) -> &Pkcs11Uri {
        &self.uri
    }

    /// What the token says protects the key.
    pub fn protection(&self) -> Result<KeyProtection, KeyError> {
        self.with_session("read attributes", |session, key| {
            let flags = session.get_attributes(
                key,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::NeverExtractable,
                ],
            )?;
            let mut protection = KeyProtection {
                sensitive: false,
                extractable: true,
                never_extractable: false,
                private_exponent_readable: false,
            };
            for flag in flags {
                match flag {
                    Attribute::Sensitive(value) => protection.sensitive = value,
                    Attribute::Extractable(value) => protection.extractable = value,
                    Attribute::NeverExtractable(value) => protection.never_extractable = value,
                    _ => {}
                }
            }
            let info = session.get_attribute_info(key, &[AttributeType::PrivateExponent])?;
            protection.private_exponent_readable =
                matches!(info.first(), Some(AttributeInfo::Available(_)));
            Ok(protection)
        })
    }

    /// Closes every session this key holds (which ends its login), as removing the token
    /// would: the next operation reconnects. For an operator who replaced the token, and for
    /// tests of recovery.
    pub fn reset(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.connection = None;
            state.generation = state.generation.wrapping_add(1);
        }
    }

    /// Runs `operation` with a session of the pool and the key's handle, reconnecting once
    /// if the module says the session or token went away.
    fn with_session<T>(
        &self,
        what: &'static str,
        operation: impl Fn(&Session, ObjectHandle) -> Result<T, CkError>,
    ) -> Result<T, KeyError> {
        let mut retried = false;
        loop {
            let (session, key, generation) = self.checkout()?;
            match operation(&session, key) {
                Ok(value) => {
                    self.checkin(session, generation);
                    return Ok(value);
                }
                Err(err) if is_session_lost(&err) => {
                    drop(session);
                    self.drop_connection(generation);
                    if retried {
                        return Err(self.unavailable(&err));
                    }
                    retried = true;
                }
                Err(err) => {
                    self.checkin(session, generation);
                    return Err(module_error(&self.uri, what, &err));
                }
            }
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, KeyError> {
        self.state.lock().map_err(|_| KeyError::TokenUnavailable {
            token: self.uri.token().to_owned(),
            reason: "a thread panicked holding the session pool".into(),
        })
    }

    fn checkout(&self) -> Result<(Session, ObjectHandle, u64), KeyError> {
        let mut state = self.lock()?;
        if state.connection.is_none() {
            state.connection = Some(self.reconnect()?);
        }
        let generation = state.generation;
        let Some(connection) = state.connection.as_mut() else {
            return Err(self.unavailable_because("no connection"));
        };
        let key = connection.key;
        if let Some(session) = connection.idle.pop() {
            return Ok((session, key, generation));
        }
        match self.context.open_ro_session(connection.slot) {
            Ok(session) => Ok((session, key, generation)),
            Err(err) => {
                state.connection = None;
                state.generation = state.generation.wrapping_add(1);
                Err(self.unavailable(&err))
            }
        }
    }

    fn checkin(&self, session: Session, generation: u64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.generation != generation {
            return;
        }
        if let Some(connection) = state.connection.as_mut()
            && connection.idle.len() < MAX_IDLE_SESSIONS
        {
            connection.idle.push(session);
        }
    }

    fn drop_connection(&self, generation: u64) {
        if let Ok(mut state) = self.state.lock()
            && state.generation == generation
        {
            state.connection = None;
            state.generation = state.generation.wrapping_add(1);
        }
    }

    /// Connects again, checking that the URI still names the same key.
    fn reconnect(&self) -> Result<Connection, KeyError> {
        let found = connect(&self.context, &self.uri).map_err(|err| match err {
            // The token was there when the key was opened: its absence now is an outage.
            KeyError::TokenNotFound { .. } | KeyError::KeyNotFound { .. } => {
                self.unavailable_because(&err.to_string())
            }
            other => other,
        })?;
        if found.modulus != self.modulus {
            return Err(KeyError::WrongKeyType {
                uri: self.uri.key_name(),
                reason: "the token now holds another key at this URI".into(),
            });
        }
        Ok(found.connection)
    }

    fn unavailable(&self, err: &CkError) -> KeyError {
        self.unavailable_because(&short(err))
    }

    fn unavailable_because(&self, reason: &str) -> KeyError {
        KeyError::TokenUnavailable {
            token: self.uri.token().to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// Whether the token refuses the mechanism or its parameters (as SoftHSM 2.6 refuses OAEP
/// with SHA-256), as opposed to the ciphertext.
fn refuses_mechanism(err: &CkError) -> bool {
    matches!(
        rv(err),
        Some(RvError::ArgumentsBad | RvError::MechanismInvalid | RvError::MechanismParamInvalid)
    )
}

fn mechanism(algorithm: SignatureAlgorithm) -> Result<Mechanism<'static>, KeyError> {
    let pss = |hash_alg, mgf, salt_len: usize| {
        let s_len = cryptoki::types::Ulong::try_from(salt_len).map_err(|_| {
            KeyError::AlgorithmParameters {
                reason: "a PSS salt longer than the token takes",
            }
        })?;
        Ok::<_, KeyError>(PkcsPssParams {
            hash_alg,
            mgf,
            s_len,
        })
    };
    Ok(match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256) => Mechanism::Sha256RsaPkcs,
        SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha384) => Mechanism::Sha384RsaPkcs,
        SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha512) => Mechanism::Sha512RsaPkcs,
        SignatureAlgorithm::RsaPss { hash, salt_len } => match hash {
            HashAlg::Sha256 => Mechanism::Sha256RsaPkcsPss(pss(
                MechanismType::SHA256,
                PkcsMgfType::MGF1_SHA256,
                salt_len,
            )?),
            HashAlg::Sha384 => Mechanism::Sha384RsaPkcsPss(pss(
                MechanismType::SHA384,
                PkcsMgfType::MGF1_SHA384,
                salt_len,
            )?),
            HashAlg::Sha512 => Mechanism::Sha512RsaPkcsPss(pss(
                MechanismType::SHA512,
                PkcsMgfType::MGF1_SHA512,
                salt_len,
            )?),
        },
        SignatureAlgorithm::Ecdsa(_) => return Err(KeyError::KeyMismatch),
    })
}

impl Signer for Pkcs11Key {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        crate::algorithm::rsa_pkcs1_sha256_identifier()
    }

    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.public_key.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.sign_with(SignatureAlgorithm::RSA_PKCS1_SHA256, message)
    }
}

impl PrivateKey for Pkcs11Key {
    fn bits(&self) -> usize {
        self.bits
    }

    fn backend(&self) -> Backend {
        Backend::Pkcs11
    }

    fn sign_with(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let mechanism = mechanism(algorithm)?;
        self.with_session("sign", |session, key| {
            session.sign(&mechanism, key, message)
        })
    }

    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if !self.can_decrypt {
            return Err(wrong_type(
                &self.uri,
                "the key may not decrypt (CKA_DECRYPT is false)",
            ));
        }
        if self.oaep_in_token.load(Ordering::Relaxed) {
            let params = PkcsOaepParams::new(
                MechanismType::SHA256,
                PkcsMgfType::MGF1_SHA256,
                PkcsOaepSource::empty(),
            );
            let mechanism = Mechanism::RsaPkcsOaep(params);
            let decrypted = self.with_session("decrypt", |session, key| {
                match session.decrypt(&mechanism, key, ciphertext) {
                    Ok(plain) => Ok(Some(Zeroizing::new(plain))),
                    Err(err) if refuses_mechanism(&err) => Ok(None),
                    Err(err) => Err(err),
                }
            })?;
            match decrypted {
                Some(plain) => return Ok(plain),
                None => self.oaep_in_token.store(false, Ordering::Relaxed),
            }
        }
        let k = self.bits.div_ceil(8);
        let encoded = self.with_session("decrypt", |session, key| {
            session
                .decrypt(&Mechanism::RsaX509, key, ciphertext)
                .map(Zeroizing::new)
        })?;
        // Some tokens drop the leading zero octets of the raw result.
        let mut padded = Zeroizing::new(vec![0; k.saturating_sub(encoded.len())]);
        padded.extend_from_slice(&encoded);
        oaep::decode(&padded, k)
    }

    fn to_reference(&self, _passphrase: &[u8]) -> Result<KeyReference, KeyError> {
        Ok(KeyReference::Pkcs11 {
            uri: self.uri.clone(),
        })
    }
}
