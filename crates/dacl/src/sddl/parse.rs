//! Parsing SDDL (MS-DTYP 2.5.1.1) the way Windows does, refusing what Windows refuses.
//!
//! Leniency copied from Windows: spaces (0x20 only) before sections, around ACL flags, between
//! ACEs and at the start of ACE fields; spaces between right aliases and after a SID alias;
//! ACE types, flags, rights and SID aliases in any case; rights in hex, octal or decimal.
//! Refused like Windows: lower-case section letters, unknown sections, fewer or more than six
//! ACE fields, spaces after rights, numeric SIDs or GUIDs, tabs, an `AU` ACE in a DACL. Inside a
//! numeric SID, spaces are skipped after each dash (`S- 1- 5`), as Windows reads each number.
//! An ACL whose binary form would exceed 64 KiB is refused at the ACE that crosses the limit.
//! Refused although Windows accepts (see docs/conformance.md): masks above 0xffffffff or
//! negative, sub-authorities above 0xffffffff, and a hex SID revision (`S-0x1-...`).

use super::SidContext;
use super::aliases::{right_alias, sid_alias};
use super::cursor::Cursor;
use crate::ace::{Ace, AceFlags, AceKind, AceType, ObjectTypes};
use crate::acl::Acl;
use crate::binary::TooLarge;
use crate::descriptor::{AclState, Control, SecurityDescriptor};
use crate::error::{Error, SddlError, SddlErrorKind};
use crate::guid::Guid;
use crate::mask::AccessMask;
use crate::sid::Sid;

pub(crate) fn parse_descriptor(
    text: &str,
    ctx: &SidContext,
) -> Result<SecurityDescriptor, SddlError> {
    let mut c = Cursor::new(text);
    let mut sd = SecurityDescriptor::new();
    let mut control = Control::default();
    let mut seen = [false; 4];
    loop {
        c.skip_spaces();
        if c.at_end() {
            break;
        }
        let tag_pos = c.pos();
        let slot = match (c.peek(), c.peek_at(1)) {
            (Some(b'O'), Some(b':')) => 0,
            (Some(b'G'), Some(b':')) => 1,
            (Some(b'D'), Some(b':')) => 2,
            (Some(b'S'), Some(b':')) => 3,
            _ => return Err(c.unexpected("a section: O:, G:, D: or S:")),
        };
        if let Some(seen_slot) = seen.get_mut(slot) {
            if *seen_slot {
                let letter = char::from(c.peek().unwrap_or(b'?'));
                return Err(c.err_at(tag_pos, SddlErrorKind::DuplicateSection(letter)));
            }
            *seen_slot = true;
        }
        c.advance(2);
        match slot {
            0 | 1 => {
                c.skip_spaces();
                let sid = parse_sid(&mut c, ctx)?;
                sd = if slot == 0 {
                    sd.with_owner(Some(sid))
                } else {
                    sd.with_group(Some(sid))
                };
            }
            _ => {
                let for_dacl = slot == 2;
                let ([p, ar, ai], state) = parse_acl(&mut c, ctx, for_dacl)?;
                let bits = if for_dacl {
                    [
                        Control::DACL_PROTECTED,
                        Control::DACL_AUTO_INHERIT_REQ,
                        Control::DACL_AUTO_INHERITED,
                    ]
                } else {
                    [
                        Control::SACL_PROTECTED,
                        Control::SACL_AUTO_INHERIT_REQ,
                        Control::SACL_AUTO_INHERITED,
                    ]
                };
                for (on, bit) in [p, ar, ai].into_iter().zip(bits) {
                    control = control.with(bit, on);
                }
                let placed = if for_dacl {
                    sd.with_dacl(state)
                } else {
                    sd.with_sacl(state)
                };
                sd = placed.map_err(|e| c.err_at(tag_pos, SddlErrorKind::Invalid(Box::new(e))))?;
            }
        }
    }
    Ok(sd.with_control(control))
}

