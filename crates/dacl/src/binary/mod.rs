//! The self-relative binary security descriptor of MS-DTYP 2.4.6, laid out as Windows writes
//! it: the 20-byte header, then the SACL, the DACL, the owner and the group.

mod claim;
mod condition;

use crate::ace::{Ace, AceFlags, AceKind, AceType, ObjectTypes};
use crate::acl::{Acl, AclRevision};
use crate::condition::Fault;
use crate::descriptor::{AclState, Control, SecurityDescriptor};
use crate::error::{BinaryError, BinaryErrorKind, Error};
use crate::guid::Guid;
use crate::sid::Sid;

type Result<T> = std::result::Result<T, BinaryError>;

/// Bounds-checked little-endian reads over the whole input, reporting absolute offsets.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn bytes(&self, off: usize, len: usize, what: &'static str) -> Result<&'a [u8]> {
        off.checked_add(len)
            .and_then(|end| self.data.get(off..end))
            .ok_or_else(|| BinaryError::new(off, BinaryErrorKind::Truncated(what)))
    }

    pub(crate) fn array<const N: usize>(&self, off: usize, what: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(off, N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&self, off: usize, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(off, what)?[0])
    }

    pub(crate) fn u16(&self, off: usize, what: &'static str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(off, what)?))
    }

    pub(crate) fn u32(&self, off: usize, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(off, what)?))
    }

    pub(crate) fn u64(&self, off: usize, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(off, what)?))
    }
}

fn invalid(offset: usize, e: Error) -> BinaryError {
    BinaryError::new(offset, BinaryErrorKind::Invalid(Box::new(e)))
}

fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// A length or offset (in bytes) that does not fit the 32-bit field the binary form has for
/// it: the ACE holding it, and so its ACL, is far larger than the 64 KiB the format allows.
#[derive(Debug)]
pub(crate) struct TooLarge(pub(crate) usize);

/// An encoding error: [`BinaryErrorKind::AclTooLarge`], at offset 0 like every encoding error.
impl From<TooLarge> for BinaryError {
    fn from(TooLarge(len): TooLarge) -> Self {
        BinaryError::new(0, BinaryErrorKind::AclTooLarge(len))
    }
}

/// `len` for a 32-bit length or offset field.
pub(crate) fn field_u32(len: usize) -> std::result::Result<u32, TooLarge> {
    u32::try_from(len).map_err(|_| TooLarge(len))
}

impl SecurityDescriptor {
    /// Decodes a self-relative binary security descriptor.
    ///
    /// Whatever decodes prints as SDDL that parses back to the same descriptor, and encodes to
    /// bytes that decode to it again ([`SecurityDescriptor::read_back`] checks both). So what
    /// the binary form can say and SDDL cannot is handled here:
    ///
    /// - layout is not kept: ACL slack, ACE trailing bytes and the stored ACL revision (2, 3
    ///   or 4) are accepted and dropped; the ACL takes the revision Windows chooses for its
    ///   ACEs ([`Acl::revision`]), which re-encodes Windows' own bytes exactly;
    /// - the control bits SDDL has no letter for (the DEFAULTED bits, DACL_TRUSTED,
    ///   SERVER_SECURITY, RM_CONTROL_VALID), and `P`, `AR`, `AI` of an absent ACL, are accepted
    ///   and dropped, as Windows drops them when it prints SDDL;
    /// - refused: other descriptor or SID revisions, absolute-form descriptors, ACE types and
    ///   flags this crate cannot print as SDDL, callback data that is not a valid condition (one
    ///   nested deeper than [`Condition::MAX_DEPTH`](crate::Condition::MAX_DEPTH) included),
    ///   allow/deny ACEs in a SACL or audit-type ACEs in a DACL, and an ACL whose canonical
    ///   re-encoding would not fit in 64 KiB.
    ///
    /// # Errors
    /// [`BinaryError`] with the offset and the reason.
    pub fn from_bytes(data: &[u8]) -> Result<SecurityDescriptor> {
        let r = Reader::new(data);
        let revision = r.u8(0, "header")?;
        if revision != 1 {
            return Err(BinaryError::new(
                0,
                BinaryErrorKind::Revision {
                    what: "descriptor",
                    found: revision,
                },
            ));
        }
        let control = Control::from_bits(r.u16(2, "header")?);
        if !control.contains(Control::SELF_RELATIVE) {
            return Err(BinaryError::new(2, BinaryErrorKind::NotSelfRelative));
        }
        let owner_off = to_usize(r.u32(4, "header")?);
        let group_off = to_usize(r.u32(8, "header")?);
        let sacl_off = to_usize(r.u32(12, "header")?);
        let dacl_off = to_usize(r.u32(16, "header")?);
        let owner = match owner_off {
            0 => None,
            off => Some(decode_sid(&r, off)?.0),
        };
        let group = match group_off {
            0 => None,
            off => Some(decode_sid(&r, off)?.0),
        };
        let acl_state = |present: Control, off: usize| -> Result<AclState> {
            Ok(match (control.contains(present), off) {
                (false, _) => AclState::NotPresent,
                (true, 0) => AclState::Null,
                (true, off) => AclState::Present(decode_acl(&r, off)?),
            })
        };
        let sacl = acl_state(Control::SACL_PRESENT, sacl_off)?;
        let dacl = acl_state(Control::DACL_PRESENT, dacl_off)?;
        let control = control.sddl_expressible(
            !matches!(dacl, AclState::NotPresent),
            !matches!(sacl, AclState::NotPresent),
        );
        SecurityDescriptor::new()
            .with_owner(owner)
            .with_group(group)
            .with_sacl(sacl)
            .map_err(|e| invalid(sacl_off, e))?
            .with_dacl(dacl)
            .map_err(|e| invalid(dacl_off, e))
            .map(|sd| sd.with_control(control))
    }

