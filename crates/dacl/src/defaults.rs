//! The default descriptors of the services a root certification server and a licensing server
//! expose.
//!
//! Every default is owned by Local System (`O:SYG:SY`), so no network caller is ever the owner
//! and none gets the owner's implicit READ_CONTROL and WRITE_DAC, and every DACL is protected
//! (`P`), so nothing inherited can widen it. Administrators change DACLs with the `rms-root acl`
//! command, which edits the stored descriptor; they do not need rights on it.
//!
//! | service | default SDDL | meaning |
//! | --- | --- | --- |
//! | `SubEnrollService` | `O:SYG:SYD:P` | empty DACL: everyone is refused |
//! | `ChainService` | `O:SYG:SYD:P(A;;DC;;;WD)` | everyone may `read-chain` |
//! | `PublishingService` | `O:SYG:SYD:P(A;;LC;;;AU)` | Authenticated Users may `issue-publishing-license` |
//! | `LicensingService` | `O:SYG:SYD:P(A;;SW;;;AU)` | Authenticated Users may `issue-use-license` |
//! | `RenewalService` | `O:SYG:SYD:P(A;;RP;;;WD)` | everyone may `renew` (renewal is authenticated by the SLC key) |
//!
//! Our rights are bits 0-5 of the mask, so SDDL prints them with the two-letter names Windows
//! gives those bits: `CC` subenroll, `DC` read-chain, `LC` issue-publishing-license, `SW`
//! issue-use-license, `RP` renew, `WP` administer.
//!
//! To let the rights-management administrators sub-enroll licensing servers, an administrator
//! runs [`GRANT_ADMINS_COMMAND`]; the descriptor then reads
//! `O:SYG:SYD:P(A;;CC;;;S-1-5-21-<cluster domain>-<rid of rms-admins>)`.

use std::fmt;
use std::str::FromStr;

use crate::ace::Ace;
use crate::acl::Acl;
use crate::descriptor::{AclState, Control, SecurityDescriptor};
use crate::error::Error;
use crate::mask::AccessMask;
use crate::sid::Sid;

/// The one command that lets the rights-management administrators group sub-enroll.
pub const GRANT_ADMINS_COMMAND: &str = "rms-root acl grant SubEnrollService rms-admins subenroll";

/// A service guarded by a DACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// Sub-enrollment of licensing servers (root only). Denies everyone by default.
    SubEnroll,
    /// The certification chain endpoint.
    Chain,
    /// Issuing publishing licenses.
    Publishing,
    /// Issuing use licenses.
    Licensing,
    /// Renewing a server licensor certificate.
    Renewal,
}

impl Service {
    /// Every service.
    pub const ALL: [Service; 5] = [
        Service::SubEnroll,
        Service::Chain,
        Service::Publishing,
        Service::Licensing,
        Service::Renewal,
    ];

    /// The name used on the command line and in configuration.
    pub const fn name(self) -> &'static str {
        match self {
            Service::SubEnroll => "SubEnrollService",
            Service::Chain => "ChainService",
            Service::Publishing => "PublishingService",
            Service::Licensing => "LicensingService",
            Service::Renewal => "RenewalService",
        }
    }

    /// The right a caller needs to use the service.
    pub const fn required_right(self) -> AccessMask {
        match self {
            Service::SubEnroll => AccessMask::SUBENROLL,
            Service::Chain => AccessMask::READ_CHAIN,
            Service::Publishing => AccessMask::ISSUE_PUBLISHING_LICENSE,
            Service::Licensing => AccessMask::ISSUE_USE_LICENSE,
            Service::Renewal => AccessMask::RENEW,
        }
    }

    /// Who the default DACL lets in, if anyone.
    const fn default_trustee(self) -> Option<Sid> {
        match self {
            Service::SubEnroll => None,
            Service::Chain | Service::Renewal => Some(Sid::EVERYONE),
            Service::Publishing | Service::Licensing => Some(Sid::AUTHENTICATED_USERS),
        }
    }

    /// The default descriptor's SDDL.
    pub const fn default_sddl(self) -> &'static str {
        match self {
            Service::SubEnroll => "O:SYG:SYD:P",
            Service::Chain => "O:SYG:SYD:P(A;;DC;;;WD)",
            Service::Publishing => "O:SYG:SYD:P(A;;LC;;;AU)",
            Service::Licensing => "O:SYG:SYD:P(A;;SW;;;AU)",
            Service::Renewal => "O:SYG:SYD:P(A;;RP;;;WD)",
        }
    }

    /// The default descriptor.
    pub fn default_descriptor(self) -> SecurityDescriptor {
        let aces = self
            .default_trustee()
            .map(|sid| Ace::allow(sid, self.required_right()))
            .into_iter()
            .collect();
        SecurityDescriptor::new()
            .with_owner(Some(Sid::LOCAL_SYSTEM))
            .with_group(Some(Sid::LOCAL_SYSTEM))
            .with_trusted_dacl(AclState::Present(Acl::from_aces(aces)))
            .with_control(Control::DACL_PROTECTED)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Service {
    type Err = Error;

    /// The service name, case-insensitive, with or without the `Service` suffix.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Service::ALL
            .into_iter()
            .find(|svc| {
                let name = svc.name();
                name.eq_ignore_ascii_case(wanted)
                    || name
                        .strip_suffix("Service")
                        .is_some_and(|short| short.eq_ignore_ascii_case(wanted))
            })
            .ok_or_else(|| Error::UnknownService(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_match_their_documented_sddl() {
        for svc in Service::ALL {
            let sd = svc.default_descriptor();
            assert_eq!(sd.to_string(), svc.default_sddl(), "{svc}");
            assert_eq!(
                svc.default_sddl().parse::<SecurityDescriptor>().unwrap(),
                sd
            );
            assert_eq!(svc.name().parse::<Service>().unwrap(), svc);
        }
        assert_eq!("subenroll".parse::<Service>().unwrap(), Service::SubEnroll);
        assert!("Nope".parse::<Service>().is_err());
    }
}
