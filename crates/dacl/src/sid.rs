//! Security identifiers (MS-DTYP 2.4.2): revision 1, a 48-bit identifier authority and at most
//! 15 32-bit sub-authorities.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, SddlError, SddlErrorKind};
use crate::sddl::cursor::Cursor;

/// The largest identifier authority (48 bits).
const MAX_AUTHORITY: u64 = 0xFFFF_FFFF_FFFF;

/// A security identifier, such as `S-1-5-32-544` (BUILTIN\Administrators).
///
/// The revision is always 1, the identifier authority fits in 48 bits and there are at most 15
/// sub-authorities: other values cannot be constructed. `Sid` is `Copy` and allocation-free.
///
/// ```
/// use rms_dacl::Sid;
/// let admins: Sid = "S-1-5-32-544".parse()?;
/// assert_eq!(admins, Sid::BUILTIN_ADMINISTRATORS);
/// assert_eq!(admins.to_string(), "S-1-5-32-544");
/// assert_eq!(admins.rid(), Some(544));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Eq, PartialOrd, Ord)]
pub struct Sid {
    authority: u64,
    count: u8,
    // Unused entries are always zero, so the derived traits only see meaningful data.
    subs: [u32; Sid::MAX_SUB_AUTHORITIES],
}

impl Sid {
    /// The most sub-authorities a SID can have.
    pub const MAX_SUB_AUTHORITIES: usize = 15;

    /// Null SID, `S-1-0-0`.
    pub const NULL: Sid = Sid::known(0, &[0]);
    /// Everyone, `S-1-1-0` (SDDL `WD`).
    pub const EVERYONE: Sid = Sid::known(1, &[0]);
    /// Local, `S-1-2-0`.
    pub const LOCAL: Sid = Sid::known(2, &[0]);
    /// Creator Owner, `S-1-3-0` (`CO`): a placeholder replaced by the creator when inherited.
    pub const CREATOR_OWNER: Sid = Sid::known(3, &[0]);
    /// Creator Group, `S-1-3-1` (`CG`).
    pub const CREATOR_GROUP: Sid = Sid::known(3, &[1]);
    /// Owner Rights, `S-1-3-4` (`OW`): stands for the current owner and replaces the owner's
    /// implicit READ_CONTROL and WRITE_DAC when present.
    pub const OWNER_RIGHTS: Sid = Sid::known(3, &[4]);
    /// Network logon, `S-1-5-2` (`NU`).
    pub const NETWORK: Sid = Sid::known(5, &[2]);
    /// Interactive logon, `S-1-5-4` (`IU`).
    pub const INTERACTIVE: Sid = Sid::known(5, &[4]);
    /// Service logon, `S-1-5-6` (`SU`).
    pub const SERVICE: Sid = Sid::known(5, &[6]);
    /// Anonymous logon, `S-1-5-7` (`AN`).
    pub const ANONYMOUS: Sid = Sid::known(5, &[7]);
    /// Principal Self, `S-1-5-10` (`PS`).
    pub const PRINCIPAL_SELF: Sid = Sid::known(5, &[10]);
    /// Authenticated Users, `S-1-5-11` (`AU`).
    pub const AUTHENTICATED_USERS: Sid = Sid::known(5, &[11]);
    /// Local System, `S-1-5-18` (`SY`).
    pub const LOCAL_SYSTEM: Sid = Sid::known(5, &[18]);
    /// Local Service, `S-1-5-19` (`LS`).
    pub const LOCAL_SERVICE: Sid = Sid::known(5, &[19]);
    /// Network Service, `S-1-5-20` (`NS`).
    pub const NETWORK_SERVICE: Sid = Sid::known(5, &[20]);
    /// BUILTIN\Administrators, `S-1-5-32-544` (`BA`).
    pub const BUILTIN_ADMINISTRATORS: Sid = Sid::known(5, &[32, 544]);
    /// BUILTIN\Users, `S-1-5-32-545` (`BU`).
    pub const BUILTIN_USERS: Sid = Sid::known(5, &[32, 545]);
    /// BUILTIN\Guests, `S-1-5-32-546` (`BG`).
    pub const BUILTIN_GUESTS: Sid = Sid::known(5, &[32, 546]);

