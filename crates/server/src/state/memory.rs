//! [`State`] in this process's memory: gone when the server stops.

use super::{
    ApiKey, CallStatus, MESSAGE_PRUNE_LIMIT, MESSAGES_PER_SESSION, PreparedCall, SentCall, State,
    StateError, WaitingMessage, WireSessionId, wire_session_id,
};
use alloy_primitives::{Address, B128, B256};
use leash_sdk::service::StoredSession;
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap, btree_map, hash_map::Entry},
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
    sessions: HashMap<WireSessionId, Keyed<StoredSession>>,
    /// ERC-7715 permissions granted, by the wire id of their session (whose key they share).
    execution_permissions: HashMap<WireSessionId, Value>,
    prepared: HashMap<B256, Keyed<PreparedCall>>,
    statuses: HashMap<B256, Keyed<CallStatus>>,
    /// Sent calls in the order they were started; each has an entry in `statuses`.
    sent: Vec<SentCall>,
    api_keys: BTreeMap<String, ApiKey>,
    /// Sends counted by key name and day.
    sends: HashMap<(String, u64), u64>,
    /// Spent request nonces by session key and nonce, with their expiry.
    nonces: HashMap<(Address, B128), u64>,
    /// Waiting messages by account and session, oldest first, each with its sequence number.
    messages: HashMap<(Address, B256), Vec<(u64, WaitingMessage)>>,
    /// The last message sequence number given.
    message_seq: u64,
}

/// A value and the API key it was created under.
#[derive(Debug)]
struct Keyed<T> {
    value: T,
    key: Option<String>,
}

impl<T> Keyed<T> {
    fn new(value: T, key: Option<&str>) -> Self {
        Self {
            value,
            key: key.map(str::to_owned),
        }
    }

    /// The value, if it was created under `key`.
    fn under(&self, key: Option<&str>) -> Option<&T> {
        (self.key.as_deref() == key).then_some(&self.value)
    }
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
    async fn put_session(
        &self,
        session: StoredSession,
        key: Option<&str>,
    ) -> Result<(), StateError> {
        match self
            .maps()
            .sessions
            .entry(wire_session_id(session.session_id))
        {
            Entry::Occupied(mut entry) => entry.get_mut().value = session,
            Entry::Vacant(entry) => {
                entry.insert(Keyed::new(session, key));
            }
        }
        Ok(())
    }

    async fn session(
        &self,
        id: WireSessionId,
        key: Option<&str>,
    ) -> Result<Option<StoredSession>, StateError> {
        let maps = self.maps();
        Ok(maps.sessions.get(&id).and_then(|s| s.under(key)).cloned())
    }

    async fn sessions_of(
        &self,
        account: Address,
        key: Option<&str>,
    ) -> Result<Vec<StoredSession>, StateError> {
        let maps = self.maps();
        let mut sessions: Vec<_> = maps
            .sessions
            .iter()
            .filter_map(|(id, session)| Some((id, session.under(key)?)))
            .filter(|(_, session)| session.account == account)
            .collect();
        sessions.sort_by_key(|(id, _)| **id);
        Ok(sessions
            .into_iter()
            .map(|(_, session)| session.clone())
            .collect())
    }

    async fn put_execution_permission(
        &self,
        id: WireSessionId,
        granted: &Value,
        key: Option<&str>,
    ) -> Result<(), StateError> {
        let mut maps = self.maps();
        if maps.sessions.get(&id).and_then(|s| s.under(key)).is_some() {
            maps.execution_permissions.insert(id, granted.clone());
        }
        Ok(())
    }

    async fn execution_permissions(
        &self,
        key: Option<&str>,
    ) -> Result<Vec<(StoredSession, Value)>, StateError> {
        let maps = self.maps();
        let mut granted: Vec<_> = maps
            .execution_permissions
            .iter()
            .filter_map(|(id, permission)| {
                let session = maps.sessions.get(id)?.under(key)?;
                Some((*id, (session.clone(), permission.clone())))
            })
            .collect();
        granted.sort_by_key(|(id, _)| *id);
        Ok(granted.into_iter().map(|(_, granted)| granted).collect())
    }

    async fn put_prepared(&self, call: PreparedCall, key: Option<&str>) -> Result<(), StateError> {
        let hash = call.user_op_hash;
        self.maps().prepared.insert(hash, Keyed::new(call, key));
        Ok(())
    }

    async fn prepared(
        &self,
        user_op_hash: B256,
        key: Option<&str>,
    ) -> Result<Option<PreparedCall>, StateError> {
        let maps = self.maps();
        Ok(maps
            .prepared
            .get(&user_op_hash)
            .and_then(|c| c.under(key))
            .cloned())
    }

    async fn start_call(&self, call: &SentCall, key: Option<&str>) -> Result<bool, StateError> {
        let mut maps = self.maps();
        match maps.statuses.entry(call.operation.user_op_hash) {
            Entry::Occupied(_) => return Ok(false),
            Entry::Vacant(entry) => entry.insert(Keyed::new(CallStatus::Pending, key)),
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
                .is_some_and(|status| status.value == CallStatus::Pending)
        };
        Ok(maps.sent.iter().filter(pending).cloned().collect())
    }

