//! Certificate policies: the valid policy tree of RFC 5280 §6.1.2 to §6.1.5, with policy
//! mappings, requireExplicitPolicy, inhibitPolicyMapping and inhibitAnyPolicy. Policy
//! qualifiers are ignored (RFC 5280 §6.1 leaves them to the application).
//!
//! The trust anchor's own policy extensions constrain the inputs as RFC 5937 §3 describes: its
//! certificatePolicies narrow the user-initial-policy-set, and its policyConstraints and
//! inhibitAnyPolicy count from the first certificate below it, as those of any issuer do. An
//! anchor with policyMappings is refused ([`ChainError::InvalidPolicyMapping`]): RFC 5937 gives
//! a mapping on an anchor no meaning, and ignoring it would ignore a constraint.
//!
//! The tree is bounded ([`Budget::policy_nodes`](crate::Budget::policy_nodes)): mappings can make
//! it grow exponentially with the length of the path.

use std::collections::BTreeSet;

use const_oid::ObjectIdentifier;

use crate::error::{ChainError, Position};
use crate::{Cert, VerifyOptions};

/// anyPolicy (RFC 5280 §4.2.1.4), `2.5.29.32.0`.
pub const ANY_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32.0");

/// A set of certificate policies. It may hold [`ANY_POLICY`], which stands for every policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PolicySet(BTreeSet<ObjectIdentifier>);

impl PolicySet {
    /// Whether `policy` is in the set, or the set holds anyPolicy.
    #[must_use]
    pub fn allows(&self, policy: &ObjectIdentifier) -> bool {
        self.0.contains(policy) || self.0.contains(&ANY_POLICY)
    }

    /// Whether the set holds anyPolicy.
    #[must_use]
    pub fn is_any(&self) -> bool {
        self.0.contains(&ANY_POLICY)
    }

    /// Whether the set is empty: the path is valid for no policy.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The policies, in OID order.
    pub fn iter(&self) -> impl Iterator<Item = &ObjectIdentifier> {
        self.0.iter()
    }

    /// How many policies the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// What policy processing found for a path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PathPolicies {
    /// The valid policies at the leaf's depth, in the leaf's domain (after mappings).
    pub(crate) authorities_constrained: PolicySet,
    /// The policies of the user-initial-policy-set (in the anchor's domain) the path is valid
    /// for, after RFC 5280 §6.1.5 (g).
    pub(crate) user_constrained: PolicySet,
}

#[derive(Debug, Clone)]
struct Node {
    policy: ObjectIdentifier,
    expected: Vec<ObjectIdentifier>,
    /// Index of the parent in the level above (unused at depth 0).
    parent: usize,
    alive: bool,
}

/// The valid policy tree: `levels[d]` holds the nodes of depth `d`.
struct Tree {
    levels: Vec<Vec<Node>>,
    nodes: u32,
    limit: u32,
}

impl Tree {
    fn new(limit: u32) -> Self {
        Self {
            levels: vec![vec![Node {
                policy: ANY_POLICY,
                expected: vec![ANY_POLICY],
                parent: 0,
                alive: true,
            }]],
            nodes: 1,
            limit,
        }
    }

    fn add(
        &mut self,
        depth: usize,
        parent: usize,
        policy: ObjectIdentifier,
        expected: Vec<ObjectIdentifier>,
    ) -> Result<(), ChainError> {
        self.nodes += 1;
        if self.nodes > self.limit {
            return Err(ChainError::PolicyTreeTooLarge { limit: self.limit });
        }
        while self.levels.len() <= depth {
            self.levels.push(Vec::new());
        }
        if let Some(level) = self.levels.get_mut(depth) {
            level.push(Node {
                policy,
                expected,
                parent,
                alive: true,
            });
        }
        Ok(())
    }

    fn level(&self, depth: usize) -> &[Node] {
        self.levels.get(depth).map_or(&[], Vec::as_slice)
    }

