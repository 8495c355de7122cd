//! CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 (MS-DTYP 2.4.10.1): the body of an `RA` ACE. Offsets
//! are relative to the start of the structure; the name and then the values follow the header.

use super::{Reader, TooLarge, decode_sid, encode_sid, field_u32};
use crate::claim::{ClaimValues, ResourceAttribute};

type Result<T> = std::result::Result<T, (usize, &'static str)>;

pub(super) fn encode(
    out: &mut Vec<u8>,
    attr: &ResourceAttribute,
) -> std::result::Result<(), TooLarge> {
    let values = attr.values();
    let count = values.len();
    let header = 16 + 4 * count;
    let mut body: Vec<u8> = Vec::new();
    let name_off = header;
    push_utf16z(&mut body, attr.name());
    let mut offsets = Vec::with_capacity(count);
    let mut add = |body: &mut Vec<u8>, bytes: &[u8]| -> std::result::Result<(), TooLarge> {
        offsets.push(field_u32(header + body.len())?);
        body.extend_from_slice(bytes);
        Ok(())
    };
    match values {
        ClaimValues::Int64(v) => v
            .iter()
            .try_for_each(|i| add(&mut body, &i.to_le_bytes()))?,
        ClaimValues::Uint64(v) => v
            .iter()
            .try_for_each(|u| add(&mut body, &u.to_le_bytes()))?,
        ClaimValues::Boolean(v) => v
            .iter()
            .try_for_each(|&b| add(&mut body, &u64::from(b).to_le_bytes()))?,
        ClaimValues::String(v) => v.iter().try_for_each(|s| {
            let mut tmp = Vec::new();
            push_utf16z(&mut tmp, s);
            add(&mut body, &tmp)
        })?,
        ClaimValues::Sid(v) => v.iter().try_for_each(|sid| {
            let mut tmp = field_u32(sid.binary_len())?.to_le_bytes().to_vec();
            encode_sid(&mut tmp, sid);
            add(&mut body, &tmp)
        })?,
        ClaimValues::Octets(v) => v.iter().try_for_each(|bytes| {
            let mut tmp = field_u32(bytes.len())?.to_le_bytes().to_vec();
            tmp.extend_from_slice(bytes);
            add(&mut body, &tmp)
        })?,
    }
    out.extend_from_slice(&field_u32(name_off)?.to_le_bytes());
    out.extend_from_slice(&values.binary_type().to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&attr.flags().to_le_bytes());
    out.extend_from_slice(&field_u32(count)?.to_le_bytes());
    for off in offsets {
        out.extend_from_slice(&off.to_le_bytes());
    }
    out.extend_from_slice(&body);
    Ok(())
}

fn push_utf16z(out: &mut Vec<u8>, s: &str) {
    for u in s.encode_utf16().chain(std::iter::once(0)) {
        out.extend_from_slice(&u.to_le_bytes());
    }
}

fn read_utf16z(r: &Reader<'_>, off: usize) -> Result<String> {
    let mut units = Vec::new();
    let mut pos = off;
    loop {
        let u = r
            .u16(pos, "string")
            .map_err(|_| (pos, "unterminated string"))?;
        if u == 0 {
            break;
        }
        units.push(u);
        pos += 2;
    }
    String::from_utf16(&units).map_err(|_| (off, "invalid UTF-16"))
}

fn field(r: &Reader<'_>, off: usize) -> Result<u32> {
    r.u32(off, "field").map_err(|_| (off, "truncated"))
}

fn at(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

pub(super) fn decode(data: &[u8]) -> Result<ResourceAttribute> {
    let r = Reader::new(data);
    let name_off = at(field(&r, 0)?);
    let value_type = r.u16(4, "type").map_err(|_| (4, "truncated"))?;
    let flags = field(&r, 8)?;
    let count = at(field(&r, 12)?);
    if count > data.len() / 4 {
        return Err((12, "more values than the data can hold"));
    }
    let name = read_utf16z(&r, name_off)?;
    let mut offsets = Vec::with_capacity(count);
    for i in 0..count {
        offsets.push(at(field(&r, 16 + 4 * i)?));
    }
    let u64_at = |off: usize| r.u64(off, "value").map_err(|_| (off, "truncated value"));
    let blob_at = |off: usize| -> Result<&[u8]> {
        let len = at(field(&r, off)?);
        r.bytes(off + 4, len, "value")
            .map_err(|_| (off, "truncated value"))
    };
    let values = match value_type {
        0x0001 => ClaimValues::Int64(
            offsets
                .iter()
                .map(|&o| u64_at(o).map(u64::cast_signed))
                .collect::<Result<_>>()?,
        ),
        0x0002 => ClaimValues::Uint64(offsets.iter().map(|&o| u64_at(o)).collect::<Result<_>>()?),
        0x0006 => ClaimValues::Boolean(
            offsets
                .iter()
                .map(|&o| match u64_at(o)? {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err((o, "boolean value other than 0 or 1")),
                })
                .collect::<Result<_>>()?,
        ),
        0x0003 => ClaimValues::String(
            offsets
                .iter()
                .map(|&o| read_utf16z(&r, o))
                .collect::<Result<_>>()?,
        ),
        0x0005 => ClaimValues::Sid(
            offsets
                .iter()
                .map(|&o| {
                    let blob = blob_at(o)?;
                    let (sid, len) =
                        decode_sid(&Reader::new(blob), 0).map_err(|_| (o, "invalid SID"))?;
                    if len == blob.len() {
                        Ok(sid)
                    } else {
                        Err((o, "SID length mismatch"))
                    }
                })
                .collect::<Result<_>>()?,
        ),
        0x0010 => ClaimValues::Octets(
            offsets
                .iter()
                .map(|&o| blob_at(o).map(<[u8]>::to_vec))
                .collect::<Result<_>>()?,
        ),
        _ => return Err((4, "unsupported value type")),
    };
    ResourceAttribute::new(name, flags, values).map_err(|m| (0, m))
}
