//! The SDDL alias tables: two-letter SID aliases (MS-DTYP 2.5.1.1 `sid-token`) and access
//! right aliases.

use crate::mask::AccessMask;
use crate::sid::Sid;

/// What a SID alias stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AliasTarget {
    /// A fixed SID.
    Fixed(Sid),
    /// A RID under the machine SID.
    Machine(u32),
    /// A RID under the domain SID.
    Domain(u32),
    /// A RID under the forest root domain SID.
    Root(u32),
}

use AliasTarget::{Domain, Fixed, Machine, Root};

/// Every SID alias, in the order Windows looks them up (fixed SIDs first).
pub(crate) const SID_ALIASES: &[(&str, AliasTarget)] = &[
    ("WD", Fixed(Sid::EVERYONE)),
    ("CO", Fixed(Sid::CREATOR_OWNER)),
    ("CG", Fixed(Sid::CREATOR_GROUP)),
    ("OW", Fixed(Sid::OWNER_RIGHTS)),
    ("NU", Fixed(Sid::NETWORK)),
    ("IU", Fixed(Sid::INTERACTIVE)),
    ("SU", Fixed(Sid::SERVICE)),
    ("AN", Fixed(Sid::ANONYMOUS)),
    ("ED", Fixed(Sid::known(5, &[9]))),
    ("PS", Fixed(Sid::PRINCIPAL_SELF)),
    ("AU", Fixed(Sid::AUTHENTICATED_USERS)),
    ("RC", Fixed(Sid::known(5, &[12]))),
    ("SY", Fixed(Sid::LOCAL_SYSTEM)),
    ("LS", Fixed(Sid::LOCAL_SERVICE)),
    ("NS", Fixed(Sid::NETWORK_SERVICE)),
    ("WR", Fixed(Sid::known(5, &[33]))),
    ("BA", Fixed(Sid::BUILTIN_ADMINISTRATORS)),
    ("BU", Fixed(Sid::BUILTIN_USERS)),
    ("BG", Fixed(Sid::BUILTIN_GUESTS)),
    ("PU", Fixed(Sid::known(5, &[32, 547]))),
    ("AO", Fixed(Sid::known(5, &[32, 548]))),
    ("SO", Fixed(Sid::known(5, &[32, 549]))),
    ("PO", Fixed(Sid::known(5, &[32, 550]))),
    ("BO", Fixed(Sid::known(5, &[32, 551]))),
    ("RE", Fixed(Sid::known(5, &[32, 552]))),
    ("RU", Fixed(Sid::known(5, &[32, 554]))),
    ("RD", Fixed(Sid::known(5, &[32, 555]))),
    ("NO", Fixed(Sid::known(5, &[32, 556]))),
    ("MU", Fixed(Sid::known(5, &[32, 558]))),
    ("LU", Fixed(Sid::known(5, &[32, 559]))),
    ("IS", Fixed(Sid::known(5, &[32, 568]))),
    ("CY", Fixed(Sid::known(5, &[32, 569]))),
    ("ER", Fixed(Sid::known(5, &[32, 573]))),
    ("CD", Fixed(Sid::known(5, &[32, 574]))),
    ("RA", Fixed(Sid::known(5, &[32, 575]))),
    ("ES", Fixed(Sid::known(5, &[32, 576]))),
    ("MS", Fixed(Sid::known(5, &[32, 577]))),
    ("HA", Fixed(Sid::known(5, &[32, 578]))),
    ("AA", Fixed(Sid::known(5, &[32, 579]))),
    ("RM", Fixed(Sid::known(5, &[32, 580]))),
    ("UD", Fixed(Sid::known(5, &[84, 0, 0, 0, 0, 0]))),
    ("AC", Fixed(Sid::known(15, &[2, 1]))),
    ("LW", Fixed(Sid::known(16, &[4096]))),
    ("ME", Fixed(Sid::known(16, &[8192]))),
    ("MP", Fixed(Sid::known(16, &[8448]))),
    ("HI", Fixed(Sid::known(16, &[12288]))),
    ("SI", Fixed(Sid::known(16, &[16384]))),
    ("AS", Fixed(Sid::known(18, &[1]))),
    ("SS", Fixed(Sid::known(18, &[2]))),
    ("RO", Root(498)),
    ("LA", Machine(500)),
    ("LG", Machine(501)),
    ("DA", Domain(512)),
    ("DU", Domain(513)),
    ("DG", Domain(514)),
    ("DC", Domain(515)),
    ("DD", Domain(516)),
    ("CA", Domain(517)),
    ("SA", Root(518)),
    ("EA", Root(519)),
    ("PA", Domain(520)),
    ("CN", Domain(522)),
    ("AP", Domain(525)),
    ("KA", Domain(526)),
    ("EK", Root(527)),
    ("RS", Domain(553)),
];

