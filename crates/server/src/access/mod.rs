//! Access (docs/server.md, *Access*): API keys checked in front of JSON-RPC ([`AccessLayer`]),
//! each key's rate limit (in this process) and daily quota of sends (in the store, so replicas
//! share it), and the calls an account may have pending.

mod layer;

pub(crate) use layer::AccessLayer;

use crate::{
    error::RpcError,
    state::{ApiKey, Rate, RatePeriod, State},
};
use alloy_primitives::{Address, B256, hex, keccak256};
use std::{
    num::NonZeroU32,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

/// What every key starts with: tells a leash key apart from other secrets (secret scanners can
/// match it).
pub const KEY_PREFIX: &str = "lsk_";

/// Seconds in a UTC day, what quotas count by.
const DAY: u64 = 86_400;

/// Who may call the server and how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessConfig {
    /// Refuse every request without a valid API key, even while the store holds no key.
    /// Without it, keys are required once the store holds one when the server starts.
    pub require_api_key: bool,
    /// A key's rate, unless it has its own.
    pub rate: Rate,
    /// A key's burst, unless it has its own.
    pub burst: NonZeroU32,
    /// The calls a key may send a UTC day, unless it has its own; `None`: no quota.
    pub daily_quota: Option<u64>,
    /// The calls an account may have pending: `wallet_sendPreparedCalls` refuses more.
    pub max_pending_calls: usize,
}

/// The default rate: far above what an app's users make by hand, low enough that one runaway
/// client cannot take a server's whole capacity.
pub const DEFAULT_RATE: Rate = Rate {
    requests: NonZeroU32::new(100).expect("non-zero"),
    per: RatePeriod::Second,
};

/// The default burst: twice the default rate's second.
pub const DEFAULT_BURST: NonZeroU32 = NonZeroU32::new(200).expect("non-zero");

/// The default limit of pending calls per account: a bundle's worth, far more than a wallet
/// waits on at once.
pub const DEFAULT_MAX_PENDING_CALLS: usize = 64;

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            require_api_key: false,
            rate: DEFAULT_RATE,
            burst: DEFAULT_BURST,
            daily_quota: None,
            max_pending_calls: DEFAULT_MAX_PENDING_CALLS,
        }
    }
}

/// A new API key: [`KEY_PREFIX`] and 32 random bytes in hex. Shown once; only its
/// [`hash_api_key`] is stored.
pub fn new_api_key() -> String {
    format!("{KEY_PREFIX}{}", hex::encode(B256::random()))
}

/// What the store keeps of `key`. A fast hash suffices: a key is 256 random bits, so neither a
/// dictionary nor brute force finds it from its hash; keccak-256 is already in the build.
pub fn hash_api_key(key: &str) -> B256 {
    keccak256(key.as_bytes())
}

/// The current time in Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The key a request was let in with; none while keys are not enforced.
#[derive(Clone, Debug, Default)]
pub(crate) struct Caller(Option<Arc<Grant>>);

#[derive(Debug)]
struct Grant {
    name: String,
    daily_quota: Option<u64>,
}

impl Caller {
    /// Let in with `key`; `default_quota` unless it has its own.
    fn with(key: &ApiKey, default_quota: Option<u64>) -> Self {
        Self(Some(Arc::new(Grant {
            name: key.name.clone(),
            daily_quota: key.limits.daily_quota.or(default_quota),
        })))
    }

    /// The request's [`Caller`], as [`AccessLayer`] left it.
    pub(crate) fn of(extensions: &http::Extensions) -> Self {
        extensions.get::<Self>().cloned().unwrap_or_default()
    }

    /// The name of its key: what it creates is tagged with it, and it reads only that.
    pub(crate) fn key(&self) -> Option<&str> {
        self.0.as_ref().map(|grant| grant.name.as_str())
    }
}

/// Checks that `caller` may send the call `user_op_hash` for `account`: the account has fewer
/// than `max_pending` calls pending, and the caller's key has a send left today, which this
/// counts. A replay of a call sent already passes whatever the limits (it is answered as before);
/// the store is asked whether it is one only when a limit would refuse or count it.
pub(crate) async fn admit_send<S: State>(
    state: &S,
    caller: &Caller,
    account: Address,
    user_op_hash: B256,
    max_pending: usize,
) -> Result<(), RpcError> {
    let replay = async || -> Result<bool, RpcError> {
        Ok(state.status(user_op_hash, caller.key()).await?.is_some())
    };
    let pending = state.pending_calls_of(account).await?.len();
    if pending >= max_pending {
        if replay().await? {
            return Ok(());
        }
        return Err(RpcError::TooManyPending {
            account,
            pending,
            max: max_pending,
        });
    }
    let Some(Grant {
        name,
        daily_quota: Some(quota),
    }) = caller.0.as_deref()
    else {
        return Ok(());
    };
    if replay().await? {
        return Ok(());
    }
    let day = unix_now() / DAY;
    match state.count_send(name, day, *quota).await? {
        Some(_) => Ok(()),
        None => Err(RpcError::QuotaExceeded {
            quota: *quota,
            resets_at: (day + 1) * DAY,
        }),
    }
}