    /// Removes, from the deepest level up, every node above `depth` without a living child,
    /// and below, every node whose parent died. Returns whether the root survives.
    fn prune(&mut self, depth: usize) -> bool {
        for d in 1..self.levels.len() {
            let parents: Vec<bool> = self.level(d - 1).iter().map(|n| n.alive).collect();
            if let Some(level) = self.levels.get_mut(d) {
                for node in level.iter_mut() {
                    node.alive &= parents.get(node.parent).copied().unwrap_or(false);
                }
            }
        }
        for d in (0..depth.min(self.levels.len())).rev() {
            let mut has_child = vec![false; self.level(d).len()];
            for child in self.level(d + 1).iter().filter(|n| n.alive) {
                if let Some(flag) = has_child.get_mut(child.parent) {
                    *flag = true;
                }
            }
            if let Some(level) = self.levels.get_mut(d) {
                for (node, has) in level.iter_mut().zip(has_child) {
                    node.alive &= has;
                }
            }
        }
        self.level(0).first().is_some_and(|root| root.alive)
    }

    fn alive_policies(&self, depth: usize) -> impl Iterator<Item = (usize, &Node)> {
        self.level(depth)
            .iter()
            .enumerate()
            .filter(|(_, n)| n.alive)
    }
}

/// Runs policy processing over `path` (leaf first, as a verified path holds it) ending at
/// `anchor`.
pub(crate) fn process(
    path: &[&Cert],
    anchor: &Cert,
    options: &VerifyOptions,
) -> Result<PathPolicies, ChainError> {
    let anchor_ext = anchor.extensions();
    if !options.initial_explicit_policy()
        && !anchor_ext.has_policy_extensions()
        && path.iter().all(|c| !c.extensions().has_policy_extensions())
    {
        // No certificate asserts a policy and none is required: the tree dies at the first
        // certificate and nothing can fail. The common case, and it costs nothing.
        return Ok(PathPolicies::default());
    }
    if anchor_ext.policy_mappings.is_some() {
        return Err(ChainError::InvalidPolicyMapping {
            cert: anchor.at(Position::Anchor),
            policy: "on the trust anchor".to_owned(),
        });
    }
    let n = path.len();
    let start = u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1);
    let initial = |flag: bool| if flag { 0 } else { start };
    let mut explicit_policy = initial(options.initial_explicit_policy());
    let mut policy_mapping = initial(options.initial_policy_mapping_inhibit());
    let mut inhibit_any = initial(options.initial_any_policy_inhibit());
    let mut user_set: Option<BTreeSet<ObjectIdentifier>> =
        options.initial_policy_set_if_constrained().cloned();
    // RFC 5937 §3: the anchor's policies narrow what the user accepts.
    if let Some(anchor_policies) = &anchor_ext.policies
        && !anchor_policies.contains(&ANY_POLICY)
    {
        let narrowed: BTreeSet<ObjectIdentifier> = match &user_set {
            None => anchor_policies.iter().copied().collect(),
            Some(set) => set
                .iter()
                .filter(|p| anchor_policies.contains(p))
                .copied()
                .collect(),
        };
        user_set = Some(narrowed);
    }
    apply_constraints(
        anchor,
        &mut explicit_policy,
        &mut policy_mapping,
        &mut inhibit_any,
    );

    let mut tree = Some(Tree::new(options.budget().policy_nodes()));
    for (step, cert) in path.iter().rev().enumerate() {
        let i = step + 1;
        let index = n - i;
        let position = Position::Path(index);
        let ext = cert.extensions();
        let self_issued = cert.is_self_issued() && i < n;
        // §6.1.3 (d), (e).
        match (&ext.policies, tree.as_mut()) {
            (Some(policies), Some(t)) => {
                if !grow(t, i, policies, inhibit_any > 0 || self_issued)? {
                    tree = None;
                }
            }
            _ => tree = None,
        }
        // §6.1.3 (f).
        if explicit_policy == 0 && tree.is_none() {
            return Err(ChainError::NoValidPolicy {
                cert: cert.at(position),
            });
        }
        if i == n {
            break;
        }
        // §6.1.4 (a), (b).
        if let Some(mappings) = &ext.policy_mappings {
            if let Some((issuer, subject)) = mappings
                .iter()
                .find(|(a, b)| *a == ANY_POLICY || *b == ANY_POLICY)
            {
                let policy = if *issuer == ANY_POLICY {
                    issuer
                } else {
                    subject
                };
                return Err(ChainError::InvalidPolicyMapping {
                    cert: cert.at(position),
                    policy: policy.to_string(),
                });
            }
            if let Some(t) = tree.as_mut()
                && !map(t, i, mappings, policy_mapping > 0)?
            {
                tree = None;
            }
        }
        // §6.1.4 (h), (i), (j).
        if !cert.is_self_issued() {
            for counter in [&mut explicit_policy, &mut policy_mapping, &mut inhibit_any] {
                *counter = counter.saturating_sub(1);
            }
        }
        apply_constraints(
            cert,
            &mut explicit_policy,
            &mut policy_mapping,
            &mut inhibit_any,
        );
    }

    // §6.1.5 (a), (b).
    let leaf = path.first().copied().unwrap_or(anchor);
    explicit_policy = explicit_policy.saturating_sub(1);
    if leaf
        .extensions()
        .policy_constraints
        .as_ref()
        .and_then(|pc| pc.require_explicit_policy)
        == Some(0)
    {
        explicit_policy = 0;
    }
    let mut result = PathPolicies::default();
    if let Some(t) = tree.as_mut() {
        result.authorities_constrained =
            PolicySet(t.alive_policies(n).map(|(_, node)| node.policy).collect());
        if intersect(t, n, user_set.as_ref())? {
            result.user_constrained = user_constrained(t, n);
        } else {
            tree = None;
        }
    }
    // §6.1.5 (g).
    if explicit_policy == 0 && tree.is_none() {
        return Err(ChainError::NoValidPolicy {
            cert: leaf.at(Position::Path(0)),
        });
    }
    Ok(result)
}