/// Rights with a two-letter name, in the order Windows prints them.
pub(crate) const RIGHT_BITS: &[(&str, AccessMask)] = &[
    ("CC", AccessMask::DS_CREATE_CHILD),
    ("DC", AccessMask::DS_DELETE_CHILD),
    ("LC", AccessMask::DS_LIST_CHILDREN),
    ("SW", AccessMask::DS_SELF_WRITE),
    ("RP", AccessMask::DS_READ_PROPERTY),
    ("WP", AccessMask::DS_WRITE_PROPERTY),
    ("DT", AccessMask::DS_DELETE_TREE),
    ("LO", AccessMask::DS_LIST_OBJECT),
    ("CR", AccessMask::DS_CONTROL_ACCESS),
    ("SD", AccessMask::DELETE),
    ("RC", AccessMask::READ_CONTROL),
    ("WD", AccessMask::WRITE_DAC),
    ("WO", AccessMask::WRITE_OWNER),
    ("GA", AccessMask::GENERIC_ALL),
    ("GX", AccessMask::GENERIC_EXECUTE),
    ("GW", AccessMask::GENERIC_WRITE),
    ("GR", AccessMask::GENERIC_READ),
];

/// Composite rights printed when the mask equals them exactly.
pub(crate) const RIGHT_COMPOSITES: &[(&str, AccessMask)] = &[
    ("FA", AccessMask::FILE_ALL_ACCESS),
    ("FR", AccessMask::FILE_GENERIC_READ),
    ("FW", AccessMask::FILE_GENERIC_WRITE),
    ("FX", AccessMask::FILE_GENERIC_EXECUTE),
    ("KA", AccessMask::KEY_ALL_ACCESS),
    ("KR", AccessMask::KEY_READ),
    ("KW", AccessMask::KEY_WRITE),
];

/// Aliases accepted on input only.
pub(crate) const RIGHT_INPUT_ONLY: &[(&str, AccessMask)] = &[
    ("KX", AccessMask::KEY_READ),
    ("NW", AccessMask::LABEL_NO_WRITE_UP),
    ("NR", AccessMask::LABEL_NO_READ_UP),
    ("NX", AccessMask::LABEL_NO_EXECUTE_UP),
];

/// Mandatory label policy names, printed in `ML` ACEs.
pub(crate) const LABEL_BITS: &[(&str, AccessMask)] = &[
    ("NW", AccessMask::LABEL_NO_WRITE_UP),
    ("NR", AccessMask::LABEL_NO_READ_UP),
    ("NX", AccessMask::LABEL_NO_EXECUTE_UP),
];

/// The value of a two-letter right (upper case).
pub(crate) fn right_alias(pair: [u8; 2]) -> Option<AccessMask> {
    RIGHT_BITS
        .iter()
        .chain(RIGHT_COMPOSITES)
        .chain(RIGHT_INPUT_ONLY)
        .find(|(name, _)| name.as_bytes() == pair)
        .map(|&(_, mask)| mask)
}

/// The target of a two-letter SID alias (upper case).
pub(crate) fn sid_alias(pair: [u8; 2]) -> Option<(&'static str, AliasTarget)> {
    SID_ALIASES
        .iter()
        .find(|(name, _)| name.as_bytes() == pair)
        .copied()
}