    /// Builds a well-known SID from trusted constants (checked at compile time).
    pub(crate) const fn known(authority: u64, subs: &[u32]) -> Sid {
        assert!(authority <= MAX_AUTHORITY && subs.len() <= Sid::MAX_SUB_AUTHORITIES);
        let mut out = [0u32; Sid::MAX_SUB_AUTHORITIES];
        let mut i = 0;
        while i < subs.len() {
            out[i] = subs[i];
            i += 1;
        }
        #[allow(
            clippy::cast_possible_truncation,
            reason = "at most MAX_SUB_AUTHORITIES (15), asserted above; u8::try_from is not const"
        )]
        let count = subs.len() as u8;
        Sid {
            authority,
            count,
            subs: out,
        }
    }

    /// Builds a SID from its identifier authority and sub-authorities.
    ///
    /// # Errors
    /// [`Error::SidAuthorityTooLarge`] if `authority` needs more than 48 bits,
    /// [`Error::TooManySubAuthorities`] if there are more than 15 sub-authorities.
    pub fn new(authority: u64, sub_authorities: &[u32]) -> Result<Sid, Error> {
        if authority > MAX_AUTHORITY {
            return Err(Error::SidAuthorityTooLarge(authority));
        }
        let mut sid = Sid {
            authority,
            count: 0,
            subs: [0; Sid::MAX_SUB_AUTHORITIES],
        };
        for &sub in sub_authorities {
            sid = sid.with_sub_authority(sub)?;
        }
        Ok(sid)
    }

    /// This SID with one more sub-authority appended (for example a RID under a domain).
    ///
    /// # Errors
    /// [`Error::TooManySubAuthorities`] if the SID already has 15.
    pub fn with_sub_authority(mut self, sub: u32) -> Result<Sid, Error> {
        let n = usize::from(self.count);
        match self.subs.get_mut(n) {
            Some(slot) => {
                *slot = sub;
                self.count += 1;
                Ok(self)
            }
            None => Err(Error::TooManySubAuthorities(n + 1)),
        }
    }

    /// The revision, always 1.
    #[must_use]
    pub fn revision(&self) -> u8 {
        1
    }

    /// The 48-bit identifier authority.
    #[must_use]
    pub fn authority(&self) -> u64 {
        self.authority
    }

    /// The sub-authorities, in order.
    #[must_use]
    pub fn sub_authorities(&self) -> &[u32] {
        self.subs.get(..usize::from(self.count)).unwrap_or(&[])
    }

    /// The last sub-authority (the relative identifier), if any.
    #[must_use]
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities().last().copied()
    }

    /// The SID without its last sub-authority, if it has one.
    #[must_use]
    pub fn parent(&self) -> Option<Sid> {
        let n = self.count.checked_sub(1)?;
        let mut parent = *self;
        if let Some(slot) = parent.subs.get_mut(usize::from(n)) {
            *slot = 0;
        }
        parent.count = n;
        Some(parent)
    }

    /// Whether this SID is `domain` followed by exactly one more sub-authority.
    #[must_use]
    pub fn is_in_domain(&self, domain: &Sid) -> bool {
        self.parent().as_ref() == Some(domain)
    }

    /// The number of sub-authorities (at most 15), as the binary form stores it.
    pub(crate) fn sub_authority_count(&self) -> u8 {
        self.count
    }

    /// Length of the binary form in bytes (8 + 4 per sub-authority).
    #[must_use]
    pub fn binary_len(&self) -> usize {
        8 + 4 * usize::from(self.count)
    }

    /// Parses the numeric `S-1-...` form at the cursor. Components are decimal or `0x` hex;
    /// a hex `D` immediately followed by `:` is left for the next SDDL section, as Windows does.
    /// Spaces may follow each `-` (`S- 1- 5-32`), which Windows also skips there: it reads each
    /// number as `wcstoul` does. Nowhere else in a SID.
    pub(crate) fn parse_numeric(c: &mut Cursor<'_>) -> Result<Sid, SddlError> {
        let start = c.pos();
        if !(c.eat(b'S') || c.eat(b's')) {
            return Err(c.unexpected("'S-1-' to start a SID"));
        }
        c.expect(b'-', "'-' after 'S'")?;
        c.skip_spaces();
        let rev_pos = c.pos();
        if !c.eat(b'1') || c.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            return Err(c.err_at(
                rev_pos,
                SddlErrorKind::InvalidSid("the revision must be written '1'"),
            ));
        }
        c.expect(b'-', "'-' after the SID revision")?;
        c.skip_spaces();
        let auth_pos = c.pos();
        let authority = parse_component(c)?;
        if authority > MAX_AUTHORITY {
            return Err(c.err_at(
                auth_pos,
                SddlErrorKind::InvalidSid("the identifier authority does not fit in 48 bits"),
            ));
        }
        let mut sid = Sid {
            authority,
            count: 0,
            subs: [0; Sid::MAX_SUB_AUTHORITIES],
        };
        while c.peek() == Some(b'-') {
            c.bump();
            c.skip_spaces();
            let sub_pos = c.pos();
            let value = parse_component(c)?;
            let sub = u32::try_from(value).map_err(|_| {
                c.err_at(
                    sub_pos,
                    SddlErrorKind::InvalidSid(
                        "a sub-authority does not fit in 32 bits (Windows clamps it, we refuse)",
                    ),
                )
            })?;
            sid = sid.with_sub_authority(sub).map_err(|_| {
                c.err_at(
                    sub_pos,
                    SddlErrorKind::InvalidSid("more than 15 sub-authorities"),
                )
            })?;
        }
        if c.pos() == start {
            return Err(c.unexpected("a SID"));
        }
        Ok(sid)
    }
}

