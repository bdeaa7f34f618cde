//! The messages `wallet_prepareSign` prepared, until `wallet_formatSign` formats a signature of
//! one: clients send back only the key's signature (they drop unknown response fields), so the
//! server keeps what it asked the key to sign.
//!
//! In this process's memory, by account and session, bounded and expiring: a message is a few
//! hundred bytes, lives [`LIFETIME`], a session keeps its [`PER_SESSION`] latest, and at most
//! [`SESSIONS`] sessions keep any (the one whose latest message is oldest goes first). Nothing
//! here is worth a restart or a replica: a message not found is prepared again. Servers that
//! share a database do not share these, so `wallet_formatSign` must reach the server that
//! prepared (docs/server.md, *Signing as the account*).

use alloy_primitives::{Address, B256};
use leash_sdk::service::PreparedMessage;
use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a prepared message waits for its signature.
pub(crate) const LIFETIME: Duration = Duration::from_secs(10 * 60);
/// The most messages one session keeps waiting.
pub(crate) const PER_SESSION: usize = 16;
/// The most sessions with messages waiting.
pub(crate) const SESSIONS: usize = 10_000;

/// An account's session: whose messages wait together.
type SessionKey = (Address, B256);

/// Messages waiting for their signature, newest last per session.
#[derive(Debug, Default)]
pub(crate) struct PendingMessages {
    waiting: Mutex<HashMap<SessionKey, VecDeque<(Instant, PreparedMessage)>>>,
}

impl PendingMessages {
    /// Keeps `message`, which `account`'s session prepared now (again, if it was already
    /// waiting: its lifetime starts over).
    pub(crate) fn put(&self, account: Address, message: PreparedMessage) {
        self.put_at(account, message, Instant::now());
    }

    /// The messages `account`'s session `session_id` has waiting, newest first.
    pub(crate) fn of(&self, account: Address, session_id: B256) -> Vec<PreparedMessage> {
        self.of_at(account, session_id, Instant::now())
    }

    fn put_at(&self, account: Address, message: PreparedMessage, now: Instant) {
        let mut waiting = self.lock();
        let key = (account, message.session_id);
        if !waiting.contains_key(&key) && waiting.len() >= SESSIONS {
            waiting.retain(|_, messages| live(messages, now));
            let oldest = waiting
                .iter()
                .min_by_key(|(_, messages)| messages.back().map(|(at, _)| *at))
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest.filter(|_| waiting.len() >= SESSIONS) {
                waiting.remove(&oldest);
            }
        }
        let messages = waiting.entry(key).or_default();
        messages.retain(|(_, waiting)| waiting.digest != message.digest);
        messages.push_back((now, message));
        if messages.len() > PER_SESSION {
            messages.pop_front();
        }
    }

    fn of_at(&self, account: Address, session_id: B256, now: Instant) -> Vec<PreparedMessage> {
        let mut waiting = self.lock();
        let Some(messages) = waiting.get_mut(&(account, session_id)) else {
            return Vec::new();
        };
        if !live(messages, now) {
            waiting.remove(&(account, session_id));
            return Vec::new();
        }
        messages
            .iter()
            .rev()
            .map(|(_, message)| message.clone())
            .collect()
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<SessionKey, VecDeque<(Instant, PreparedMessage)>>> {
        // A panic while holding the lock leaves whole entries behind: still consistent.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Drops `messages`' expired ones (the oldest come first); whether any is left.
fn live(messages: &mut VecDeque<(Instant, PreparedMessage)>, now: Instant) -> bool {
    while messages
        .front()
        .is_some_and(|(at, _)| now.duration_since(*at) >= LIFETIME)
    {
        messages.pop_front();
    }
    !messages.is_empty()
}

#[cfg(test)]
mod tests;
