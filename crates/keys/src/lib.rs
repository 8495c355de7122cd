//! # rms-keys: the key backends
//!
//! Every private-key and public-key operation of the rights-management PKI goes through this
//! crate, whatever holds the key:
//!
//! - [`PrivateKey`] (shared as `Arc<dyn PrivateKey>`, and a [`Signer`]): RSASSA-PKCS1-v1_5
//!   and RSASSA-PSS signing, RSAES-OAEP (SHA-256, MGF1-SHA-256) decryption of content keys
//!   into a zeroizing buffer, and how the key is stored ([`PrivateKey::to_reference`]).
//!   - [`SoftwareKey`]: in memory, with **aws-lc-rs** (the default, constant-time; feature
//!     `aws-lc-rs`, `fips` for its FIPS module) or the pure-Rust **`rsa`** crate (feature
//!     `rust-crypto`, which carries RUSTSEC-2023-0071); PKCS#8 in and out, encrypted at rest
//!     under a passphrase exactly as OpenSSL writes and reads it.
//!   - [`Pkcs11Key`] (feature `pkcs11`): inside a token, named by an RFC 7512 URI
//!     ([`Pkcs11Uri`]); generated there non-extractable, PIN from a file or an environment
//!     variable, sessions pooled, reconnecting after the token comes back.
//! - [`PublicKey`]: parsed once from a SubjectPublicKeyInfo (RSA, ECDSA P-256 and P-384),
//!   then [`verify`](PublicKey::verify) and [`encrypt_oaep_sha256`](PublicKey::encrypt_oaep_sha256).
//! - [`KeyReference`]: what a configuration stores for a key (encrypted PKCS#8, or a URI), and
//!   [`KeyReference::open`]; [`KeyLocation`]: where a new key is generated (`--key`).
//!
//! Errors are one [`KeyError`]; [`KeyError::is_unavailable`] marks a token outage, which a
//! server answers with 503.
//!
//! # Example
//!
//! ```
//! use rms_keys::{KeyReference, PrivateKey, PublicKey, SignatureAlgorithm, SoftwareKey};
//!
//! let key = SoftwareKey::generate(2048)?;
//! let signature = key.sign_with(SignatureAlgorithm::RSA_PKCS1_SHA256, b"license")?;
//! let public = PublicKey::from_spki(&rms_keys::Signer::public_key(&key))?;
//! public.verify(SignatureAlgorithm::RSA_PKCS1_SHA256, b"license", &signature)?;
//!
//! let wrapped = public.encrypt_oaep_sha256(&[7; 32])?;
//! assert_eq!(&key.decrypt_oaep_sha256(&wrapped)?[..], &[7; 32]);
//!
//! // Stored encrypted under the cluster secret, opened again.
//! let stored = key.to_reference(b"cluster secret")?.to_stored();
//! let opened = KeyReference::from_stored(&stored)?.open(b"cluster secret")?;
//! assert_eq!(opened.public_key(), rms_keys::Signer::public_key(&key));
//! # Ok::<(), rms_keys::KeyError>(())
//! ```

#![forbid(unsafe_code)]

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!("rms-keys needs a software backend: enable `aws-lc-rs` (default) or `rust-crypto`");

pub use zeroize::Zeroizing;

pub use crate::algorithm::{
    HashAlg, SignatureAlgorithm, oaep_sha256_identifier, rsa_pkcs1_sha256_identifier,
};
pub use crate::error::KeyError;
#[cfg(feature = "pkcs11")]
pub use crate::pkcs11::{KeyProtection, Pkcs11Key};
pub use crate::public::{PublicKey, PublicKeyKind, RSA_VERIFY_BITS};
pub use crate::reference::{KeyLocation, KeyReference};
pub use crate::software::{KEY_SIZES, SCRYPT_LOG_N, SoftwareKey};
pub use crate::traits::{Backend, PrivateKey, Signer};
pub use crate::uri::{PinSource, Pkcs11Uri, UriError};

mod algorithm;
#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
mod error;
#[cfg(feature = "pkcs11")]
mod pkcs11;
mod public;
mod reference;
#[cfg(feature = "rust-crypto")]
mod rust_crypto;
mod software;
mod traits;
mod uri;
