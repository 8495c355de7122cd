//! How refusals reach the audit log without letting anyone flood it.
//!
//! The audit log is append-only, so every row written stays forever. An allowed request writes
//! one row with what it issued (and cost a signature); a refusal costs the caller nothing, so
//! refusals from one source (a peer address, or a principal when there is no address) are
//! written at a bounded rate: a burst of [`BURST`] rows, then one every [`REFILL`]. The
//! refusals in between are counted, and the next row written for that source says how many
//! were left out and since when; [`Cluster::flush_refusals`] writes those counts for sources
//! that went quiet.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rms_store::{NewAuditEntry, Outcome};
use time::OffsetDateTime;

use super::Cluster;
use crate::{RequestContext, RoleError};

/// Refusal rows one source may write at once.
pub(crate) const BURST: u32 = 10;
/// The time one more refusal row of a source becomes allowed.
pub(crate) const REFILL: Duration = Duration::from_secs(6);
/// Most sources tracked; beyond it the quietest give their place (their left-out counts are
/// written first).
const MAX_SOURCES: usize = 10_000;

#[derive(Debug)]
struct Source {
    /// Rows the source may write now (at most [`BURST`]).
    allowance: u32,
    /// When the allowance was last topped up.
    refilled: Instant,
    /// Refusals left out of the log since `left_out_since`.
    left_out: u64,
    left_out_since: Option<OffsetDateTime>,
    /// The last refusal left out, to summarise it.
    last: Option<NewAuditEntry>,
}

impl Source {
    fn new(now: Instant) -> Self {
        Self {
            allowance: BURST,
            refilled: now,
            left_out: 0,
            left_out_since: None,
            last: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled);
        let earned = elapsed.as_secs_f64() / REFILL.as_secs_f64();
        if earned >= 1.0 {
            // Bounded by BURST, so the conversion cannot truncate anything that matters.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let earned = earned.min(f64::from(BURST)) as u32;
            self.allowance = (self.allowance + earned).min(BURST);
            self.refilled = now;
        }
    }
}

/// The rate of refusal rows per source.
#[derive(Debug, Default)]
pub(crate) struct RefusalAudit {
    sources: HashMap<String, Source>,
}

/// What to do with one refusal.
enum Admission {
    /// Write it, saying that `left_out` refusals since `since` were not written.
    Write {
        left_out: u64,
        since: Option<OffsetDateTime>,
    },
    /// Count it only.
    LeaveOut,
}

impl RefusalAudit {
    fn admit(&mut self, key: &str, entry: &NewAuditEntry, at: OffsetDateTime) -> Admission {
        let now = Instant::now();
        if !self.sources.contains_key(key) && self.sources.len() >= MAX_SOURCES {
            // Forget the sources with nothing left out first: forgetting them loses nothing.
            self.sources.retain(|_, source| source.left_out > 0);
            if self.sources.len() >= MAX_SOURCES {
                return Admission::LeaveOut;
            }
        }
        let source = self
            .sources
            .entry(key.to_owned())
            .or_insert_with(|| Source::new(now));
        source.refill(now);
        if source.allowance == 0 {
            source.left_out += 1;
            source.left_out_since.get_or_insert(at);
            source.last = Some(entry.clone());
            return Admission::LeaveOut;
        }
        source.allowance -= 1;
        let admission = Admission::Write {
            left_out: source.left_out,
            since: source.left_out_since,
        };
        source.left_out = 0;
        source.left_out_since = None;
        source.last = None;
        admission
    }

    /// The summaries of every source with refusals left out, which are then forgotten.
    fn drain_left_out(&mut self) -> Vec<NewAuditEntry> {
        let mut summaries = Vec::new();
        for source in self.sources.values_mut() {
            if let (Some(last), Some(since)) = (source.last.take(), source.left_out_since.take()) {
                summaries.push(summary(last, source.left_out, since));
                source.left_out = 0;
            }
        }
        self.sources.retain(|_, source| source.allowance < BURST);
        summaries
    }
}

/// The row that stands for `count` refusals like `last`.
fn summary(mut last: NewAuditEntry, count: u64, since: OffsetDateTime) -> NewAuditEntry {
    last.reason = format!(
        "{count} refusals from this source were not written since {} (the last: {})",
        crate::rfc3339(since),
        last.reason
    );
    last
}

impl Cluster {
    /// Writes a refusal of `ctx`'s request to the audit log, at the bounded rate of its source
    /// (see the module's documentation).
    pub(crate) async fn audit_refusal(
        &self,
        ctx: &RequestContext,
        principal: &str,
        service: crate::Service,
        action: &str,
        reason: &str,
    ) -> Result<(), RoleError> {
        let mut entry = self.audit_entry(ctx, principal, service, action, Outcome::Denied, reason);
        let key = match ctx.peer() {
            Some(peer) => peer.to_string(),
            None => format!("principal:{principal}"),
        };
        let admission = crate::lock(&self.refusals).admit(&key, &entry, self.now());
        match admission {
            Admission::LeaveOut => Ok(()),
            Admission::Write { left_out, since } => {
                if let (true, Some(since)) = (left_out > 0, since) {
                    entry.reason = format!(
                        "{} (and {left_out} refusals from this source not written since {})",
                        entry.reason,
                        crate::rfc3339(since)
                    );
                }
                Ok(self.store().audit(&entry).await?)
            }
        }
    }

    /// Writes, for every source whose refusals were left out of the audit log, one row saying
    /// how many and since when. Call it now and then (the maintenance driver does, with each
    /// heartbeat).
    pub async fn flush_refusals(&self) -> Result<usize, RoleError> {
        let summaries = crate::lock(&self.refusals).drain_left_out();
        for entry in &summaries {
            self.store().audit(entry).await?;
        }
        Ok(summaries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> NewAuditEntry {
        NewAuditEntry::new("-", "RenewalService", "renew", Outcome::Denied, "no", "n")
    }

    #[test]
    fn a_burst_then_left_out_then_summarised() {
        let mut audit = RefusalAudit::default();
        let at = OffsetDateTime::UNIX_EPOCH;
        let written = (0..100)
            .filter(|_| {
                matches!(
                    audit.admit("192.0.2.1", &entry(), at),
                    Admission::Write { .. }
                )
            })
            .count();
        assert_eq!(written, BURST as usize);
        // Another source is not affected.
        assert!(matches!(
            audit.admit("192.0.2.2", &entry(), at),
            Admission::Write { left_out: 0, .. }
        ));
        let summaries = audit.drain_left_out();
        assert_eq!(summaries.len(), 1);
        assert!(
            summaries[0].reason.starts_with("90 refusals"),
            "{}",
            summaries[0].reason
        );
        assert!(audit.drain_left_out().is_empty(), "summarised once");
    }
}
