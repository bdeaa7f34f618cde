//! Calls and the `details` that name an operation, shared by prepare, send and status.

use alloy_primitives::{Address, B256, Bytes, U256};
use leash_core::calls::Call;
use serde::{Deserialize, Serialize};

/// One call: `data` and `value` may be left out.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct WireCall {
    pub(crate) to: Address,
    #[serde(default)]
    pub(crate) data: Bytes,
    #[serde(default)]
    pub(crate) value: U256,
}

impl From<WireCall> for Call {
    fn from(call: WireCall) -> Self {
        Self {
            to: call.to,
            value: call.value,
            data: call.data,
        }
    }
}

impl From<&Call> for WireCall {
    fn from(call: &Call) -> Self {
        Self {
            to: call.to,
            data: call.data.clone(),
            value: call.value,
        }
    }
}

/// `details`: `{type: "user-operation", data: {hash, calls?}}`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Details {
    #[serde(rename = "type")]
    kind: &'static str,
    data: DetailsData,
}

#[derive(Clone, Debug, Serialize)]
struct DetailsData {
    hash: B256,
    #[serde(skip_serializing_if = "Option::is_none")]
    calls: Option<Vec<WireCall>>,
}

impl Details {
    /// The details of the operation `hash`, with its calls when they are known.
    pub(crate) fn user_operation(hash: B256, calls: Option<&[Call]>) -> Self {
        Self {
            kind: "user-operation",
            data: DetailsData {
                hash,
                calls: calls.map(|calls| calls.iter().map(WireCall::from).collect()),
            },
        }
    }
}