/// One numeric SID component: `0x` + hex digits, or decimal digits. At most 64 bits.
fn parse_component(c: &mut Cursor<'_>) -> Result<u64, SddlError> {
    let start = c.pos();
    let hex = c.peek() == Some(b'0')
        && matches!(c.peek_at(1), Some(b'x' | b'X'))
        && c.peek_at(2).is_some_and(|b| b.is_ascii_hexdigit());
    let (radix, mut digits) = if hex {
        c.advance(2);
        (16u64, 0usize)
    } else {
        (10u64, 0usize)
    };
    let mut value: u64 = 0;
    while let Some(b) = c.peek() {
        let digit = match (radix, b) {
            (16, b'D' | b'd') if c.peek_at(1) == Some(b':') => break,
            (16, _) if b.is_ascii_hexdigit() => u64::from(hex_value(b)),
            (10, b'0'..=b'9') => u64::from(b - b'0'),
            _ => break,
        };
        value = value
            .checked_mul(radix)
            .and_then(|v| v.checked_add(digit))
            .ok_or_else(|| {
                c.err_at(
                    start,
                    SddlErrorKind::InvalidSid("a SID component does not fit in 64 bits"),
                )
            })?;
        digits += 1;
        c.bump();
    }
    if digits == 0 {
        return Err(c.unexpected("a decimal or 0x-hex SID component"));
    }
    Ok(value)
}

pub(crate) fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

impl PartialEq for Sid {
    /// Compares the relative identifier first (SIDs of one domain differ there), which keeps
    /// the access check fast. Unused sub-authorities are always zero, so this agrees with
    /// `Hash`.
    fn eq(&self, other: &Sid) -> bool {
        let last = usize::from(self.count).wrapping_sub(1);
        self.count == other.count
            && self.subs.get(last) == other.subs.get(last)
            && self.subs == other.subs
            && self.authority == other.authority
    }
}

impl std::hash::Hash for Sid {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.authority.hash(state);
        self.sub_authorities().hash(state);
    }
}

impl fmt::Display for Sid {
    /// `S-1-<authority>-<sub>...` as Windows prints it: an authority of 2^32 or more in upper-case
    /// hex without leading zeros (`S-1-0x12A05F200-30-40`, from Windows' own output; older
    /// documentation shows 12 lower-case digits), else, and every sub-authority, in decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.authority >= 1 << 32 {
            write!(f, "S-1-0x{:X}", self.authority)?;
        } else {
            write!(f, "S-1-{}", self.authority)?;
        }
        for sub in self.sub_authorities() {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({self})")
    }
}

impl FromStr for Sid {
    type Err = SddlError;

    /// Parses the numeric form `S-1-...` (decimal or `0x` hex components). For two-letter
    /// aliases such as `BA` use [`SidContext::parse_sid`](crate::SidContext::parse_sid).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut c = Cursor::new(s);
        let sid = Sid::parse_numeric(&mut c)?;
        if !c.at_end() {
            return Err(c.unexpected("the end of the SID"));
        }
        Ok(sid)
    }
}

/// A domain SID, `S-1-5-21-a-b-c`: the prefix of every account and group of one Windows domain
/// (or of one cluster, for our services). Domain-relative SDDL aliases (`DA`, `DU`, ...)
/// resolve against it, and [`DomainSid::principal`] builds account and group SIDs under it.
///
/// ```
/// use rms_dacl::DomainSid;
/// let domain = DomainSid::new(2457507606, 2709100691, 398136650);
/// let admins = domain.principal(1105)?;
/// assert_eq!(admins.to_string(), "S-1-5-21-2457507606-2709100691-398136650-1105");
/// assert!(domain.principal(512).is_err()); // below 1000: reserved (512 is Domain Admins)
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainSid(Sid);

impl DomainSid {
    /// The lowest RID of an ordinary (not well-known) principal or group.
    pub const FIRST_PRINCIPAL_RID: u32 = 1000;

    /// `S-1-5-21-a-b-c`.
    #[must_use]
    pub const fn new(a: u32, b: u32, c: u32) -> DomainSid {
        DomainSid(Sid::known(5, &[21, a, b, c]))
    }

