//! [`State`] in this process's memory: gone when the server stops.

use super::{
    CallStatus, PreparedCall, SentCall, State, StateError, WireSessionId, wire_session_id,
};
use alloy_primitives::{Address, B256};
use leash_sdk::service::StoredSession;
use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
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
    /// Sent calls in the order they were started; each has an entry in `statuses`.
    sent: Vec<SentCall>,
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn maps(&self) -> MutexGuard<'_, Maps> {
        // Every method checks what it needs before it changes anything, so a panic cannot leave
        // the maps half-written.
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

    async fn sessions_of(&self, account: Address) -> Result<Vec<StoredSession>, StateError> {
        let maps = self.maps();
        let mut sessions: Vec<_> = maps
            .sessions
            .iter()
            .filter(|(_, session)| session.account == account)
            .collect();
        sessions.sort_by_key(|(id, _)| **id);
        Ok(sessions
            .into_iter()
            .map(|(_, session)| session.clone())
            .collect())
    }

    async fn put_prepared(&self, call: PreparedCall) -> Result<(), StateError> {
        self.maps().prepared.insert(call.user_op_hash, call);
        Ok(())
    }

    async fn prepared(&self, user_op_hash: B256) -> Result<Option<PreparedCall>, StateError> {
        Ok(self.maps().prepared.get(&user_op_hash).cloned())
    }

    async fn start_call(&self, call: &SentCall) -> Result<bool, StateError> {
        let mut maps = self.maps();
        match maps.statuses.entry(call.operation.user_op_hash) {
            Entry::Occupied(_) => return Ok(false),
            Entry::Vacant(entry) => entry.insert(CallStatus::Pending),
        };
        maps.sent.push(call.clone());
        Ok(true)
    }

    async fn claim_pending_calls(&self, own: bool) -> Result<Vec<SentCall>, StateError> {
        // Only this server uses this memory: every pending call is its own, and none lapses.
        if own {
            self.pending_calls().await
        } else {
            Ok(Vec::new())
        }
    }

    async fn pending_calls(&self) -> Result<Vec<SentCall>, StateError> {
        let maps = self.maps();
        let pending = |call: &&SentCall| {
            maps.statuses
                .get(&call.operation.user_op_hash)
                .is_some_and(|status| *status == CallStatus::Pending)
        };
        Ok(maps.sent.iter().filter(pending).cloned().collect())
    }

    fn claim_lease(&self) -> Option<Duration> {
        None
    }

    async fn renew_claims(&self) -> Result<(), StateError> {
        Ok(())
    }

    async fn set_statuses(&self, statuses: &[(B256, CallStatus)]) -> Result<(), StateError> {
        let mut maps = self.maps();
        // All or none, as the database's transaction: every call is checked before any changes.
        if let Some((unknown, _)) = statuses
            .iter()
            .find(|(hash, _)| !maps.statuses.contains_key(hash))
        {
            return Err(StateError::UnknownCall(*unknown));
        }
        for (hash, status) in statuses {
            maps.statuses.insert(*hash, status.clone());
        }
        Ok(())
    }

    async fn status(&self, user_op_hash: B256) -> Result<Option<CallStatus>, StateError> {
        Ok(self.maps().statuses.get(&user_op_hash).cloned())
    }

    async fn ping(&self) -> Result<(), StateError> {
        Ok(())
    }
}