    /// Encodes the self-relative binary form, byte for byte as Windows lays it out when it
    /// converts SDDL (ACL revision and slack included, see [`Acl::revision`]).
    ///
    /// # Errors
    /// [`BinaryErrorKind::AclTooLarge`] if an ACL exceeds the 64 KiB the format allows.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = vec![0u8; 20];
        if let Some(b) = out.get_mut(0) {
            *b = 1;
        }
        let mut offsets = [0u32; 4]; // owner, group, sacl, dacl
        if let AclState::Present(acl) = self.sacl() {
            offsets[2] = offset_of(&out)?;
            encode_acl(&mut out, acl)?;
        }
        if let AclState::Present(acl) = self.dacl() {
            offsets[3] = offset_of(&out)?;
            encode_acl(&mut out, acl)?;
        }
        if let Some(owner) = self.owner() {
            offsets[0] = offset_of(&out)?;
            encode_sid(&mut out, owner);
        }
        if let Some(group) = self.group() {
            offsets[1] = offset_of(&out)?;
            encode_sid(&mut out, group);
        }
        let mut header = Vec::with_capacity(20);
        header.extend_from_slice(&[1, 0]);
        header.extend_from_slice(&self.control().bits().to_le_bytes());
        for off in offsets {
            header.extend_from_slice(&off.to_le_bytes());
        }
        if let Some(head) = out.get_mut(..20) {
            head.copy_from_slice(&header);
        }
        Ok(out)
    }
}

fn offset_of(out: &[u8]) -> Result<u32> {
    u32::try_from(out.len())
        .map_err(|_| BinaryError::new(0, BinaryErrorKind::AclTooLarge(out.len())))
}

/// Decodes a SID at `off`, returning it and its length.
pub(crate) fn decode_sid(r: &Reader<'_>, off: usize) -> Result<(Sid, usize)> {
    let revision = r.u8(off, "SID")?;
    if revision != 1 {
        return Err(BinaryError::new(
            off,
            BinaryErrorKind::Revision {
                what: "SID",
                found: revision,
            },
        ));
    }
    let count = r.u8(off + 1, "SID")?;
    if usize::from(count) > Sid::MAX_SUB_AUTHORITIES {
        return Err(BinaryError::new(
            off + 1,
            BinaryErrorKind::TooManySubAuthorities(count),
        ));
    }
    let auth = r.bytes(off + 2, 6, "SID")?;
    let authority = auth.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let mut subs = Vec::with_capacity(usize::from(count));
    for i in 0..usize::from(count) {
        subs.push(r.u32(off + 8 + 4 * i, "SID")?);
    }
    let sid = Sid::new(authority, &subs).map_err(|e| invalid(off, e))?;
    Ok((sid, 8 + 4 * usize::from(count)))
}

pub(crate) fn encode_sid(out: &mut Vec<u8>, sid: &Sid) {
    out.push(1);
    out.push(sid.sub_authority_count());
    out.extend_from_slice(&sid.authority().to_be_bytes()[2..]);
    for sub in sid.sub_authorities() {
        out.extend_from_slice(&sub.to_le_bytes());
    }
}

