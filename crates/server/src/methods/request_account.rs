//! `wallet_requestAccount`: with EIP-7702 the account is the signer's own EOA, so the answer is
//! its address and a stable id; nothing is deployed or stored.

use super::Context;
use crate::{error::RpcError, params::positional, state::State};
use alloy_primitives::{Address, keccak256};
use jsonrpsee::types::Params;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `{signerAddress, id?, creationHint?}` or `{accountAddress}`; `includeCounterfactualInfo` is
/// ignored (an EOA has no counterfactual deployment).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestAccountRequest {
    #[serde(default)]
    signer_address: Option<Address>,
    #[serde(default)]
    account_address: Option<Address>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    creation_hint: Option<CreationHint>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreationHint {
    #[serde(default)]
    account_type: Option<String>,
}

/// The only account type served: the EOA delegated to `LeashAccount`.
const ACCOUNT_TYPE: &str = "7702";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RequestAccountResponse {
    account_address: Address,
    id: String,
}

pub(super) async fn handle<S: State>(
    params: Params<'static>,
    _context: Arc<Context<S>>,
) -> Result<RequestAccountResponse, RpcError> {
    let request: RequestAccountRequest = positional(&params, 0)?;
    let account = request
        .signer_address
        .or(request.account_address)
        .ok_or_else(|| {
            RpcError::invalid("params[0].signerAddress", "signerAddress or accountAddress")
        })?;
    if let Some(kind) = request.creation_hint.and_then(|hint| hint.account_type)
        && kind != ACCOUNT_TYPE
    {
        return Err(RpcError::invalid(
            "params[0].creationHint.accountType",
            format!("only {ACCOUNT_TYPE:?} accounts: the account is the signer's own EOA"),
        ));
    }
    let id = match request.id {
        Some(id) if is_uuid_v4(&id) => id,
        Some(_) => return Err(RpcError::invalid("params[0].id", "expected a UUID v4")),
        None => account_id(account),
    };
    Ok(RequestAccountResponse {
        account_address: account,
        id,
    })
}

/// A UUID v4 derived from `account`, so the same account always gets the same id without the
/// server storing one (clients check only the v4 form).
fn account_id(account: Address) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&keccak256(account)[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = alloy_primitives::hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, hex digits in either case.
fn is_uuid_v4(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths = groups.iter().map(|group| group.len()).collect::<Vec<_>>();
    lengths == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|group| group.bytes().all(|byte| byte.is_ascii_hexdigit()))
        && groups[2].starts_with('4')
        && groups[3].starts_with(['8', '9', 'a', 'b', 'A', 'B'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_id_is_a_stable_uuid_v4() {
        let account = Address::repeat_byte(0x11);
        let id = account_id(account);
        assert!(is_uuid_v4(&id), "{id}");
        assert_eq!(id, account_id(account));
        assert_ne!(id, account_id(Address::repeat_byte(0x12)));
    }

    #[test]
    fn other_forms_are_not_uuid_v4() {
        assert!(is_uuid_v4("123e4567-e89b-42d3-a456-426614174000"));
        for id in [
            "123e4567-e89b-12d3-a456-426614174000",
            "123e4567-e89b-42d3-c456-426614174000",
            "123e4567e89b42d3a456426614174000",
            "123e4567-e89b-42d3-a456-42661417400g",
        ] {
            assert!(!is_uuid_v4(id), "{id}");
        }
    }
}
