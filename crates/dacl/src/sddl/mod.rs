//! SDDL, the Security Descriptor Definition Language (MS-DTYP 2.5.1): parsing and printing.

pub(crate) mod aliases;
pub(crate) mod claim;
pub(crate) mod condition;
pub(crate) mod cursor;
pub(crate) mod parse;
pub(crate) mod print;

use crate::sid::{DomainSid, Sid};
use aliases::{AliasTarget, SID_ALIASES};

/// The domain SIDs that domain-relative SDDL aliases resolve against: `DA`, `DU`, ... (the
/// domain), `LA`, `LG` (the machine) and `EA`, `SA`, `EK`, `RO` (the forest root domain). The
/// machine and root domain default to the domain. Printing uses the same context, so a SID of
/// the domain prints as its alias and any other domain's SID prints numerically.
///
/// ```
/// use rms_dacl::{DomainSid, SecurityDescriptor, SidContext};
/// let ctx = SidContext::domain(DomainSid::new(1, 2, 3));
/// let sd = SecurityDescriptor::from_sddl("D:(A;;GA;;;DA)", &ctx)?;
/// assert_eq!(sd.to_sddl(&SidContext::none()), "D:(A;;GA;;;S-1-5-21-1-2-3-512)");
/// assert_eq!(sd.to_sddl(&ctx), "D:(A;;GA;;;DA)");
/// assert!("D:(A;;GA;;;DA)".parse::<SecurityDescriptor>().is_err()); // no domain given
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SidContext {
    domain: Option<DomainSid>,
    machine: Option<DomainSid>,
    root_domain: Option<DomainSid>,
}

impl SidContext {
    /// No domain: domain-relative aliases are refused on input and never printed.
    #[must_use]
    pub const fn none() -> SidContext {
        SidContext {
            domain: None,
            machine: None,
            root_domain: None,
        }
    }

    /// One domain SID for the domain, the machine and the forest root.
    #[must_use]
    pub const fn domain(domain: DomainSid) -> SidContext {
        SidContext {
            domain: Some(domain),
            machine: Some(domain),
            root_domain: Some(domain),
        }
    }

    /// With a separate machine SID (for `LA`, `LG`).
    #[must_use]
    pub const fn with_machine(mut self, machine: DomainSid) -> SidContext {
        self.machine = Some(machine);
        self
    }

    /// With a separate forest root domain SID (for `EA`, `SA`, `EK`, `RO`).
    #[must_use]
    pub const fn with_root_domain(mut self, root: DomainSid) -> SidContext {
        self.root_domain = Some(root);
        self
    }

    /// The SID an alias target stands for, if the needed domain is known.
    pub(crate) fn resolve(&self, target: AliasTarget) -> Option<Sid> {
        match target {
            AliasTarget::Fixed(sid) => Some(sid),
            AliasTarget::Machine(rid) => self.machine.map(|d| d.well_known(rid)),
            AliasTarget::Domain(rid) => self.domain.map(|d| d.well_known(rid)),
            AliasTarget::Root(rid) => self.root_domain.map(|d| d.well_known(rid)),
        }
    }

    /// The alias of a SID, if it has one in this context.
    #[must_use]
    pub fn alias_of(&self, sid: &Sid) -> Option<&'static str> {
        SID_ALIASES
            .iter()
            .find(|(_, target)| self.resolve(*target).as_ref() == Some(sid))
            .map(|(name, _)| *name)
    }

    /// The SDDL form of a SID: its alias if it has one, else `S-1-...`.
    #[must_use]
    pub fn sid_to_sddl(&self, sid: &Sid) -> String {
        match self.alias_of(sid) {
            Some(alias) => alias.to_owned(),
            None => sid.to_string(),
        }
    }

    /// Parses a SID alias or numeric SID (`BA`, `S-1-5-32-544`) with this context.
    ///
    /// # Errors
    /// [`SddlError`](crate::SddlError) for an unknown alias, an alias needing a domain this
    /// context lacks, or a malformed numeric SID.
    pub fn parse_sid(&self, text: &str) -> Result<Sid, crate::SddlError> {
        let mut c = cursor::Cursor::new(text);
        let sid = parse::parse_sid(&mut c, self)?;
        if !c.at_end() {
            return Err(c.unexpected("the end of the SID"));
        }
        Ok(sid)
    }
}
