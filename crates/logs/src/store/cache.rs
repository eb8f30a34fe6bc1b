//! The streams held open: at most a fixed number, the least recently used let go first, so
//! memory stays bounded however many streams exist.
//!
//! A stream's slot is shared by the requests using it; it is let go only when no request
//! holds it, so two slots never stand for one stream and never append to one file together.

use super::stream::StreamState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A stream's state as its slot holds it.
#[derive(Debug)]
pub(crate) enum SlotState {
    /// Not read from disk yet.
    Unloaded,
    /// Indexed and ready.
    Open(StreamState),
    /// Deleted (with the stream or its group) while a request held the slot.
    Gone,
}

/// One stream's slot; its mutex orders the appends and reads of that stream.
pub(crate) type Slot = Arc<Mutex<SlotState>>;

/// Locks a mutex; a panic in another request while holding it leaves nothing half-done that
/// the next user cannot cope with (the files are the truth), so poisoning is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type Key = (String, String);

/// The open streams.
#[derive(Debug)]
pub(crate) struct StreamCache {
    capacity: usize,
    tick: u64,
    slots: HashMap<Key, (Slot, u64)>,
}

impl StreamCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tick: 0,
            slots: HashMap::new(),
        }
    }

    /// The slot of `group`'s stream `stream`, made if need be.
    pub(super) fn slot(&mut self, group: &str, stream: &str) -> Slot {
        self.tick += 1;
        let tick = self.tick;
        let key = (group.to_string(), stream.to_string());
        if let Some((slot, used)) = self.slots.get_mut(&key) {
            *used = tick;
            return slot.clone();
        }
        let slot: Slot = Arc::new(Mutex::new(SlotState::Unloaded));
        self.slots.insert(key, (slot.clone(), tick));
        self.shrink();
        slot
    }

    /// Lets go of the least recently used slots no request holds, down to the capacity.
    fn shrink(&mut self) {
        while self.slots.len() > self.capacity {
            let victim = self
                .slots
                .iter()
                .filter(|(_, (slot, _))| Arc::strong_count(slot) == 1)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone());
            match victim {
                Some(key) => {
                    self.slots.remove(&key);
                }
                // Every slot is in use: the cache runs over until requests finish.
                None => break,
            }
        }
    }

    /// Takes the slot of one stream out, for its deletion.
    pub(super) fn remove(&mut self, group: &str, stream: &str) -> Option<Slot> {
        self.slots
            .remove(&(group.to_string(), stream.to_string()))
            .map(|(slot, _)| slot)
    }

    /// Takes every slot of `group`'s streams out, for the group's deletion.
    pub(crate) fn remove_group(&mut self, group: &str) -> Vec<Slot> {
        let keys: Vec<Key> = self
            .slots
            .keys()
            .filter(|(g, _)| g == group)
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| self.slots.remove(&k).map(|(slot, _)| slot))
            .collect()
    }

    /// How many slots are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_capacity_slots_not_in_use() {
        let mut cache = StreamCache::new(2);
        let held = cache.slot("g", "a");
        for s in ["b", "c", "d"] {
            cache.slot("g", s);
        }
        assert_eq!(cache.len(), 2);
        // The held slot survived, and asking again gives the same one.
        assert!(Arc::ptr_eq(&held, &cache.slot("g", "a")));
        assert_eq!(cache.remove_group("g").len(), 2);
    }
}
