//! Conditional-expression tokens (MS-DTYP 2.4.4.17) and descriptors around them, written by
//! hand so that tests can feed the decoder what the encoder would never write.
#![allow(dead_code, clippy::unwrap_used)]

use rms_dacl::Sid;

pub(crate) const OR: u8 = 0xa1;
pub(crate) const EQUAL: u8 = 0x80;
pub(crate) const MEMBER_OF: u8 = 0x89;

pub(crate) fn utf16(name: &str) -> Vec<u8> {
    let units: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut out = u32::try_from(units.len()).unwrap().to_le_bytes().to_vec();
    out.extend(units);
    out
}

/// An attribute token: 0xf8 local, 0xf9 user, 0xfa resource, 0xfb device.
pub(crate) fn attribute(token: u8, name: &str) -> Vec<u8> {
    let mut out = vec![token];
    out.extend(utf16(name));
    out
}

pub(crate) fn local(name: &str) -> Vec<u8> {
    attribute(0xf8, name)
}

pub(crate) fn user(name: &str) -> Vec<u8> {
    attribute(0xf9, name)
}

/// A 64-bit integer token with a sign byte (1 +, 2 -, 3 none) and a base byte (1 octal,
/// 2 decimal, 3 hex).
pub(crate) fn int_with(value: i64, sign: u8, base: u8) -> Vec<u8> {
    let mut out = vec![0x04];
    out.extend(value.to_le_bytes());
    out.extend([sign, base]);
    out
}

pub(crate) fn int(value: i64) -> Vec<u8> {
    int_with(value, 3, 2)
}

pub(crate) fn string(s: &str) -> Vec<u8> {
    let mut out = vec![0x10];
    out.extend(utf16(s));
    out
}

pub(crate) fn octets(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x18];
    out.extend(u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend(bytes);
    out
}

pub(crate) fn sid_bytes(sid: &Sid) -> Vec<u8> {
    let mut out = vec![1, u8::try_from(sid.sub_authorities().len()).unwrap()];
    out.extend(&sid.authority().to_be_bytes()[2..]);
    for sub in sid.sub_authorities() {
        out.extend(sub.to_le_bytes());
    }
    out
}

pub(crate) fn sid_token(sid: &Sid) -> Vec<u8> {
    let body = sid_bytes(sid);
    let mut out = vec![0x51];
    out.extend(u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out
}

pub(crate) fn list(items: &[Vec<u8>]) -> Vec<u8> {
    let body = items.concat();
    let mut out = vec![0x50];
    out.extend(u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out
}

/// A descriptor with one callback ACE (type `ace_type`: 0x09 XA, 0x0a XD in the DACL; 0x0d XU
/// in the SACL) for Everyone, with these condition tokens after `artx`.
pub(crate) fn callback_descriptor(ace_type: u8, tokens: &[u8]) -> Vec<u8> {
    let mut ace = vec![ace_type, 0, 0, 0];
    ace.extend(0x10u32.to_le_bytes()); // RP
    ace.extend(sid_bytes(&Sid::EVERYONE));
    ace.extend(b"artx");
    ace.extend(tokens);
    ace.resize(ace.len().next_multiple_of(4), 0);
    let ace_size = u16::try_from(ace.len()).unwrap_or(u16::MAX).to_le_bytes();
    ace[2..4].copy_from_slice(&ace_size);
    let in_sacl = ace_type == 0x0d;
    let control: u8 = if in_sacl { 0x10 } else { 0x04 };
    let mut out = vec![1, 0, control, 0x80, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend(if in_sacl {
        [20, 0, 0, 0, 0, 0, 0, 0]
    } else {
        [0, 0, 0, 0, 20, 0, 0, 0]
    });
    let acl_size = u16::try_from(8 + ace.len())
        .unwrap_or(u16::MAX)
        .to_le_bytes();
    out.extend([2, 0, acl_size[0], acl_size[1], 1, 0, 0, 0]);
    out.extend(ace);
    out
}

/// A descriptor whose DACL holds one `XA` ACE for Everyone with these condition tokens.
pub(crate) fn xa_descriptor(tokens: &[u8]) -> Vec<u8> {
    callback_descriptor(0x09, tokens)
}