    /// Checks that `sid` has the form `S-1-5-21-a-b-c`.
    ///
    /// # Errors
    /// [`Error::NotADomainSid`] otherwise.
    pub fn from_sid(sid: Sid) -> Result<DomainSid, Error> {
        match (sid.authority(), sid.sub_authorities()) {
            (5, [21, _, _, _]) => Ok(DomainSid(sid)),
            _ => Err(Error::NotADomainSid(sid)),
        }
    }

    /// The domain SID itself.
    #[must_use]
    pub fn as_sid(&self) -> &Sid {
        &self.0
    }

    /// An account or group of this domain, `S-1-5-21-a-b-c-rid`, with `rid` ≥ 1000.
    ///
    /// # Errors
    /// [`Error::ReservedRid`] for RIDs below 1000 (use [`DomainSid::well_known`] for those).
    pub fn principal(&self, rid: u32) -> Result<Sid, Error> {
        if rid < Self::FIRST_PRINCIPAL_RID {
            return Err(Error::ReservedRid(rid));
        }
        self.0.with_sub_authority(rid)
    }

    /// A well-known account or group of this domain, such as 512 (Domain Admins).
    #[must_use]
    pub fn well_known(&self, rid: u32) -> Sid {
        // A domain SID has 4 sub-authorities, so a fifth always fits.
        let mut sid = self.0;
        if let Some(slot) = sid.subs.get_mut(4) {
            *slot = rid;
            sid.count = 5;
        }
        sid
    }
}

impl fmt::Display for DomainSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for DomainSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainSid({})", self.0)
    }
}

impl FromStr for DomainSid {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DomainSid::from_sid(s.parse()?)
    }
}

impl From<DomainSid> for Sid {
    fn from(d: DomainSid) -> Sid {
        d.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_and_prints() {
        let sid: Sid = "S-1-5-21-1-2-3-513".parse().unwrap();
        assert_eq!(sid.authority(), 5);
        assert_eq!(sid.sub_authorities(), &[21, 1, 2, 3, 513]);
        assert_eq!(sid.to_string(), "S-1-5-21-1-2-3-513");
    }

    #[test]
    fn hex_components_and_large_authority() {
        let sid: Sid = "S-1-0x20-3-0x4".parse().unwrap();
        assert_eq!(sid.to_string(), "S-1-32-3-4");
        let big: Sid = "S-1-21474836480-32-579".parse().unwrap();
        assert_eq!(big.to_string(), "S-1-0x500000000-32-579");
        assert_eq!(big.to_string().parse::<Sid>().unwrap(), big);
        let top = Sid::new(0xFFFF_FFFF_FFFF, &[1]).unwrap();
        assert_eq!(top.to_string(), "S-1-0xFFFFFFFFFFFF-1");
        assert_eq!(top.to_string().parse::<Sid>().unwrap(), top);
        // Below 2^32 the authority is decimal, however it was written.
        let sid: Sid = "S-1-0xffffffff-1".parse().unwrap();
        assert_eq!(sid.to_string(), "S-1-4294967295-1");
    }

    #[test]
    fn spaces_after_the_dashes_are_skipped_as_windows_does() {
        let sid: Sid = "S- 1-  5- 32-544".parse().unwrap();
        assert_eq!(sid, Sid::BUILTIN_ADMINISTRATORS);
        for bad in ["S -1-5", "S-1 -5", "S-1-5 -32", "S-1-5-\t32", "S-1-5- "] {
            assert!(bad.parse::<Sid>().is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn refuses_bad_sids() {
        for bad in [
            "",
            "S",
            "S-",
            "S-1",
            "S-1-",
            "S-2-5",
            "S-0x1-5-1",
            "S-1-0x1000000000000-1",
            "S-1-5-4294967296",
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
            "S-1-5-x",
            "S-1-5-1 ",
        ] {
            assert!(bad.parse::<Sid>().is_err(), "{bad:?} should fail");
        }
        assert!(Sid::new(1 << 48, &[]).is_err());
        assert!(Sid::new(5, &[0; 16]).is_err());
        assert_eq!(Sid::new(5, &[0; 15]).unwrap().sub_authorities().len(), 15);
    }

    #[test]
    fn domains() {
        let d = DomainSid::new(1, 2, 3);
        assert_eq!(d.well_known(512).to_string(), "S-1-5-21-1-2-3-512");
        assert!(d.well_known(512).is_in_domain(d.as_sid()));
        assert!(DomainSid::from_sid(Sid::BUILTIN_ADMINISTRATORS).is_err());
        assert_eq!(
            "S-1-5-21-1-2-3".parse::<DomainSid>().unwrap(),
            DomainSid::new(1, 2, 3)
        );
    }
}
