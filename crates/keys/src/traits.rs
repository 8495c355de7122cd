//! What every private key offers, whatever holds it.

use std::fmt;

use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

use crate::{KeyError, KeyReference, SignatureAlgorithm};

/// Where the cryptography happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// aws-lc-rs: constant-time RSA and ECDSA in software (the default).
    AwsLc,
    /// The pure-Rust RustCrypto crates (`rsa`, `p256`, `p384`). The `rsa` crate carries
    /// RUSTSEC-2023-0071 (a timing side channel in decryption and signing).
    RustCrypto,
    /// A PKCS#11 token: the private key never leaves it.
    Pkcs11,
}

impl Backend {
    /// The software backend used when none is named: aws-lc-rs when built in, the RustCrypto
    /// crates otherwise.
    #[must_use]
    pub const fn software_default() -> Self {
        if cfg!(feature = "aws-lc-rs") {
            Self::AwsLc
        } else {
            Self::RustCrypto
        }
    }

    /// Whether this build has the backend.
    #[must_use]
    pub const fn is_built(self) -> bool {
        match self {
            Self::AwsLc => cfg!(feature = "aws-lc-rs"),
            Self::RustCrypto => cfg!(feature = "rust-crypto"),
            Self::Pkcs11 => cfg!(feature = "pkcs11"),
        }
    }

    /// The software backends this build has, the default first.
    #[must_use]
    pub fn software_built() -> Vec<Self> {
        [Self::AwsLc, Self::RustCrypto]
            .into_iter()
            .filter(|b| b.is_built())
            .collect()
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AwsLc => "aws-lc-rs",
            Self::RustCrypto => "rust-crypto",
            Self::Pkcs11 => "PKCS#11",
        })
    }
}

/// A holder of a private key that can sign: the only way issuance code signs anything
/// (certificates, the proof of possession in requests, CRLs, CMS licenses).
///
/// Every [`PrivateKey`] is one; an `Arc<dyn PrivateKey>` converts to an `Arc<dyn Signer>`.
pub trait Signer: Send + Sync {
    /// The signature algorithm [`sign`](Self::sign) uses, as it appears in certificates and
    /// SignerInfos (sha256WithRSAEncryption with NULL parameters for our RSA keys).
    fn algorithm(&self) -> AlgorithmIdentifierOwned;

    /// The public key matching the private key.
    fn public_key(&self) -> SubjectPublicKeyInfoOwned;

    /// Signs `message` (the signer hashes it) and returns the raw signature value.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError>;
}

/// An RSA private key, in software or in a token: signing, RSA-OAEP decryption, and how it is
/// stored. Shared as `Arc<dyn PrivateKey>`; every method may be called from several threads.
pub trait PrivateKey: Signer + fmt::Debug {
    /// Size of the modulus in bits.
    fn bits(&self) -> usize;

    /// Who does the private-key operations.
    fn backend(&self) -> Backend;

    /// Signs `message` with `algorithm`: RSASSA-PKCS1-v1_5 with SHA-256/384/512, or
    /// RSASSA-PSS with a salt as long as the hash.
    fn sign_with(&self, algorithm: SignatureAlgorithm, message: &[u8])
    -> Result<Vec<u8>, KeyError>;

    /// Decrypts one RSAES-OAEP block (SHA-256, MGF1-SHA-256, empty label). Every way the
    /// ciphertext can be wrong gives the same [`KeyError::Decryption`].
    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError>;

    /// How to find the key again: a software key as PKCS#8 encrypted under `passphrase`, a
    /// token's key by its PKCS#11 URI (`passphrase` is then not used).
    fn to_reference(&self, passphrase: &[u8]) -> Result<KeyReference, KeyError>;
}
