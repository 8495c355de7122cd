//! Resource attributes of `RA` ACEs (MS-DTYP 2.4.10.1, CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1):
//! a named, typed list of values stored in a SACL. Parsed, printed and encoded; they only matter
//! to conditional expressions, which the access check does not evaluate.

use std::fmt::Write as _;

use crate::condition::{IntBase, IntSign, write_escaped_name, write_int};
use crate::sddl::SidContext;
use crate::sid::Sid;

/// The values of a resource attribute, all of one type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClaimValues {
    /// `TI`: signed 64-bit integers.
    Int64(Vec<i64>),
    /// `TU`: unsigned 64-bit integers.
    Uint64(Vec<u64>),
    /// `TS`: strings.
    String(Vec<String>),
    /// `TD`: SIDs.
    Sid(Vec<Sid>),
    /// `TB`: booleans.
    Boolean(Vec<bool>),
    /// `TX`: octet strings.
    Octets(Vec<Vec<u8>>),
}

impl ClaimValues {
    /// The SDDL type code (`TI`, `TU`, ...).
    #[must_use]
    pub fn type_code(&self) -> &'static str {
        match self {
            ClaimValues::Int64(_) => "TI",
            ClaimValues::Uint64(_) => "TU",
            ClaimValues::String(_) => "TS",
            ClaimValues::Sid(_) => "TD",
            ClaimValues::Boolean(_) => "TB",
            ClaimValues::Octets(_) => "TX",
        }
    }

    /// The binary value type (CLAIM_SECURITY_ATTRIBUTE_TYPE_*).
    pub(crate) fn binary_type(&self) -> u16 {
        match self {
            ClaimValues::Int64(_) => 0x0001,
            ClaimValues::Uint64(_) => 0x0002,
            ClaimValues::String(_) => 0x0003,
            ClaimValues::Sid(_) => 0x0005,
            ClaimValues::Boolean(_) => 0x0006,
            ClaimValues::Octets(_) => 0x0010,
        }
    }

    /// How many values there are.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            ClaimValues::Int64(v) => v.len(),
            ClaimValues::Uint64(v) => v.len(),
            ClaimValues::String(v) => v.len(),
            ClaimValues::Sid(v) => v.len(),
            ClaimValues::Boolean(v) => v.len(),
            ClaimValues::Octets(v) => v.len(),
        }
    }

    /// Whether there are no values.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A resource attribute: `("Secrecy",TU,0x0,3)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceAttribute {
    name: String,
    flags: u32,
    values: ClaimValues,
}

impl ResourceAttribute {
    /// Flag bits reserved by MS-DTYP (must be zero).
    pub const RESERVED_FLAGS: u32 = 0xff00;

    /// A resource attribute.
    ///
    /// # Errors
    /// A message if the name is empty or contains NUL, if reserved flag bits (0xff00) are set, if
    /// there is no value, or if a string value contains `"` or NUL (SDDL cannot express them).
    pub fn new(name: String, flags: u32, values: ClaimValues) -> Result<Self, &'static str> {
        if name.is_empty() || name.contains('\0') {
            return Err("the name must be non-empty and without NUL");
        }
        if flags & Self::RESERVED_FLAGS != 0 {
            return Err("flags 0xff00 are reserved");
        }
        if values.is_empty() {
            return Err("at least one value is needed");
        }
        if let ClaimValues::String(v) = &values
            && v.iter().any(|s| s.contains('"') || s.contains('\0'))
        {
            return Err("a string value cannot contain '\"' or NUL");
        }
        Ok(Self {
            name,
            flags,
            values,
        })
    }

    /// The attribute name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The claim flags (case sensitivity, deny-only, ...).
    #[must_use]
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// The values.
    #[must_use]
    pub fn values(&self) -> &ClaimValues {
        &self.values
    }

    /// The SDDL form, `("name",TI,0x0,1,2)`.
    #[must_use]
    pub fn to_sddl(&self, ctx: &SidContext) -> String {
        let mut out = String::from("(\"");
        write_escaped_name(&mut out, &self.name);
        let _ = write!(out, "\",{},0x{:x}", self.values.type_code(), self.flags);
        match &self.values {
            ClaimValues::Int64(v) => v.iter().for_each(|&i| {
                out.push(',');
                let sign = if i < 0 { IntSign::Minus } else { IntSign::None };
                write_int(&mut out, i, sign, IntBase::Decimal);
            }),
            ClaimValues::Uint64(v) => v.iter().for_each(|u| {
                let _ = write!(out, ",{u}");
            }),
            ClaimValues::String(v) => v.iter().for_each(|s| {
                let _ = write!(out, ",\"{s}\"");
            }),
            ClaimValues::Sid(v) => v.iter().for_each(|s| {
                out.push(',');
                out.push_str(&ctx.sid_to_sddl(s));
            }),
            ClaimValues::Boolean(v) => v.iter().for_each(|&b| {
                out.push_str(if b { ",1" } else { ",0" });
            }),
            ClaimValues::Octets(v) => v.iter().for_each(|bytes| {
                out.push(',');
                for b in bytes {
                    let _ = write!(out, "{b:02x}");
                }
            }),
        }
        out.push(')');
        out
    }
}
