//! Parsing resource attributes: `("name",TI,0x0,1,2)`.

use super::SidContext;
use super::condition::{parse_escaped_name, parse_hex_bytes, parse_int, parse_magnitude};
use super::cursor::Cursor;
use super::parse::parse_sid;
use crate::claim::{ClaimValues, ResourceAttribute};
use crate::condition::{IntSign, Literal};
use crate::error::{SddlError, SddlErrorKind};

fn bad(c: &Cursor<'_>, msg: &'static str) -> SddlError {
    c.err(SddlErrorKind::InvalidResourceAttribute(msg))
}

pub(crate) fn parse_resource_attribute(
    c: &mut Cursor<'_>,
    ctx: &SidContext,
) -> Result<ResourceAttribute, SddlError> {
    c.skip_wspace();
    let start = c.pos();
    c.expect(b'(', "'(' to start the resource attribute")?;
    c.skip_wspace();
    c.expect(b'"', "'\"' to start the attribute name")?;
    let name = parse_escaped_name(c, |b| b != b'"' && b != b'%')?;
    c.expect(b'"', "'\"' to end the attribute name")?;
    c.skip_wspace();
    c.expect(b',', "',' after the attribute name")?;
    c.skip_wspace();
    let type_pos = c.pos();
    let code = c
        .peek_pair_upper()
        .ok_or_else(|| bad(c, "expected TI, TU, TS, TD, TX or TB"))?;
    c.advance(2);
    c.skip_wspace();
    c.expect(b',', "',' after the attribute type")?;
    c.skip_wspace();
    let (flags, sign, _) = parse_int(c)?;
    let flags = u32::try_from(flags)
        .ok()
        .filter(|_| sign != IntSign::Minus)
        .ok_or_else(|| bad(c, "flags must be a 32-bit unsigned number"))?;
    let mut values = match &code {
        b"TI" => ClaimValues::Int64(Vec::new()),
        b"TU" => ClaimValues::Uint64(Vec::new()),
        b"TS" => ClaimValues::String(Vec::new()),
        b"TD" => ClaimValues::Sid(Vec::new()),
        b"TX" => ClaimValues::Octets(Vec::new()),
        b"TB" => ClaimValues::Boolean(Vec::new()),
        _ => {
            return Err(c.err_at(
                type_pos,
                SddlErrorKind::InvalidResourceAttribute("expected TI, TU, TS, TD, TX or TB"),
            ));
        }
    };
    loop {
        c.skip_wspace();
        if c.eat(b')') {
            break;
        }
        c.expect(b',', "',' before a value or ')' to end the attribute")?;
        c.skip_wspace();
        match &mut values {
            ClaimValues::Int64(v) => v.push(parse_int(c)?.0),
            ClaimValues::Uint64(v) => v.push(parse_magnitude(c)?.0),
            ClaimValues::Boolean(v) => match parse_int(c)?.0 {
                0 => v.push(false),
                1 => v.push(true),
                _ => return Err(bad(c, "TB values are 0 or 1")),
            },
            ClaimValues::String(v) => match super::condition::parse_literal(c, ctx, 0)?.0 {
                Literal::String(s) => v.push(s),
                _ => return Err(bad(c, "TS values are \"strings\"")),
            },
            ClaimValues::Sid(v) => v.push(parse_sid(c, ctx)?),
            ClaimValues::Octets(v) => {
                c.eat(b'#');
                v.push(parse_hex_bytes(c)?);
            }
        }
    }
    ResourceAttribute::new(name, flags, values)
        .map_err(|m| c.err_at(start, SddlErrorKind::InvalidResourceAttribute(m)))
}
