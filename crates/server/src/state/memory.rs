//! [`State`] in this process's memory: gone when the server stops.

use super::{CallStatus, PreparedCall, State, StateError, WireSessionId, wire_session_id};
use alloy_primitives::B256;
use leash_sdk::service::StoredSession;
use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Mutex, MutexGuard, PoisonError},
};

/// Sessions, prepared operations and call statuses in hash maps.
#[derive(Debug, Default)]
pub struct MemoryState {
    maps: Mutex<Maps>,
}

#[derive(Debug, Default)]
struct Maps {
    sessions: HashMap<WireSessionId, StoredSession>,
    prepared: HashMap<B256, PreparedCall>,
    statuses: HashMap<B256, CallStatus>,
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn maps(&self) -> MutexGuard<'_, Maps> {
        // Each method changes one map entry at most, so a panic cannot leave it half-written.
        self.maps.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State for MemoryState {
    async fn put_session(&self, session: StoredSession) -> Result<(), StateError> {
        self.maps()
            .sessions
            .insert(wire_session_id(session.session_id), session);
        Ok(())
    }

    async fn session(&self, id: WireSessionId) -> Result<Option<StoredSession>, StateError> {
        Ok(self.maps().sessions.get(&id).cloned())
    }

    async fn put_prepared(&self, call: PreparedCall) -> Result<(), StateError> {
        self.maps().prepared.insert(call.user_op_hash, call);
        Ok(())
    }

    async fn prepared(&self, user_op_hash: B256) -> Result<Option<PreparedCall>, StateError> {
        Ok(self.maps().prepared.get(&user_op_hash).cloned())
    }

    async fn start_call(&self, user_op_hash: B256) -> Result<bool, StateError> {
        Ok(match self.maps().statuses.entry(user_op_hash) {
            Entry::Occupied(_) => false,
            Entry::Vacant(entry) => {
                entry.insert(CallStatus::Pending);
                true
            }
        })
    }

    async fn set_status(&self, user_op_hash: B256, status: CallStatus) -> Result<(), StateError> {
        self.maps().statuses.insert(user_op_hash, status);
        Ok(())
    }

    async fn status(&self, user_op_hash: B256) -> Result<Option<CallStatus>, StateError> {
        Ok(self.maps().statuses.get(&user_op_hash).cloned())
    }
}
