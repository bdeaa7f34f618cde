//! How the persistent stores write what they hold: hashes, ids and addresses as raw bytes,
//! structured values as JSON in the shapes the server already speaks (so the tables read without
//! Rust), and call statuses as their EIP-5792 codes.

use super::{ApiKey, CallStatus, KeyLimits, SentCall, StateError};
use alloy_primitives::{Address, Bytes, U256};
use leash_core::{
    calls::Call, prepare::PreparedOperation, rpc_types::RpcUserOperation,
    sender::SignedUserOperation, session_state::SessionState,
};
use leash_sdk::service::StoredSession;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::num::NonZeroU32;

/// A [`Call`] as JSON.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredCall {
    to: Address,
    value: U256,
    data: Bytes,
}

impl From<&Call> for StoredCall {
    fn from(call: &Call) -> Self {
        Self {
            to: call.to,
            value: call.value,
            data: call.data.clone(),
        }
    }
}

impl From<StoredCall> for Call {
    fn from(call: StoredCall) -> Self {
        Self {
            to: call.to,
            value: call.value,
            data: call.data,
        }
    }
}

/// `operation` as bundlers take it (its signature and EIP-7702 authorization included).
pub(super) fn operation_json(operation: &SignedUserOperation) -> Result<String, StateError> {
    let rpc = RpcUserOperation::try_from(operation)
        .map_err(|error| StateError::Backend(format!("encoding an operation: {error}")))?;
    to_json(&rpc)
}

