//! RSA keys in memory: generation, PKCS#8 in and out (plain and passphrase-encrypted).

use std::fmt;

use der::Decode;
use der::pem::{LineEnding, PemLabel};
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

use crate::public::not_built;
use crate::{Backend, KeyError, KeyReference, PrivateKey, SignatureAlgorithm, Signer};

/// The RSA key sizes this crate generates, in bits. 2048 is the default.
pub const KEY_SIZES: [usize; 3] = [2048, 3072, 4096];

enum Inner {
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(crate::aws_lc::RsaPrivate),
    #[cfg(feature = "rust-crypto")]
    RustCrypto(Box<crate::rust_crypto::RsaPrivate>),
}

/// An RSA private key in memory, held by a software backend (aws-lc-rs by default).
///
/// Keys are written as PKCS#8, in the clear or encrypted with a passphrase (PBES2 with scrypt,
/// N = 2^14, r = 8, p = 1, and AES-256-CBC: what `openssl pkcs8 -topk8 -scrypt` writes, and
/// what OpenSSL reads). Any RSA PKCS#8 key reads, whoever wrote it.
pub struct SoftwareKey {
    inner: Inner,
    public_key: SubjectPublicKeyInfoOwned,
    bits: usize,
}

impl fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("backend", &self.backend())
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

fn pkcs8_error(what: &'static str) -> impl Fn(pkcs8::Error) -> KeyError {
    move |err| KeyError::Pkcs8 {
        what,
        reason: err.to_string(),
    }
}

fn pem_error<E: fmt::Display>(what: &'static str) -> impl Fn(E) -> KeyError {
    move |err| KeyError::Pkcs8 {
        what,
        reason: err.to_string(),
    }
}

impl SoftwareKey {
    /// Generates a key of `bits` bits (2048, 3072 or 4096) with the default software backend.
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        Self::generate_with(Backend::software_default(), bits)
    }

    /// Generates a key of `bits` bits (2048, 3072 or 4096) with `backend`, from the
    /// operating system's CSPRNG.
    pub fn generate_with(backend: Backend, bits: usize) -> Result<Self, KeyError> {
        if !KEY_SIZES.contains(&bits) {
            return Err(KeyError::UnsupportedKeySize { bits });
        }
        let inner = match backend {
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => Inner::AwsLc(crate::aws_lc::RsaPrivate::generate(bits)?),
            #[cfg(feature = "rust-crypto")]
            Backend::RustCrypto => {
                Inner::RustCrypto(Box::new(crate::rust_crypto::RsaPrivate::generate(bits)?))
            }
            other => return Err(software_only(other)),
        };
        Self::from_inner(inner)
    }

    /// Reads an unencrypted PKCS#8 RSA private key (DER) with the default software backend.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_pkcs8_der_with(Backend::software_default(), der)
    }

    /// Reads an unencrypted PKCS#8 RSA private key (DER) with `backend`.
    pub fn from_pkcs8_der_with(backend: Backend, der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(pem_error("read PKCS#8 DER"))?;
        if info.algorithm.oid != const_oid::db::rfc5912::RSA_ENCRYPTION {
            return Err(KeyError::NotRsa {
                oid: info.algorithm.oid,
            });
        }
        let inner = match backend {
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => Inner::AwsLc(crate::aws_lc::RsaPrivate::from_pkcs8(der)?),
            #[cfg(feature = "rust-crypto")]
            Backend::RustCrypto => {
                Inner::RustCrypto(Box::new(crate::rust_crypto::RsaPrivate::from_pkcs8(der)?))
            }
            other => return Err(software_only(other)),
        };
        Self::from_inner(inner)
    }

    /// Reads an unencrypted PKCS#8 private key (PEM, `PRIVATE KEY`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let der = decode_pem(pem, PrivateKeyInfoRef::PEM_LABEL, "read PKCS#8 PEM")?;
        Self::from_pkcs8_der(&der)
    }

    /// Reads a passphrase-encrypted PKCS#8 private key (DER) with the default software
    /// backend: the cluster's format at rest, and what `openssl pkcs8 -topk8` writes.
    pub fn from_encrypted_pkcs8_der(der: &[u8], passphrase: &[u8]) -> Result<Self, KeyError> {
        Self::from_encrypted_pkcs8_der_with(Backend::software_default(), der, passphrase)
    }

    /// [`from_encrypted_pkcs8_der`](Self::from_encrypted_pkcs8_der) with `backend`.
    pub fn from_encrypted_pkcs8_der_with(
        backend: Backend,
        der: &[u8],
        passphrase: &[u8],
    ) -> Result<Self, KeyError> {
        let encrypted = EncryptedPrivateKeyInfoRef::from_der(der)
            .map_err(pem_error("read encrypted PKCS#8 DER"))?;
        let plain = encrypted
            .decrypt(passphrase)
            .map_err(|_| KeyError::WrongPassphrase)?;
        Self::from_pkcs8_der_with(backend, plain.as_bytes())
    }

    /// Reads a passphrase-encrypted PKCS#8 private key (PEM, `ENCRYPTED PRIVATE KEY`).
    pub fn from_encrypted_pkcs8_pem(pem: &str, passphrase: &[u8]) -> Result<Self, KeyError> {
        let der = decode_pem(
            pem,
            EncryptedPrivateKeyInfoRef::PEM_LABEL,
            "read encrypted PKCS#8 PEM",
        )?;
        Self::from_encrypted_pkcs8_der(&der, passphrase)
    }

    fn from_inner(inner: Inner) -> Result<Self, KeyError> {
        let (spki_der, bits) = match &inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(key) => (key.spki_der()?, key.bits()),
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(key) => (key.spki_der()?, key.bits()),
        };
        let public_key = SubjectPublicKeyInfoOwned::from_der(&spki_der).map_err(|err| {
            KeyError::InvalidPublicKey {
                reason: err.to_string(),
            }
        })?;
        Ok(Self {
            inner,
            public_key,
            bits,
        })
    }

    /// The key as unencrypted PKCS#8 DER. This is the secret key in the clear: prefer
    /// [`to_encrypted_pkcs8_der`](Self::to_encrypted_pkcs8_der) for anything stored.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match &self.inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(key) => key.to_pkcs8(),
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(key) => key.to_pkcs8(),
        }
    }

    /// The key as unencrypted PKCS#8 PEM (`PRIVATE KEY`), as `openssl genpkey` writes it.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let der = self.to_pkcs8_der()?;
        der::pem::encode_string(PrivateKeyInfoRef::PEM_LABEL, LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(pem_error("write PKCS#8 PEM"))
    }

    /// The key as PKCS#8 encrypted with `passphrase` (PBES2: scrypt with N = 2^14, r = 8,
    /// p = 1, and AES-256-CBC; see [`SCRYPT_LOG_N`]), DER.
    pub fn to_encrypted_pkcs8_der(&self, passphrase: &[u8]) -> Result<Vec<u8>, KeyError> {
        let plain = self.to_pkcs8_der()?;
        let info = PrivateKeyInfoRef::from_der(&plain).map_err(pem_error("encrypt PKCS#8"))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        for buffer in [&mut salt, &mut iv] {
            getrandom::fill(buffer).map_err(|e| KeyError::Pkcs8 {
                what: "encrypt PKCS#8",
                reason: format!("the system's random source failed: {e}"),
            })?;
        }
        let invalid = |e: &dyn fmt::Display| KeyError::Pkcs8 {
            what: "encrypt PKCS#8",
            reason: e.to_string(),
        };
        let params = pkcs8::pkcs5::scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
            .map_err(|e| invalid(&e))?;
        let pbes2 = pkcs8::pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(params, &salt, iv)
            .map_err(|e| invalid(&e))?;
        let encrypted = info
            .encrypt_with_params(pbes2, passphrase)
            .map_err(pkcs8_error("encrypt PKCS#8"))?;
        Ok(encrypted.as_bytes().to_vec())
    }

    /// The key as PKCS#8 encrypted with `passphrase`, PEM (`ENCRYPTED PRIVATE KEY`).
    pub fn to_encrypted_pkcs8_pem(&self, passphrase: &[u8]) -> Result<String, KeyError> {
        let der = self.to_encrypted_pkcs8_der(passphrase)?;
        der::pem::encode_string(EncryptedPrivateKeyInfoRef::PEM_LABEL, LineEnding::LF, &der)
            .map_err(pem_error("write encrypted PKCS#8 PEM"))
    }
}

