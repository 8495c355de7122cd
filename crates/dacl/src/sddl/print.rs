//! Printing SDDL in the canonical form Windows produces.

use std::fmt::Write as _;

use super::SidContext;
use super::aliases::{LABEL_BITS, RIGHT_BITS, RIGHT_COMPOSITES};
use crate::ace::{Ace, AceKind, AceType};
use crate::acl::Acl;
use crate::descriptor::{AclState, Control, SecurityDescriptor};
use crate::mask::AccessMask;

pub(crate) fn descriptor_to_sddl(sd: &SecurityDescriptor, ctx: &SidContext) -> String {
    let mut out = String::new();
    if let Some(owner) = sd.owner() {
        out.push_str("O:");
        out.push_str(&ctx.sid_to_sddl(owner));
    }
    if let Some(group) = sd.group() {
        out.push_str("G:");
        out.push_str(&ctx.sid_to_sddl(group));
    }
    let control = sd.control();
    write_acl_section(
        &mut out,
        "D:",
        sd.dacl(),
        [
            control.contains(Control::DACL_PROTECTED),
            control.contains(Control::DACL_AUTO_INHERIT_REQ),
            control.contains(Control::DACL_AUTO_INHERITED),
        ],
        ctx,
    );
    write_acl_section(
        &mut out,
        "S:",
        sd.sacl(),
        [
            control.contains(Control::SACL_PROTECTED),
            control.contains(Control::SACL_AUTO_INHERIT_REQ),
            control.contains(Control::SACL_AUTO_INHERITED),
        ],
        ctx,
    );
    out
}

fn write_acl_section(
    out: &mut String,
    tag: &str,
    state: &AclState,
    [protected, auto_req, auto_inherited]: [bool; 3],
    ctx: &SidContext,
) {
    if matches!(state, AclState::NotPresent) {
        return;
    }
    out.push_str(tag);
    for (on, name) in [(protected, "P"), (auto_req, "AR"), (auto_inherited, "AI")] {
        if on {
            out.push_str(name);
        }
    }
    match state {
        AclState::Null => out.push_str("NO_ACCESS_CONTROL"),
        AclState::Present(acl) => write_acl(out, acl, ctx),
        AclState::NotPresent => {}
    }
}

pub(crate) fn write_acl(out: &mut String, acl: &Acl, ctx: &SidContext) {
    for ace in acl.aces() {
        write_ace(out, ace, ctx);
    }
}

pub(crate) fn write_ace(out: &mut String, ace: &Ace, ctx: &SidContext) {
    out.push('(');
    out.push_str(ace.ace_type().sddl());
    out.push(';');
    let _ = write!(out, "{}", ace.flags());
    out.push(';');
    write_rights(
        out,
        ace.mask(),
        ace.ace_type() == AceType::SystemMandatoryLabel,
    );
    out.push(';');
    if let Some(objects) = ace.kind().object_types() {
        if let Some(g) = objects.object_type {
            let _ = write!(out, "{g}");
        }
        out.push(';');
        if let Some(g) = objects.inherited_object_type {
            let _ = write!(out, "{g}");
        }
        out.push(';');
    } else {
        out.push_str(";;");
    }
    out.push_str(&ctx.sid_to_sddl(ace.sid()));
    if let Some(condition) = ace.kind().condition() {
        out.push(';');
        out.push_str(&condition.to_sddl(ctx));
    }
    if let AceKind::SystemResourceAttribute(attr) = ace.kind() {
        out.push(';');
        out.push_str(&attr.to_sddl(ctx));
    }
    out.push(')');
}

/// Rights as Windows prints them: an exact composite alias, else two-letter names in bit order
/// if every bit has one, else lower-case hex. `ML` ACEs name bits 0-2 `NW`, `NR`, `NX`.
pub(crate) fn write_rights(out: &mut String, mask: AccessMask, label: bool) {
    if mask.is_empty() {
        return;
    }
    if !label && let Some((name, _)) = RIGHT_COMPOSITES.iter().find(|(_, m)| *m == mask) {
        out.push_str(name);
        return;
    }
    let table: Vec<(&str, AccessMask)> = if label {
        LABEL_BITS
            .iter()
            .chain(RIGHT_BITS.iter().filter(|(_, m)| m.bits() > 0x4))
            .copied()
            .collect()
    } else {
        RIGHT_BITS.to_vec()
    };
    let named = table.iter().fold(AccessMask::EMPTY, |acc, (_, m)| acc | *m);
    if !named.contains(mask) {
        let _ = write!(out, "0x{:x}", mask.bits());
        return;
    }
    for (name, bit) in table {
        if mask.contains(bit) {
            out.push_str(name);
        }
    }
}

impl AccessMask {
    /// The SDDL form of this mask, as Windows prints it in an allow or deny ACE (`GA`,
    /// `CCDC`, `FA`, or `0x...`).
    #[must_use]
    pub fn to_sddl(self) -> String {
        let mut out = String::new();
        write_rights(&mut out, self, false);
        out
    }
}
