//! `leash_explainCalls`: the request is `wallet_prepareCalls`' own.

use crate::error::RpcError;
use alloy_primitives::{Address, I256};
use leash_core::{denial::Denial, token_transfers::Movements};
use serde::Serialize;
use std::collections::BTreeMap;

/// Whether the calls would be accepted; what refused them, or what they would move.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Explanation {
    accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    denial: Option<DenialInfo>,
    /// `nativeTransfers` and `tokenTransfers`: empty when denied.
    #[serde(flatten)]
    movements: Movements,
    /// The simulator's native balance change of every address the calls touched, in wei as
    /// signed decimal strings; gas is not in here (the prepared operation's `maxAmount` bounds
    /// it).
    native_balance_changes: BTreeMap<Address, String>,
}

/// The refusal `wallet_prepareCalls` would answer, as data.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DenialInfo {
    /// `validation` (a rule, the window, a signature) or `execution` (a call reverts).
    kind: &'static str,
    /// The decoded error: the session, the rule and the numbers.
    reason: String,
    /// `wallet_prepareCalls`' error message.
    message: String,
    /// Its JSON-RPC code and leash code.
    code: i32,
    leash_code: u32,
}

impl Explanation {
    /// Calls refused with `error` (whose denial is `denial`).
    pub(crate) fn denied(denial: &Denial, error: &RpcError) -> Self {
        let kind = match denial {
            Denial::Validation(_) => "validation",
            Denial::Execution(_) => "execution",
        };
        Self {
            accepted: false,
            denial: Some(DenialInfo {
                kind,
                reason: denial.message().to_owned(),
                message: error.to_string(),
                code: error.code(),
                leash_code: error.leash_code(),
            }),
            movements: Movements::default(),
            native_balance_changes: BTreeMap::new(),
        }
    }

    /// Accepted calls, with what they would move.
    pub(crate) fn accepted(movements: Movements, native: &BTreeMap<Address, I256>) -> Self {
        Self {
            accepted: true,
            denial: None,
            movements,
            native_balance_changes: native
                .iter()
                .map(|(address, change)| (*address, change.to_string()))
                .collect(),
        }
    }
}