    async fn pending_calls_of(&self, account: Address) -> Result<Vec<SentCall>, StateError> {
        let mut pending = self.pending_calls().await?;
        pending.retain(|call| call.operation.op.operation.sender == account);
        Ok(pending)
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
            if let Some(call) = maps.statuses.get_mut(hash) {
                call.value = status.clone();
            }
        }
        Ok(())
    }

    async fn status(
        &self,
        user_op_hash: B256,
        key: Option<&str>,
    ) -> Result<Option<CallStatus>, StateError> {
        let maps = self.maps();
        Ok(maps
            .statuses
            .get(&user_op_hash)
            .and_then(|s| s.under(key))
            .cloned())
    }

    async fn ping(&self) -> Result<(), StateError> {
        Ok(())
    }

    async fn add_api_key(&self, key: &ApiKey) -> Result<bool, StateError> {
        match self.maps().api_keys.entry(key.name.clone()) {
            btree_map::Entry::Occupied(_) => Ok(false),
            btree_map::Entry::Vacant(entry) => {
                entry.insert(key.clone());
                Ok(true)
            }
        }
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StateError> {
        Ok(self.maps().api_keys.values().cloned().collect())
    }

    async fn api_key(&self, key_hash: B256) -> Result<Option<ApiKey>, StateError> {
        let maps = self.maps();
        Ok(maps
            .api_keys
            .values()
            .find(|key| key.key_hash == key_hash)
            .cloned())
    }

    async fn revoke_api_key(&self, name: &str, at: u64) -> Result<bool, StateError> {
        let mut maps = self.maps();
        match maps.api_keys.get_mut(name) {
            Some(key) if key.revoked_at.is_none() => {
                key.revoked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn count_send(
        &self,
        name: &str,
        day: u64,
        quota: u64,
    ) -> Result<Option<u64>, StateError> {
        let mut maps = self.maps();
        let sends = maps.sends.entry((name.to_owned(), day)).or_default();
        if *sends >= quota {
            return Ok(None);
        }
        *sends += 1;
        Ok(Some(*sends))
    }

    async fn spend_nonce(
        &self,
        session_key: Address,
        nonce: B128,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StateError> {
        match self.maps().nonces.entry((session_key, nonce)) {
            Entry::Occupied(entry) if *entry.get() >= now => Ok(false),
            Entry::Occupied(mut entry) => {
                entry.insert(expires_at);
                Ok(true)
            }
            Entry::Vacant(entry) => {
                entry.insert(expires_at);
                Ok(true)
            }
        }
    }

    async fn prune_nonces(&self, now: u64, limit: u64) -> Result<u64, StateError> {
        let mut maps = self.maps();
        let mut expired: Vec<_> = maps
            .nonces
            .iter()
            .filter(|(_, expires_at)| **expires_at < now)
            .map(|(key, expires_at)| (*expires_at, *key))
            .collect();
        expired.sort_unstable();
        let mut deleted = 0;
        for (_, key) in expired
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
        {
            maps.nonces.remove(&key);
            deleted += 1;
        }
        Ok(deleted)
    }

    async fn put_message(&self, message: WaitingMessage, now: u64) -> Result<(), StateError> {
        let mut maps = self.maps();
        maps.message_seq += 1;
        let seq = maps.message_seq;
        let waiting = maps
            .messages
            .entry((message.account, message.session_id))
            .or_default();
        waiting.retain(|(_, kept)| kept.digest != message.digest);
        waiting.push((seq, message));
        let keep = usize::try_from(MESSAGES_PER_SESSION).unwrap_or(usize::MAX);
        if waiting.len() > keep {
            waiting.drain(..waiting.len() - keep);
        }
        let mut expired: Vec<_> = maps
            .messages
            .iter()
            .flat_map(|(session, waiting)| {
                waiting
                    .iter()
                    .filter(|(_, kept)| kept.expires_at <= now)
                    .map(|(seq, kept)| (kept.expires_at, *seq, *session))
            })
            .collect();
        expired.sort_unstable();
        expired.truncate(usize::try_from(MESSAGE_PRUNE_LIMIT).unwrap_or(usize::MAX));
        for (_, seq, session) in expired {
            if let Entry::Occupied(mut waiting) = maps.messages.entry(session) {
                waiting.get_mut().retain(|(kept, _)| *kept != seq);
                if waiting.get().is_empty() {
                    waiting.remove();
                }
            }
        }
        Ok(())
    }

    async fn waiting_messages(
        &self,
        account: Address,
        session_id: B256,
        now: u64,
    ) -> Result<Vec<String>, StateError> {
        Ok(self
            .maps()
            .messages
            .get(&(account, session_id))
            .map(|waiting| {
                waiting
                    .iter()
                    .rev()
                    .filter(|(_, kept)| kept.expires_at > now)
                    .map(|(_, kept)| kept.request.clone())
                    .collect()
            })
            .unwrap_or_default())
    }
}
