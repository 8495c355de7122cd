//! Shared reads of the configuration generation.
//!
//! Every request reads the generation to know whether its node's cache of principals and
//! descriptors is still current. Under load, requests that arrive while a read is running wait
//! for the next read, which starts after they arrived, and share it: one query serves them all,
//! and none of them can miss a change committed before it arrived.

use tokio::sync::oneshot;

use crate::queue::WorkQueue;

/// The outcome of a shared read: the generation, or the error's text (the driver's error
/// cannot be cloned for every waiter).
pub(crate) type SharedRead = Result<i64, String>;

/// The requests waiting for a generation read. (A waiter whose sender is dropped unanswered
/// reads for itself.)
pub(crate) type SharedReads = WorkQueue<oneshot::Sender<SharedRead>>;