/// A SID alias or a numeric SID.
pub(crate) fn parse_sid(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<Sid, SddlError> {
    let start = c.pos();
    if matches!(c.peek(), Some(b'S' | b's')) && c.peek_at(1) == Some(b'-') {
        return Sid::parse_numeric(c);
    }
    let pair = c
        .peek_pair_upper()
        .ok_or_else(|| c.unexpected("a SID alias or S-1-..."))?;
    let (name, target) = sid_alias(pair).ok_or_else(|| c.err(SddlErrorKind::UnknownSidAlias))?;
    let sid = ctx
        .resolve(target)
        .ok_or_else(|| c.err_at(start, SddlErrorKind::MissingDomain(name)))?;
    c.advance(2);
    Ok(sid)
}

/// ACL flags (`P`, `AR`, `AI`), then `NO_ACCESS_CONTROL` or ACEs.
fn parse_acl(
    c: &mut Cursor<'_>,
    ctx: &SidContext,
    for_dacl: bool,
) -> Result<([bool; 3], AclState), SddlError> {
    let mut flags = [false; 3];
    let mut null = false;
    loop {
        c.skip_spaces();
        if c.eat_str("NO_ACCESS_CONTROL") {
            null = true;
            break;
        } else if c.eat(b'P') {
            flags[0] = true;
        } else if c.eat_str("AR") {
            flags[1] = true;
        } else if c.eat_str("AI") {
            flags[2] = true;
        } else {
            break;
        }
    }
    c.skip_spaces();
    if null {
        if c.peek() == Some(b'(') {
            return Err(c.unexpected("no ACE after NO_ACCESS_CONTROL"));
        }
        return Ok((flags, AclState::Null));
    }
    let mut aces = Vec::new();
    // The binary form's size, so that an ACL too large to encode is refused at the ACE that
    // makes it so (ACL header, ACEs, and Windows' slack of 4 bytes per empty allow/deny ACE).
    let mut size = 8usize;
    while c.peek() == Some(b'(') {
        let ace_start = c.pos();
        let ace = parse_ace(c, ctx, for_dacl)?;
        let ace_len = crate::binary::ace_len(&ace)
            .map_err(|TooLarge(len)| c.err_at(ace_start, SddlErrorKind::AclTooLarge(len)))?;
        size += ace_len + crate::acl::slack_of(&ace);
        if size > usize::from(u16::MAX) {
            return Err(c.err_at(ace_start, SddlErrorKind::AclTooLarge(size)));
        }
        aces.push(ace);
        c.skip_spaces();
    }
    Ok((flags, AclState::Present(Acl::from_aces(aces))))
}

/// One ACE: `(type;flags;rights;object;inherited object;sid[;extra])`.
pub(crate) fn parse_ace(
    c: &mut Cursor<'_>,
    ctx: &SidContext,
    for_dacl: bool,
) -> Result<Ace, SddlError> {
    let ace_start = c.pos();
    c.expect(b'(', "'(' to start an ACE")?;
    c.skip_spaces();
    let type_pos = c.pos();
    let word: Vec<u8> = c
        .rest()
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .map(u8::to_ascii_uppercase)
        .collect();
    let ace_type = AceType::ALL
        .into_iter()
        .find(|t| t.sddl().as_bytes() == word.as_slice())
        .ok_or_else(|| c.err(SddlErrorKind::UnknownAceType))?;
    c.advance(word.len());
    if ace_type.is_dacl_type() != for_dacl {
        return Err(c.err_at(
            type_pos,
            SddlErrorKind::AceNotAllowed {
                ace_type,
                acl: if for_dacl { "DACL" } else { "SACL" },
            },
        ));
    }
    c.expect(b';', "';' after the ACE type")?;

    c.skip_spaces();
    let mut flags = AceFlags::NONE;
    while c.peek() != Some(b';') {
        let flag = c
            .peek_pair_upper()
            .and_then(|pair| AceFlags::NAMES.iter().find(|(n, _)| n.as_bytes() == pair))
            .map(|&(_, f)| f)
            .ok_or_else(|| match c.peek() {
                Some(b) if b.is_ascii_alphabetic() => c.err(SddlErrorKind::UnknownAceFlag),
                _ => c.unexpected("an ACE flag or ';'"),
            })?;
        flags = flags | flag;
        c.advance(2);
    }
    c.expect(b';', "';' after the ACE flags")?;

    c.skip_spaces();
    let mask = parse_rights(c)?;
    c.expect(b';', "';' after the access rights")?;

    let guid_pos = c.pos();
    let object_type = parse_guid_field(c)?;
    c.expect(b';', "';' after the object type")?;
    let inherited_object_type = parse_guid_field(c)?;
    c.expect(b';', "';' after the inherited object type")?;
    let objects = ObjectTypes {
        object_type,
        inherited_object_type,
    };
    if !ace_type.is_object() && objects != ObjectTypes::default() {
        return Err(c.err_at(
            guid_pos,
            SddlErrorKind::Invalid(Box::new(Error::InvalidAce(
                "only object ACEs (OA, OD, OU, OL, ZA) carry GUIDs",
            ))),
        ));
    }

    c.skip_spaces();
    let numeric = matches!(c.peek(), Some(b'S' | b's')) && c.peek_at(1) == Some(b'-');
    let sid = parse_sid(c, ctx)?;
    if !numeric {
        c.skip_spaces();
    }

    let condition = if ace_type.is_callback() {
        c.expect(b';', "';' and a condition after the SID of a callback ACE")?;
        let cond = super::condition::parse_condition(c, ctx)?;
        c.skip_wspace();
        Some(cond)
    } else {
        None
    };
    let attribute = if ace_type == AceType::SystemResourceAttribute {
        c.expect(
            b';',
            "';' and an attribute after the SID of a resource attribute ACE",
        )?;
        let attr = super::claim::parse_resource_attribute(c, ctx)?;
        c.skip_wspace();
        Some(attr)
    } else {
        None
    };
    c.expect(b')', "')' to end the ACE")?;

    let kind = match (ace_type, condition, attribute) {
        (AceType::AccessAllowed, ..) => AceKind::AccessAllowed,
        (AceType::AccessDenied, ..) => AceKind::AccessDenied,
        (AceType::SystemAudit, ..) => AceKind::SystemAudit,
        (AceType::SystemAlarm, ..) => AceKind::SystemAlarm,
        (AceType::SystemMandatoryLabel, ..) => AceKind::SystemMandatoryLabel,
        (AceType::SystemScopedPolicyId, ..) => AceKind::SystemScopedPolicyId,
        (AceType::AccessAllowedObject, ..) => AceKind::AccessAllowedObject(objects),
        (AceType::AccessDeniedObject, ..) => AceKind::AccessDeniedObject(objects),
        (AceType::SystemAuditObject, ..) => AceKind::SystemAuditObject(objects),
        (AceType::SystemAlarmObject, ..) => AceKind::SystemAlarmObject(objects),
        (AceType::AccessAllowedCallback, Some(cond), _) => AceKind::AccessAllowedCallback(cond),
        (AceType::AccessDeniedCallback, Some(cond), _) => AceKind::AccessDeniedCallback(cond),
        (AceType::SystemAuditCallback, Some(cond), _) => AceKind::SystemAuditCallback(cond),
        (AceType::AccessAllowedCallbackObject, Some(cond), _) => {
            AceKind::AccessAllowedCallbackObject(objects, cond)
        }
        (AceType::SystemResourceAttribute, _, Some(attr)) => AceKind::SystemResourceAttribute(attr),
        // A callback or resource type always got its extra data above.
        _ => return Err(c.err_at(ace_start, SddlErrorKind::UnknownAceType)),
    };
    Ace::new(kind, flags, mask, sid)
        .map_err(|e| c.err_at(ace_start, SddlErrorKind::Invalid(Box::new(e))))
}

/// An empty field (`;`), or exactly 36 GUID characters with no space around them.
fn parse_guid_field(c: &mut Cursor<'_>) -> Result<Option<Guid>, SddlError> {
    let start = c.pos();
    let spaces = c.skip_spaces();
    if c.peek() == Some(b';') {
        return Ok(None);
    }
    if spaces > 0 {
        return Err(c.err_at(start, SddlErrorKind::Whitespace));
    }
    Guid::parse(c).map(Some)
}

/// Rights: a number (0x hex, 0 octal, decimal) or two-letter aliases, up to the next `;`.
fn parse_rights(c: &mut Cursor<'_>) -> Result<AccessMask, SddlError> {
    match c.peek() {
        Some(b'0'..=b'9') => parse_numeric_mask(c),
        Some(b'-' | b'+') => Err(c.err(SddlErrorKind::MaskOutOfRange)),
        _ => {
            let mut mask = AccessMask::EMPTY;
            let mut any = false;
            loop {
                let space_pos = c.pos();
                let spaces = c.skip_spaces();
                if c.peek() == Some(b';') {
                    if spaces > 0 && any {
                        return Err(c.err_at(space_pos, SddlErrorKind::Whitespace));
                    }
                    return Ok(mask);
                }
                let right =
                    c.peek_pair_upper()
                        .and_then(right_alias)
                        .ok_or_else(|| match c.peek() {
                            Some(b) if b.is_ascii_alphabetic() => {
                                c.err(SddlErrorKind::UnknownRight)
                            }
                            _ => c.unexpected("a two-letter right or ';'"),
                        })?;
                mask |= right;
                any = true;
                c.advance(2);
            }
        }
    }
}

fn parse_numeric_mask(c: &mut Cursor<'_>) -> Result<AccessMask, SddlError> {
    let start = c.pos();
    let hex = c.peek() == Some(b'0')
        && matches!(c.peek_at(1), Some(b'x' | b'X'))
        && c.peek_at(2).is_some_and(|b| b.is_ascii_hexdigit());
    let radix: u32 = if hex {
        c.advance(2);
        16
    } else if c.peek() == Some(b'0') {
        8
    } else {
        10
    };
    let mut value: u64 = 0;
    while let Some(d) = c.peek().and_then(|b| char::from(b).to_digit(radix)) {
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .filter(|v| *v <= u64::from(u32::MAX))
            .ok_or_else(|| c.err_at(start, SddlErrorKind::MaskOutOfRange))?;
        c.bump();
    }
    let bits = u32::try_from(value).map_err(|_| c.err_at(start, SddlErrorKind::MaskOutOfRange))?;
    Ok(AccessMask::from_bits(bits))
}
