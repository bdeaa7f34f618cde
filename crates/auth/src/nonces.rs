//! Where a verifier remembers the nonces it accepted, so a request is accepted once: in this
//! process ([`MemoryNonces`], the default) or in a store several backends share ([`NonceStore`]).

use alloy_primitives::{Address, B128};
use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    sync::{Mutex, PoisonError},
};

/// The request nonces a verifier has accepted, each remembered until its request would be stale
/// anyway. Backends behind one load balancer share one store, or a request replayed to another
/// of them within the window is accepted there too.
pub trait NonceStore: Send + Sync {
    /// Why the store could not answer; the verifier refuses the request with it
    /// ([`AuthError::NonceStore`](crate::AuthError::NonceStore), a 503), never accepts it.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Records `nonce` of `session_key` until `remember_until` (unix seconds): `true` when it was
    /// fresh, `false` when it is recorded already with an expiry at or after `now`. One atomic
    /// step: of concurrent spends of one nonce, however many backends share the store, exactly
    /// one is fresh.
    fn spend(
        &self,
        session_key: Address,
        nonce: B128,
        remember_until: u64,
        now: u64,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// Nonces in this process's memory: replay is caught only by the process that accepted the
/// request first.
#[derive(Debug, Default)]
pub struct MemoryNonces {
    spent: Mutex<HashMap<(Address, B128), u64>>,
}

/// Below this many nonces the map is never swept: the sweep would cost more than it frees.
const SWEEP_FROM: usize = 1024;

impl NonceStore for MemoryNonces {
    type Error = Infallible;

    async fn spend(
        &self,
        session_key: Address,
        nonce: B128,
        remember_until: u64,
        now: u64,
    ) -> Result<bool, Infallible> {
        // An insert or a lookup and a sweep: a panic cannot leave the map half done.
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        // Amortised pruning: a sweep each time the map reaches a power of two, so a sweep's cost
        // is spread over the inserts since the last one.
        if spent.len() >= SWEEP_FROM && spent.len().is_power_of_two() {
            spent.retain(|_, until| *until >= now);
        }
        if spent
            .get(&(session_key, nonce))
            .is_some_and(|until| *until >= now)
        {
            return Ok(false);
        }
        spent.insert((session_key, nonce), remember_until);
        Ok(true)
    }
}