/// scrypt's cost for keys encrypted at rest: N = 2^14 (with r = 8: 16 MiB of memory, about
/// 50 ms per derivation here). Chosen for OpenSSL: `openssl pkcs8` must read every key we write
/// (the authority's key, exported cluster keys), and OpenSSL 3 refuses scrypt above 32 MiB by
/// default, which N = 2^15 with r = 8 already exceeds ("memory limit exceeded"). The cluster
/// secret we generate is 256 random bits, which no work factor needs to protect; an operator
/// who chooses a secret themselves (`RMS_CLUSTER_SECRET`) should make it long and random for
/// the same reason. Keys written with other parameters are read with the ones they carry.
pub const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

fn software_only(backend: Backend) -> KeyError {
    if backend == Backend::Pkcs11 {
        KeyError::NotSupportedByBackend {
            backend,
            operation: "hold a software key (use Pkcs11Key)",
        }
    } else {
        not_built(backend)
    }
}

/// The DER in a PEM block labelled `label`, zeroized when dropped.
fn decode_pem(
    pem: &str,
    label: &'static str,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let (found, der) = der::pem::decode_vec(pem.as_bytes()).map_err(pem_error(what))?;
    let der = Zeroizing::new(der);
    if found != label {
        return Err(KeyError::Pkcs8 {
            what,
            reason: format!("the PEM label is {found:?}, not {label:?}"),
        });
    }
    Ok(der)
}

impl Signer for SoftwareKey {
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

impl PrivateKey for SoftwareKey {
    fn bits(&self) -> usize {
        self.bits
    }

    fn backend(&self) -> Backend {
        match self.inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(_) => Backend::AwsLc,
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(_) => Backend::RustCrypto,
        }
    }

    fn sign_with(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(key) => key.sign(algorithm, message),
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(key) => key.sign(algorithm, message),
        }
    }

    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match &self.inner {
            #[cfg(feature = "aws-lc-rs")]
            Inner::AwsLc(key) => key.decrypt_oaep_sha256(ciphertext),
            #[cfg(feature = "rust-crypto")]
            Inner::RustCrypto(key) => key.decrypt_oaep_sha256(ciphertext),
        }
    }

    fn to_reference(&self, passphrase: &[u8]) -> Result<KeyReference, KeyError> {
        Ok(KeyReference::SoftwarePkcs8 {
            encrypted_der: self.to_encrypted_pkcs8_der(passphrase)?,
        })
    }
}
