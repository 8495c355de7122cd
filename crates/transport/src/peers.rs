//! The share of the connection budget each peer address may hold, so that one peer cannot take
//! every connection the server allows (and keep everyone else out for as long as it likes).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Connections held per peer address. Holds an entry only for addresses with a connection
/// open, so it never grows past the server's connection limit.
#[derive(Debug)]
pub(crate) struct PeerBudget {
    per_peer: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection of a peer; gives its place back when dropped.
#[derive(Debug)]
pub(crate) struct PeerPermit {
    budget: Arc<PeerBudget>,
    peer: IpAddr,
}

impl PeerBudget {
    /// A budget of `per_peer` connections per address.
    pub(crate) fn new(per_peer: usize) -> Arc<Self> {
        Arc::new(Self {
            per_peer,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more connection from `peer`, unless it holds its share already.
    pub(crate) fn try_acquire(self: &Arc<Self>, peer: IpAddr) -> Option<PeerPermit> {
        let mut open = self.lock();
        let held = open.entry(peer).or_default();
        if *held >= self.per_peer {
            if *held == 0 {
                open.remove(&peer);
            }
            return None;
        }
        *held += 1;
        Some(PeerPermit {
            budget: self.clone(),
            peer,
        })
    }

    /// Connections `peer` holds.
    #[cfg(test)]
    fn held(&self, peer: IpAddr) -> usize {
        self.lock().get(&peer).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // Counts only: a panic elsewhere cannot leave them half-updated.
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for PeerPermit {
    fn drop(&mut self) {
        let mut open = self.budget.lock();
        if let Some(held) = open.get_mut(&self.peer) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                open.remove(&self.peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_peer_gets_its_share_and_gives_it_back() {
        let budget = PeerBudget::new(2);
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let first = budget.try_acquire(a);
        let second = budget.try_acquire(a);
        assert!(first.is_some() && second.is_some());
        assert!(budget.try_acquire(a).is_none(), "a holds its share");
        assert!(budget.try_acquire(b).is_some(), "b is not affected");
        drop(first);
        assert_eq!(budget.held(a), 1);
        assert!(budget.try_acquire(a).is_some());
        drop(second);
        let none = PeerBudget::new(0);
        assert!(none.try_acquire(a).is_none());
        assert!(
            none.lock().is_empty(),
            "no entry for a peer holding nothing"
        );
    }
}
