//! Server-sent events as the hub sends them: the snapshot and delta frames, serialised
//! once per event, and the keep-alive comment.

use super::*;

/// A comment line that keeps idle connections (and proxies) open.
pub(super) const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) const KEEP_ALIVE_FRAME: &[u8] = b": keep-alive\n\n";

#[derive(Serialize)]
pub(super) struct Versioned<'a> {
    pub(super) version: u64,
    #[serde(flatten)]
    pub(super) tally: &'a Tally,
}

pub(super) fn frame(event: &str, json: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(json.len() + event.len() + 16);
    frame.extend_from_slice(b"event: ");
    frame.extend_from_slice(event.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    frame.extend_from_slice(json);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

/// The groups of `new` that differ from `old`, and those of `old` gone from `new` as
/// zero.
pub(super) fn moved<T: Clone + PartialEq, K: PartialEq>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> K,
    gone: impl Fn(&T) -> T,
) -> Vec<T> {
    let changed = new
        .iter()
        .filter(|n| !old.iter().any(|o| key(o) == key(n) && o == *n))
        .cloned();
    let vanished = old
        .iter()
        .filter(|o| !new.iter().any(|n| key(n) == key(o)))
        .map(gone);
    changed.chain(vanished).collect()
}
