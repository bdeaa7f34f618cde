//! The `eth_*` subset that `cast` and viem need against the embedded chain: reading its state,
//! calling and estimating, fees, the latest blocks, and sending it signed transactions (type 4
//! included), each mined in a block of its own. Answers and errors are shaped as a node's, so
//! their clients parse them unchanged; any other `eth_*`, `net_*` or `web3_*` method is
//! -32601 naming `--rpc-url` ([`UnservedMethods`]).

mod block_id;
mod blocks;
mod calls;
mod error;
mod fees;
mod state;
mod transactions;
mod unserved;

pub(crate) use unserved::UnservedMethods;

use crate::{
    methods::{Context, register as method},
    state::State,
};
use jsonrpsee::RpcModule;

/// Registers every `eth_*` method served.
pub(crate) fn register<S: State>(module: &mut RpcModule<Context<S>>) {
    method(module, "eth_chainId", state::chain_id::<S>);
    method(module, "net_version", state::net_version::<S>);
    method(module, "eth_blockNumber", state::block_number::<S>);
    method(module, "eth_getBalance", state::balance::<S>);
    method(module, "eth_getCode", state::code::<S>);
    method(module, "eth_getStorageAt", state::storage_at::<S>);
    method(module, "eth_getTransactionCount", state::nonce::<S>);
    method(module, "eth_call", calls::call::<S>);
    method(module, "eth_estimateGas", calls::estimate_gas::<S>);
    method(module, "eth_gasPrice", fees::gas_price::<S>);
    method(
        module,
        "eth_maxPriorityFeePerGas",
        fees::max_priority_fee::<S>,
    );
    method(module, "eth_feeHistory", fees::fee_history::<S>);
    method(module, "eth_getBlockByNumber", blocks::by_number::<S>);
    method(
        module,
        "eth_sendRawTransaction",
        transactions::send_raw::<S>,
    );
    method(
        module,
        "eth_getTransactionReceipt",
        transactions::receipt::<S>,
    );
    method(
        module,
        "eth_getTransactionByHash",
        transactions::by_hash::<S>,
    );
}
