//! Keys inside a PKCS#11 token (a hardware security module; SoftHSM2 in tests).

mod connect;
mod key;
mod module;
mod oaep;

pub use key::{KeyProtection, Pkcs11Key};
