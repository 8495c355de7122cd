//! Overlapping the file's I/O with AES-GCM: the calling thread reads and writes, a second
//! thread seals or opens, and a small pool of [`CHUNK_LEN`](crate::CHUNK_LEN) buffers travels
//! between them through two bounded channels.
//!
//! Writing into the page cache costs about as much CPU as AES-GCM itself, so done one after
//! the other the two add up; done side by side on two cores a file goes through at about the
//! rate of the slower of the two. The reader and the writer stay on the calling thread, so the
//! caller's `Read` and `Write` need not be `Send`; only the buffers and the GCM state move.
//! Chunks come back in the order they were sent (one worker, FIFO channels), so the stream
//! and its tag are the same as when done in one thread, which small inputs still are (one
//! chunk: nothing to overlap, no thread started).
//!
//! Memory: at most [`BUFFERS`] buffers, allocated as they are first needed and reused, never
//! one per chunk; each is wiped when dropped (they hold plaintext).

use std::sync::mpsc;
use std::thread;

use zeroize::Zeroizing;

use crate::ContentError;
use crate::gcm::{GcmError, StreamingGcm};

/// Buffers in flight: one being read or written by the calling thread, one being encrypted,
/// one waiting in between, so that neither side waits for the other in the steady state.
pub(crate) const BUFFERS: usize = 3;

/// Which half of GCM the worker does to each chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Direction {
    Seal,
    Open,
}

/// A buffer and how much of it holds data.
struct Chunk {
    buffer: Zeroizing<Vec<u8>>,
    len: usize,
}

fn apply(gcm: &mut StreamingGcm, direction: Direction, data: &mut [u8]) -> Result<(), GcmError> {
    match direction {
        Direction::Seal => gcm.seal_chunk(data),
        Direction::Open => gcm.open_chunk(data),
    }
}

/// Streams chunks through `gcm`: `fill` puts the next chunk's data at the start of the buffer
/// it is given (`buffer_len` octets) and returns its length, or `None` once the input is done;
/// `drain` gets each chunk sealed or opened, in order. `threaded` says whether to overlap them
/// on two threads (worth it from two chunks on).
///
/// The first error of `fill`, `drain` or the GCM stops everything and is returned; chunks
/// still in flight are dropped (and wiped) unseen.
pub(crate) fn run(
    gcm: &mut StreamingGcm,
    direction: Direction,
    buffer_len: usize,
    threaded: bool,
    mut fill: impl FnMut(&mut [u8]) -> Result<Option<usize>, ContentError>,
    mut drain: impl FnMut(&mut [u8]) -> Result<(), ContentError>,
) -> Result<(), ContentError> {
    if !threaded {
        let mut buffer = Zeroizing::new(vec![0u8; buffer_len]);
        while let Some(len) = fill(&mut buffer)? {
            let data = &mut buffer[..len];
            apply(gcm, direction, data)?;
            drain(data)?;
        }
        return Ok(());
    }
    thread::scope(|scope| {
        let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(BUFFERS);
        let (done_tx, done_rx) = mpsc::sync_channel::<Result<Chunk, GcmError>>(BUFFERS);
        let worker = thread::Builder::new()
            .name("rms-content-gcm".to_owned())
            .spawn_scoped(scope, move || {
                for mut chunk in work_rx {
                    let result = apply(gcm, direction, &mut chunk.buffer[..chunk.len]);
                    let failed = result.is_err();
                    if done_tx.send(result.map(|()| chunk)).is_err() || failed {
                        break;
                    }
                }
            })
            .map_err(ContentError::io("starting the AES-GCM thread"))?;

        let mut pump = || -> Result<(), ContentError> {
            let mut spare: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(BUFFERS);
            let mut allocated = 0;
            let mut in_flight = 0;
            let mut input_done = false;
            loop {
                // Keep the worker fed first: read ahead while a buffer is free.
                if !input_done && in_flight < BUFFERS {
                    let mut buffer = match spare.pop() {
                        Some(buffer) => buffer,
                        None => {
                            allocated += 1;
                            debug_assert!(allocated <= BUFFERS);
                            Zeroizing::new(vec![0u8; buffer_len])
                        }
                    };
                    match fill(&mut buffer)? {
                        Some(len) => match work_tx.send(Chunk { buffer, len }) {
                            Ok(()) => {
                                in_flight += 1;
                                continue;
                            }
                            // The worker stops early only after sending an error, which the
                            // receive below returns: read no further.
                            Err(_) => input_done = true,
                        },
                        None => {
                            input_done = true;
                            spare.push(buffer);
                        }
                    }
                }
                if in_flight == 0 {
                    return Ok(());
                }
                let mut chunk = done_rx.recv().map_err(|_| ContentError::Crypto {
                    what: "the AES-GCM thread ended before its work",
                })??;
                in_flight -= 1;
                drain(&mut chunk.buffer[..chunk.len])?;
                spare.push(chunk.buffer);
            }
        };
        let result = pump();
        drop(work_tx);
        drop(done_rx);
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
        result
    })
}