pub(super) fn operation_from_json(json: &str) -> Result<SignedUserOperation, StateError> {
    let rpc: RpcUserOperation = from_json(json, "operation")?;
    SignedUserOperation::try_from(rpc)
        .map_err(|error| StateError::Backend(format!("decoding an operation: {error}")))
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, StateError> {
    serde_json::to_string(value).map_err(|error| StateError::Backend(error.to_string()))
}

pub(super) fn from_json<T: DeserializeOwned>(json: &str, column: &str) -> Result<T, StateError> {
    serde_json::from_str(json)
        .map_err(|error| StateError::Backend(format!("column {column}: {error}")))
}

/// A row of `sessions` with an ERC-7715 permission: the session and the permission as granted.
pub(super) fn granted_from(
    session: &str,
    permission: &str,
) -> Result<(StoredSession, Value), StateError> {
    Ok((
        from_json(session, "session")?,
        from_json(permission, "execution_permission")?,
    ))
}

/// A `session_state` column (in `calls` and `prepared_calls`) as stored: JSON, or NULL.
pub(super) fn session_state_json(
    state: Option<&SessionState>,
) -> Result<Option<String>, StateError> {
    state.map(to_json).transpose()
}

/// A `session_state` column as read back.
pub(super) fn session_state_from(json: Option<String>) -> Result<Option<SessionState>, StateError> {
    json.map(|state| from_json(&state, "session_state"))
        .transpose()
}

/// `bytes` as a fixed-size value; the schema checks lengths, so a mismatch is corruption.
pub(super) fn fixed<const N: usize>(
    bytes: &[u8],
    name: &str,
) -> Result<alloy_primitives::FixedBytes<N>, StateError> {
    alloy_primitives::FixedBytes::try_from(bytes)
        .map_err(|_| StateError::Backend(format!("column {name}: {} bytes", bytes.len())))
}

pub(super) fn backend(what: impl std::fmt::Display, error: impl std::fmt::Display) -> StateError {
    StateError::Backend(format!("{what}: {error}"))
}

/// The status stored as `code`, with the `receipt` (JSON) and `failure` columns beside it.
pub(super) fn status_from_columns(
    code: u16,
    receipt: Option<String>,
    failure: Option<String>,
) -> Result<CallStatus, StateError> {
    let receipt = || -> Result<_, StateError> {
        let receipt = receipt.ok_or_else(|| StateError::Backend("no receipt".into()))?;
        Ok(Box::new(from_json(&receipt, "receipt")?))
    };
    Ok(match (code, failure) {
        (100, _) => CallStatus::Pending,
        (200, _) => CallStatus::Confirmed(receipt()?),
        (500, _) => CallStatus::Reverted(receipt()?),
        (400, Some(reason)) => CallStatus::Failed(reason),
        // The schemas' CHECKs allow nothing else.
        (code, _) => return Err(StateError::Backend(format!("call status {code}"))),
    })
}

/// The `receipt` (JSON) and `failure` columns of `status`.
pub(super) fn status_columns(
    status: &CallStatus,
) -> Result<(Option<String>, Option<String>), StateError> {
    let receipt = status.receipt().map(to_json).transpose()?;
    let failure = match status {
        CallStatus::Failed(reason) => Some(reason.clone()),
        CallStatus::Pending | CallStatus::Confirmed(_) | CallStatus::Reverted(_) => None,
    };
    Ok((receipt, failure))
}

/// `value` as an integer column: neither SQLite nor PostgreSQL has unsigned integers.
pub(super) fn integer(value: u64) -> Result<i64, StateError> {
    i64::try_from(value).map_err(|_| StateError::Backend(format!("{value} is past i64")))
}

/// An integer column that holds a `u64` ([`integer`]).
pub(super) fn unsigned(value: i64) -> Result<u64, StateError> {
    u64::try_from(value).map_err(|_| StateError::Backend(format!("negative count {value}")))
}

/// An `api_keys` row, as both databases read and write it.
#[derive(sqlx::FromRow)]
pub(super) struct ApiKeyRow {
    pub(super) name: String,
    pub(super) key_hash: Vec<u8>,
    pub(super) created_at: i64,
    pub(super) revoked_at: Option<i64>,
    /// `N/s` or `N/min`.
    pub(super) rate: Option<String>,
    pub(super) burst: Option<i64>,
    pub(super) daily_quota: Option<i64>,
}

/// The columns of an [`ApiKeyRow`], to select.
pub(super) const API_KEY_COLUMNS: &str =
    "name, key_hash, created_at, revoked_at, rate, burst, daily_quota";

impl ApiKeyRow {
    pub(super) fn of(key: &ApiKey) -> Result<Self, StateError> {
        Ok(Self {
            name: key.name.clone(),
            key_hash: key.key_hash.to_vec(),
            created_at: integer(key.created_at)?,
            revoked_at: key.revoked_at.map(integer).transpose()?,
            rate: key.limits.rate.map(|rate| rate.to_string()),
            burst: key.limits.burst.map(|burst| i64::from(burst.get())),
            daily_quota: key.limits.daily_quota.map(integer).transpose()?,
        })
    }

    pub(super) fn decode(self) -> Result<ApiKey, StateError> {
        let corrupt = |column: &str, error: String| backend(format!("column {column}"), error);
        let burst = self
            .burst
            .map(|burst| {
                u32::try_from(burst)
                    .ok()
                    .and_then(NonZeroU32::new)
                    .ok_or_else(|| corrupt("burst", burst.to_string()))
            })
            .transpose()?;
        Ok(ApiKey {
            key_hash: fixed(&self.key_hash, "key_hash")?,
            name: self.name,
            created_at: unsigned(self.created_at)?,
            revoked_at: self.revoked_at.map(unsigned).transpose()?,
            limits: KeyLimits {
                rate: self
                    .rate
                    .map(|rate| rate.parse().map_err(|error| corrupt("rate", error)))
                    .transpose()?,
                burst,
                daily_quota: self.daily_quota.map(unsigned).transpose()?,
            },
        })
    }
}

/// A sent call as both databases keep it: `calls`' `user_op_hash`, `operation` and
/// `session_state`.
#[derive(sqlx::FromRow)]
pub(super) struct SentCallRow {
    user_op_hash: Vec<u8>,
    operation: String,
    session_state: Option<String>,
}

impl SentCallRow {
    pub(super) fn decode(self) -> Result<SentCall, StateError> {
        Ok(SentCall {
            operation: PreparedOperation {
                op: operation_from_json(&self.operation)?,
                user_op_hash: fixed(&self.user_op_hash, "user_op_hash")?,
            },
            session_state: session_state_from(self.session_state)?,
        })
    }
}
