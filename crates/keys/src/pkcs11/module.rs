//! PKCS#11 modules (one context per module per process), PINs, and what module errors mean.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use crate::{KeyError, PinSource, Pkcs11Uri};

/// The contexts of the modules this process loaded. A context is never finalized: C_Finalize
/// ends every session of the process with the module, whoever opened them.
fn contexts() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The initialized context of the module at `path`, loading it on first use.
pub(crate) fn context(path: &Path) -> Result<Pkcs11, KeyError> {
    let not_found = |reason: String| KeyError::ModuleNotFound {
        path: path.display().to_string(),
        reason,
    };
    let canonical = path
        .canonicalize()
        .map_err(|err| not_found(err.to_string()))?;
    let mut contexts = contexts()
        .lock()
        .map_err(|_| not_found("the module registry is poisoned".into()))?;
    if let Some(context) = contexts.get(&canonical) {
        return Ok(context.clone());
    }
    let context = Pkcs11::new(&canonical).map_err(|err| not_found(err.to_string()))?;
    match context.initialize(CInitializeArgs::OsThreads) {
        // Another library in this process initialized the module first: share it.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(err) => return Err(not_found(format!("C_Initialize failed: {}", short(&err)))),
    }
    contexts.insert(canonical, context.clone());
    Ok(context)
}

/// A module error in a few words (cryptoki's own messages run to paragraphs).
pub(crate) fn short(err: &CkError) -> String {
    match err {
        CkError::Pkcs11(rv, function) => format!("C_{function:?} returned CKR_{rv:?}"),
        other => other.to_string(),
    }
}

/// The return value of a failed call, if the module gave one.
pub(crate) fn rv(err: &CkError) -> Option<RvError> {
    match err {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

/// Whether `err` says the session, the login or the token went away: worth opening a new
/// session (and logging in again) and trying once more.
pub(crate) fn is_session_lost(err: &CkError) -> bool {
    matches!(
        rv(err),
        Some(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::UserNotLoggedIn
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid
                | RvError::DeviceError
                | RvError::SlotIdInvalid
                | RvError::CryptokiNotInitialized
        )
    )
}

/// The slot holding the token the URI names (by label, and serial if given).
pub(crate) fn find_slot(context: &Pkcs11, uri: &Pkcs11Uri) -> Result<Option<Slot>, CkError> {
    for slot in context.get_slots_with_token()? {
        // A token that cannot answer (removed between the two calls, or failing) is not the
        // one named: another slot's trouble must not hide the token asked for.
        let Ok(info) = context.get_token_info(slot) else {
            continue;
        };
        if info.label().trim_end() != uri.token() {
            continue;
        }
        if let Some(serial) = uri.serial()
            && info.serial_number().trim_end() != serial
        {
            continue;
        }
        return Ok(Some(slot));
    }
    Ok(None)
}

/// Reads the PIN from where `source` says: a file's first line, or an environment variable.
pub(crate) fn read_pin(source: &PinSource) -> Result<AuthPin, KeyError> {
    let failed = |reason: String| KeyError::PinSource {
        source_name: source.to_string(),
        reason,
    };
    let text = match source {
        PinSource::File(path) => {
            Zeroizing::new(std::fs::read_to_string(path).map_err(|err| failed(err.to_string()))?)
        }
        PinSource::Env(name) => Zeroizing::new(std::env::var(name).map_err(|err| match err {
            std::env::VarError::NotPresent => failed("the variable is not set".into()),
            std::env::VarError::NotUnicode(_) => failed("the variable is not UTF-8".into()),
        })?),
    };
    let pin = text.lines().next().unwrap_or_default();
    if pin.is_empty() {
        return Err(failed("the PIN is empty".into()));
    }
    Ok(AuthPin::new(pin.into()))
}

/// What a module error means for the caller.
pub(crate) fn module_error(uri: &Pkcs11Uri, operation: &'static str, err: &CkError) -> KeyError {
    let token = || uri.token().to_owned();
    match rv(err) {
        Some(RvError::PinIncorrect | RvError::PinLenRange | RvError::PinInvalid) => {
            KeyError::WrongPin { token: token() }
        }
        Some(RvError::PinLocked) => KeyError::PinLocked { token: token() },
        Some(
            RvError::EncryptedDataInvalid
            | RvError::EncryptedDataLenRange
            | RvError::DataInvalid
            | RvError::DataLenRange,
        ) if operation == "decrypt" => KeyError::Decryption,
        Some(RvError::KeyTypeInconsistent | RvError::KeyFunctionNotPermitted) => {
            KeyError::WrongKeyType {
                uri: uri.key_name(),
                reason: format!("the token refuses to {operation} with it ({})", short(err)),
            }
        }
        _ if is_session_lost(err) => KeyError::TokenUnavailable {
            token: token(),
            reason: short(err),
        },
        _ => KeyError::Pkcs11 {
            operation,
            reason: short(err),
        },
    }
}