/// §6.1.4 (i), (j) (and RFC 5937 for the anchor): the certificate's own constraints.
fn apply_constraints(
    cert: &Cert,
    explicit_policy: &mut u32,
    policy_mapping: &mut u32,
    inhibit_any: &mut u32,
) {
    let ext = cert.extensions();
    if let Some(pc) = &ext.policy_constraints {
        if let Some(r) = pc.require_explicit_policy {
            *explicit_policy = (*explicit_policy).min(r);
        }
        if let Some(m) = pc.inhibit_policy_mapping {
            *policy_mapping = (*policy_mapping).min(m);
        }
    }
    if let Some(k) = ext.inhibit_any_policy {
        *inhibit_any = (*inhibit_any).min(k);
    }
}

/// §6.1.3 (d): adds the level of depth `i` for a certificate asserting `policies`. Returns
/// whether the tree survives.
fn grow(
    tree: &mut Tree,
    i: usize,
    policies: &[ObjectIdentifier],
    any_allowed: bool,
) -> Result<bool, ChainError> {
    let above = i - 1;
    for policy in policies.iter().filter(|p| **p != ANY_POLICY) {
        let matching: Vec<usize> = tree
            .alive_policies(above)
            .filter(|(_, node)| node.expected.contains(policy))
            .map(|(index, _)| index)
            .collect();
        let parents = if matching.is_empty() {
            tree.alive_policies(above)
                .filter(|(_, node)| node.policy == ANY_POLICY)
                .map(|(index, _)| index)
                .collect()
        } else {
            matching
        };
        for parent in parents {
            tree.add(i, parent, *policy, vec![*policy])?;
        }
    }
    if any_allowed && policies.contains(&ANY_POLICY) {
        let parents: Vec<(usize, Vec<ObjectIdentifier>)> = tree
            .alive_policies(above)
            .map(|(index, node)| (index, node.expected.clone()))
            .collect();
        for (parent, expected) in parents {
            for policy in expected {
                let exists = tree
                    .level(i)
                    .iter()
                    .any(|c| c.alive && c.parent == parent && c.policy == policy);
                if !exists {
                    tree.add(i, parent, policy, vec![policy])?;
                }
            }
        }
    }
    if tree.level(i).iter().all(|n| !n.alive) {
        return Ok(false);
    }
    Ok(tree.prune(i))
}

