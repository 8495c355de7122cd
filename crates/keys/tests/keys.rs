//! Integration tests of rms-keys: software backends against each other and OpenSSL, stored
//! keys, and PKCS#11 against SoftHSM2.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod keys {
    pub(crate) mod common;
    mod openssl;
    #[cfg(feature = "pkcs11")]
    mod pkcs11;
    mod software;
    mod stored;
}