fn decode_acl(r: &Reader<'_>, off: usize) -> Result<Acl> {
    let rev_byte = r.u8(off, "ACL header")?;
    // Any supported revision is accepted; the ACL takes the one Windows chooses for its ACEs.
    AclRevision::from_byte(rev_byte).ok_or_else(|| {
        BinaryError::new(
            off,
            BinaryErrorKind::Revision {
                what: "ACL",
                found: rev_byte,
            },
        )
    })?;
    let size = r.u16(off + 2, "ACL header")?;
    let count = r.u16(off + 4, "ACL header")?;
    if size < 8 {
        return Err(BinaryError::new(off + 2, BinaryErrorKind::AclSize(size)));
    }
    let end = off + usize::from(size);
    r.bytes(off, usize::from(size), "ACL")?;
    let mut aces = Vec::with_capacity(usize::from(count).min(1024));
    let mut pos = off + 8;
    for _ in 0..count {
        let (ace, ace_size) = decode_ace(r, pos, end)?;
        aces.push(ace);
        pos += ace_size;
    }
    let acl = Acl::from_aces(aces);
    // Slack the input did not have could push the canonical form past 64 KiB.
    let too_large = |len| BinaryError::new(off + 2, BinaryErrorKind::AclTooLarge(len));
    let canonical = acl_len(&acl).map_err(|TooLarge(len)| too_large(len))?;
    if canonical > usize::from(u16::MAX) {
        return Err(too_large(canonical));
    }
    Ok(acl)
}

/// The length of an ACL's binary form, slack included.
pub(crate) fn acl_len(acl: &Acl) -> std::result::Result<usize, TooLarge> {
    let mut len = 8 + acl.slack();
    for ace in acl.aces() {
        len += ace_len(ace)?;
    }
    Ok(len)
}

/// The length of an ACE's binary form (a multiple of 4). Conditions and resource attributes
/// are encoded to be measured; the other ACEs are measured from their parts.
///
/// # Errors
/// [`TooLarge`] if a length inside the condition or resource attribute does not fit its
/// 32-bit field.
pub(crate) fn ace_len(ace: &Ace) -> std::result::Result<usize, TooLarge> {
    let mut len = 8 + ace.sid().binary_len();
    if let Some(objects) = ace.kind().object_types() {
        len += 4 + 16
            * (usize::from(objects.object_type.is_some())
                + usize::from(objects.inherited_object_type.is_some()));
    }
    let mut extra = Vec::new();
    if let Some(cond) = ace.kind().condition() {
        condition::encode(&mut extra, cond)?;
    }
    if let AceKind::SystemResourceAttribute(attr) = ace.kind() {
        claim::encode(&mut extra, attr)?;
    }
    Ok((len + extra.len()).next_multiple_of(4))
}

