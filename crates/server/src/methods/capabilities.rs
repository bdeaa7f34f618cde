//! `wallet_getCapabilities`: what this server supports, keyed by its chain id.

use super::Context;
use crate::{
    error::RpcError,
    params::positional,
    state::State,
    wire::{
        execution_permissions::{SUPPORTED_PERMISSION_TYPES, SUPPORTED_RULE_TYPES},
        session_key::KeyType,
    },
};
use alloy_primitives::Address;
use jsonrpsee::types::Params;
use serde_json::{Value, json};
use std::sync::Arc;

/// The Wallet API's eight permission types, all of which leash enforces on chain.
const PERMISSION_TYPES: [&str; 8] = [
    "root",
    "native-token-transfer",
    "erc20-token-transfer",
    "gas-limit",
    "contract-access",
    "account-functions",
    "functions-on-all-contracts",
    "functions-on-contract",
];

/// leash's own permission types, beside the Wallet API's: a paymaster binding, and signing as the
/// account (docs/permissions.md). Apart, for the same reason as ERC-7715's below.
const LEASH_PERMISSION_TYPES: [&str; 3] = ["paymaster", "typed-data-signing", "personal-sign"];

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    context: Arc<Context<S>>,
) -> Result<Value, RpcError> {
    // The account is checked for shape only: every account on this chain has the same
    // capabilities.
    let _account: Address = positional(&params, 0)?;
    let chain_id = format!("{:#x}", context.chain.chain_id());
    Ok(json!({
        chain_id: {
            "atomic": { "status": "supported" },
            "permissions": {
                "supported": true,
                "keyTypes": KeyType::ALL.map(KeyType::name),
                "signerTypes": ["keys"],
                "permissionTypes": PERMISSION_TYPES,
                "leashPermissionTypes": LEASH_PERMISSION_TYPES,
            },
            // ERC-7715's types apart: the Wallet API client checks `permissions` against its
            // own eight.
            "executionPermissions": {
                "supported": true,
                "permissionTypes": SUPPORTED_PERMISSION_TYPES,
                "ruleTypes": SUPPORTED_RULE_TYPES,
            },
        }
    }))
}