/// §6.1.4 (b): applies the mappings of the certificate at depth `i`. Returns whether the tree
/// survives.
fn map(
    tree: &mut Tree,
    i: usize,
    mappings: &[(ObjectIdentifier, ObjectIdentifier)],
    mapping_allowed: bool,
) -> Result<bool, ChainError> {
    let mut issuers: Vec<ObjectIdentifier> = Vec::new();
    for (issuer, _) in mappings {
        if !issuers.contains(issuer) {
            issuers.push(*issuer);
        }
    }
    for issuer in issuers {
        let subjects: Vec<ObjectIdentifier> = mappings
            .iter()
            .filter(|(a, _)| *a == issuer)
            .map(|(_, b)| *b)
            .collect();
        let level = tree.levels.get_mut(i);
        let Some(level) = level else {
            return Ok(false);
        };
        if mapping_allowed {
            let mut found = false;
            for node in level.iter_mut().filter(|n| n.alive && n.policy == issuer) {
                node.expected.clone_from(&subjects);
                found = true;
            }
            if !found
                && let Some(any_parent) = level
                    .iter()
                    .find(|n| n.alive && n.policy == ANY_POLICY)
                    .map(|n| n.parent)
            {
                tree.add(i, any_parent, issuer, subjects)?;
            }
        } else {
            for node in level.iter_mut().filter(|n| n.policy == issuer) {
                node.alive = false;
            }
            if !tree.prune(i) {
                return Ok(false);
            }
        }
    }
    Ok(tree.level(i).iter().any(|n| n.alive))
}

/// §6.1.5 (g) (iii): restricts the tree to the user-initial-policy-set. Returns whether the
/// tree survives.
fn intersect(
    tree: &mut Tree,
    n: usize,
    user_set: Option<&BTreeSet<ObjectIdentifier>>,
) -> Result<bool, ChainError> {
    let Some(user_set) = user_set else {
        return Ok(true);
    };
    // The valid_policy_node_set: nodes whose parent is anyPolicy.
    let mut node_set_policies: BTreeSet<ObjectIdentifier> = BTreeSet::new();
    for depth in 1..=n {
        let parents: Vec<ObjectIdentifier> =
            tree.level(depth - 1).iter().map(|p| p.policy).collect();
        if let Some(level) = tree.levels.get_mut(depth) {
            for node in level.iter_mut().filter(|n| n.alive) {
                let parent_is_any = parents.get(node.parent) == Some(&ANY_POLICY);
                if parent_is_any && node.policy != ANY_POLICY {
                    if user_set.contains(&node.policy) {
                        node_set_policies.insert(node.policy);
                    } else {
                        node.alive = false;
                    }
                }
            }
        }
    }
    tree.prune(0);
    let any_leaf = tree
        .alive_policies(n)
        .find(|(_, node)| node.policy == ANY_POLICY)
        .map(|(index, node)| (index, node.parent));
    if let Some((index, parent)) = any_leaf {
        for policy in user_set.iter().filter(|p| !node_set_policies.contains(*p)) {
            tree.add(n, parent, *policy, vec![*policy])?;
        }
        if let Some(node) = tree.levels.get_mut(n).and_then(|l| l.get_mut(index)) {
            node.alive = false;
        }
    }
    Ok(tree.prune(n) && tree.level(n).iter().any(|node| node.alive))
}

/// The policies of the user's domain the path is valid for: for each node at the leaf's depth,
/// the policy of its highest ancestor that is not anyPolicy (anyPolicy when there is none).
fn user_constrained(tree: &Tree, n: usize) -> PolicySet {
    let mut set = BTreeSet::new();
    for (index, _) in tree.alive_policies(n) {
        let mut found = ANY_POLICY;
        let mut at = index;
        for depth in (1..=n).rev() {
            let Some(node) = tree.level(depth).get(at) else {
                break;
            };
            if node.policy != ANY_POLICY {
                found = node.policy;
            }
            at = node.parent;
        }
        set.insert(found);
    }
    PolicySet(set)
}
