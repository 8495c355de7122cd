//! The one error type of this crate.

use const_oid::ObjectIdentifier;

use crate::Backend;

/// Why a key operation failed. Ranked roughly from the caller's input to the backend's state.
///
/// [`KeyError::is_unavailable`] tells an outage of a token (to be answered with 503 and
/// retried) from everything else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// RSA keys are generated with 2048, 3072 or 4096 bits.
    #[error("RSA keys are generated with 2048, 3072 or 4096 bits, not {bits}")]
    UnsupportedKeySize {
        /// The size asked for.
        bits: usize,
    },
    /// The backend was not compiled into this build.
    #[error("the {backend} backend is not part of this build (enable its cargo feature)")]
    BackendNotBuilt {
        /// The backend asked for.
        backend: Backend,
    },
    /// The backend does not do this operation (e.g. a key size or algorithm it refuses).
    #[error("the {backend} backend cannot {operation}")]
    NotSupportedByBackend {
        /// The backend.
        backend: Backend,
        /// What was asked of it.
        operation: &'static str,
    },
    /// A signature algorithm we do not verify or make.
    #[error("signature algorithm {oid} is not supported")]
    UnsupportedAlgorithm {
        /// Its object identifier.
        oid: ObjectIdentifier,
    },
    /// A supported signature algorithm with parameters we refuse.
    #[error("bad signature algorithm parameters: {reason}")]
    AlgorithmParameters {
        /// What is wrong with them.
        reason: &'static str,
    },
    /// A public key algorithm (or curve) we do not support.
    #[error("public key algorithm or curve {oid} is not supported")]
    UnsupportedKeyType {
        /// The algorithm's or curve's object identifier.
        oid: ObjectIdentifier,
    },
    /// A public key that does not decode or is not usable.
    #[error("invalid public key: {reason}")]
    InvalidPublicKey {
        /// What is wrong with it.
        reason: String,
    },
    /// An RSA key outside the sizes this crate works with (1024 to 8192 bits; 2048 to 8192
    /// for everything but PKCS#1 v1.5 verification with SHA-256 or SHA-512).
    #[error("an RSA key of {bits} bits is outside the supported sizes")]
    RsaKeySize {
        /// The key's size.
        bits: usize,
    },
    /// The signature algorithm does not fit the key (e.g. ECDSA with an RSA key, PKCS#1 v1.5
    /// with a key published as RSASSA-PSS only).
    #[error("the signature algorithm does not fit the key")]
    KeyMismatch,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// RSA-OAEP decryption failed. Deliberately says nothing more (RFC 8017 §7.1.2).
    #[error("RSA-OAEP decryption failed")]
    Decryption,
    /// The plaintext does not fit in one RSA-OAEP block of the key.
    #[error("{len} octets do not fit in RSA-OAEP under this key (at most {max})")]
    PlaintextTooLong {
        /// The plaintext's length.
        len: usize,
        /// The most the key takes.
        max: usize,
    },
    /// A private key that is not RSA.
    #[error("the private key is not an RSA key (algorithm {oid})")]
    NotRsa {
        /// Its algorithm.
        oid: ObjectIdentifier,
    },
    /// A PKCS#8 structure that could not be read, decrypted or written.
    #[error("cannot {what}: {reason}")]
    Pkcs8 {
        /// What was being done (e.g. "decrypt PKCS#8 DER").
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// An encrypted PKCS#8 key that does not decrypt under the passphrase given.
    #[error("the encrypted private key does not decrypt with this passphrase (or is damaged)")]
    WrongPassphrase,
    /// The software backend failed on its own (not the input's fault).
    #[error("the {backend} backend failed to {operation}")]
    Backend {
        /// The backend.
        backend: Backend,
        /// What it was doing.
        operation: &'static str,
    },
    /// A PKCS#11 URI that does not parse or names something we refuse.
    #[error("bad PKCS#11 URI")]
    Uri(#[from] crate::UriError),
    /// The PIN could not be read from where the URI's `pin-source` says.
    #[error("cannot read the PIN from {source_name}: {reason}")]
    PinSource {
        /// Where the PIN was looked for (`file:...` or `env:...`, never the PIN).
        source_name: String,
        /// Why it could not be read.
        reason: String,
    },
    /// The token needs a PIN and the URI has no `pin-source`.
    #[error(
        "token {token:?} requires a PIN: add pin-source=file:PATH or pin-source=env:NAME to the URI"
    )]
    PinRequired {
        /// The token's label.
        token: String,
    },
    /// The PKCS#11 module could not be loaded or initialised.
    #[error("cannot load the PKCS#11 module {path}: {reason}")]
    ModuleNotFound {
        /// The module path.
        path: String,
        /// Why.
        reason: String,
    },
    /// No slot holds a token with that label.
    #[error("no token labelled {token:?} in the PKCS#11 module {module}")]
    TokenNotFound {
        /// The label asked for.
        token: String,
        /// The module searched.
        module: String,
    },
    /// The token refused the PIN.
    #[error("the token {token:?} refused the PIN")]
    WrongPin {
        /// The token's label.
        token: String,
    },
    /// The token's user PIN is locked (too many wrong PINs).
    #[error("the user PIN of token {token:?} is locked")]
    PinLocked {
        /// The token's label.
        token: String,
    },
    /// No private key at that URI.
    #[error("no private key in token {token:?} matches {uri}")]
    KeyNotFound {
        /// The token's label.
        token: String,
        /// The URI, without its query.
        uri: String,
    },
    /// More than one private key matches the URI.
    #[error("{count} private keys in token {token:?} match {uri}: add object= or id= to name one")]
    AmbiguousKey {
        /// The token's label.
        token: String,
        /// The URI, without its query.
        uri: String,
        /// How many keys matched.
        count: usize,
    },
    /// The key at the URI is not a usable RSA key (wrong type, size or attributes).
    #[error("the key at {uri} cannot serve: {reason}")]
    WrongKeyType {
        /// The URI, without its query.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Generation refused: a key already exists at the URI.
    #[error("a key already exists at {uri}")]
    KeyExists {
        /// The URI, without its query.
        uri: String,
    },
    /// The token is absent, removed, locked or failing: retry later. Servers answer 503.
    #[error("the token {token:?} is unavailable: {reason}")]
    TokenUnavailable {
        /// The token's label.
        token: String,
        /// What the module said.
        reason: String,
    },
    /// Any other PKCS#11 failure.
    #[error("PKCS#11 {operation} failed: {reason}")]
    Pkcs11 {
        /// The operation.
        operation: &'static str,
        /// What the module said.
        reason: String,
    },
}

impl KeyError {
    /// Whether this is an outage of the key's token (absent, removed, not answering): the
    /// operation may succeed later without any change of configuration. A server answers a
    /// request that fails so with 503, not 500.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::TokenUnavailable { .. })
    }
}
