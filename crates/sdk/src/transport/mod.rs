//! Getting UserOperations on chain over a live node: [`DirectSender`] (`handleOps` from a funded
//! key, for local chains and self-bundling backends), [`BundlerClient`] (any ERC-4337 bundler's
//! JSON-RPC) and [`Fallback`] (several of them in fallback order), all implementing leash-core's
//! `UserOperationSender`.

mod bundler;
mod direct;
mod fallback;

pub use bundler::BundlerClient;
pub use direct::DirectSender;
pub use fallback::Fallback;

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, U256, aliases::U192};
use alloy_provider::Provider;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::SolCall;
use leash_bindings::EntryPoint::getNonceCall;
use leash_core::sender::SenderError;

/// `sender`'s next nonce in lane `key` (a 192-bit key, such as
/// [`nonce_key_for_validator`](leash_core::user_operation::nonce_key_for_validator) gives) read from `entry_point` with `EntryPoint.getNonce`.
pub async fn entry_point_nonce<P: Provider>(
    provider: &P,
    entry_point: Address,
    sender: Address,
    key: U256,
) -> Result<U256, SenderError> {
    if key.bit_len() > 192 {
        return Err(SenderError::NonceKeyTooWide(key));
    }
    let key = U192::from_be_slice(&key.to_be_bytes::<32>()[8..]);
    let request = TransactionRequest::default()
        .with_to(entry_point)
        .with_input(getNonceCall { sender, key }.abi_encode());
    let output = provider
        .call(request)
        .await
        .map_err(SenderError::from_node)?;
    getNonceCall::abi_decode_returns(&output).map_err(|source| SenderError::Decode {
        what: "getNonce return",
        source,
    })
}