fn decode_ace(r: &Reader<'_>, pos: usize, acl_end: usize) -> Result<(Ace, usize)> {
    let code = r.u8(pos, "ACE header")?;
    let flag_bits = r.u8(pos + 1, "ACE header")?;
    let size = r.u16(pos + 2, "ACE header")?;
    let usize_size = usize::from(size);
    if usize_size < 8 || !usize_size.is_multiple_of(4) || pos + usize_size > acl_end {
        return Err(BinaryError::new(pos + 2, BinaryErrorKind::AceSize(size)));
    }
    let end = pos + usize_size;
    let ace_type = AceType::from_code(code)
        .ok_or_else(|| BinaryError::new(pos, BinaryErrorKind::UnsupportedAceType(code)))?;
    let flags = AceFlags::from_bits(flag_bits).ok_or_else(|| {
        BinaryError::new(pos + 1, BinaryErrorKind::UnsupportedAceFlags(flag_bits))
    })?;
    // Reads inside the ACE only.
    let ace_reader = Reader::new(r.bytes(0, end, "ACE")?);
    let mask = ace_reader.u32(pos + 4, "ACE mask")?.into();
    let mut cur = pos + 8;
    let mut objects = ObjectTypes::default();
    if ace_type.is_object() {
        let obj_flags = ace_reader.u32(cur, "object ACE flags")?;
        if obj_flags & !3 != 0 {
            return Err(BinaryError::new(
                cur,
                BinaryErrorKind::UnsupportedObjectFlags(obj_flags),
            ));
        }
        cur += 4;
        if obj_flags & 1 != 0 {
            objects.object_type = Some(Guid::from_bytes(ace_reader.array(cur, "object GUID")?));
            cur += 16;
        }
        if obj_flags & 2 != 0 {
            objects.inherited_object_type = Some(Guid::from_bytes(
                ace_reader.array(cur, "inherited object GUID")?,
            ));
            cur += 16;
        }
    }
    let (sid, sid_len) = decode_sid(&ace_reader, cur)?;
    cur += sid_len;
    let rest = ace_reader.bytes(cur, end.saturating_sub(cur), "ACE data")?;
    let cond = || {
        condition::decode(rest).map_err(|(at, fault)| {
            let kind = match fault {
                Fault::TooDeep => BinaryErrorKind::ConditionTooDeep,
                Fault::Invalid(m) => BinaryErrorKind::InvalidCondition(m),
            };
            BinaryError::new(cur + at, kind)
        })
    };
    let kind = match ace_type {
        AceType::AccessAllowed => AceKind::AccessAllowed,
        AceType::AccessDenied => AceKind::AccessDenied,
        AceType::SystemAudit => AceKind::SystemAudit,
        AceType::SystemAlarm => AceKind::SystemAlarm,
        AceType::SystemMandatoryLabel => AceKind::SystemMandatoryLabel,
        AceType::SystemScopedPolicyId => AceKind::SystemScopedPolicyId,
        AceType::AccessAllowedObject => AceKind::AccessAllowedObject(objects),
        AceType::AccessDeniedObject => AceKind::AccessDeniedObject(objects),
        AceType::SystemAuditObject => AceKind::SystemAuditObject(objects),
        AceType::SystemAlarmObject => AceKind::SystemAlarmObject(objects),
        AceType::AccessAllowedCallback => AceKind::AccessAllowedCallback(cond()?),
        AceType::AccessDeniedCallback => AceKind::AccessDeniedCallback(cond()?),
        AceType::SystemAuditCallback => AceKind::SystemAuditCallback(cond()?),
        AceType::AccessAllowedCallbackObject => {
            AceKind::AccessAllowedCallbackObject(objects, cond()?)
        }
        AceType::SystemResourceAttribute => {
            AceKind::SystemResourceAttribute(claim::decode(rest).map_err(|(at, m)| {
                BinaryError::new(cur + at, BinaryErrorKind::InvalidResourceAttribute(m))
            })?)
        }
    };
    let ace = Ace::new(kind, flags, mask, sid).map_err(|e| invalid(pos, e))?;
    Ok((ace, usize_size))
}

fn encode_acl(out: &mut Vec<u8>, acl: &Acl) -> Result<()> {
    let start = out.len();
    let count = u16::try_from(acl.len())
        .map_err(|_| BinaryError::new(0, BinaryErrorKind::AclTooLarge(acl.len())))?;
    out.extend_from_slice(&[acl.revision().byte(), 0, 0, 0]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    for ace in acl.aces() {
        encode_ace(out, ace)?;
    }
    out.resize(out.len() + acl.slack(), 0);
    let size = out.len() - start;
    let size16 =
        u16::try_from(size).map_err(|_| BinaryError::new(0, BinaryErrorKind::AclTooLarge(size)))?;
    if let Some(slot) = out.get_mut(start + 2..start + 4) {
        slot.copy_from_slice(&size16.to_le_bytes());
    }
    Ok(())
}

fn encode_ace(out: &mut Vec<u8>, ace: &Ace) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[ace.ace_type().code(), ace.flags().bits(), 0, 0]);
    out.extend_from_slice(&ace.mask().bits().to_le_bytes());
    if let Some(objects) = ace.kind().object_types() {
        let flags = u32::from(objects.object_type.is_some())
            | (u32::from(objects.inherited_object_type.is_some()) << 1);
        out.extend_from_slice(&flags.to_le_bytes());
        for g in [objects.object_type, objects.inherited_object_type]
            .into_iter()
            .flatten()
        {
            out.extend_from_slice(&g.to_bytes());
        }
    }
    encode_sid(out, ace.sid());
    if let Some(cond) = ace.kind().condition() {
        condition::encode(out, cond)?;
    }
    if let AceKind::SystemResourceAttribute(attr) = ace.kind() {
        claim::encode(out, attr)?;
    }
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    let size = out.len() - start;
    let size16 =
        u16::try_from(size).map_err(|_| BinaryError::new(0, BinaryErrorKind::AclTooLarge(size)))?;
    if let Some(slot) = out.get_mut(start + 2..start + 4) {
        slot.copy_from_slice(&size16.to_le_bytes());
    }
    Ok(())
}
