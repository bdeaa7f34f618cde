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
mod node_methods;
mod state;
mod transactions;

pub(crate) use node_methods::{NodeMethods, each_call};

use crate::{chain::EmbeddedChain, methods::register as method};
use jsonrpsee::RpcModule;

/// Every `eth_*` method served, over `chain`.
pub(crate) fn rpc_module(chain: EmbeddedChain) -> RpcModule<EmbeddedChain> {
    let mut module = RpcModule::new(chain);
    register(&mut module);
    module
}

fn register(module: &mut RpcModule<EmbeddedChain>) {
    method(module, "eth_chainId", state::chain_id);
    method(module, "net_version", state::net_version);
    method(module, "eth_blockNumber", state::block_number);
    method(module, "eth_getBalance", state::balance);
    method(module, "eth_getCode", state::code);
    method(module, "eth_getStorageAt", state::storage_at);
    method(module, "eth_getTransactionCount", state::nonce);
    method(module, "eth_call", calls::call);
    method(module, "eth_estimateGas", calls::estimate_gas);
    method(module, "eth_gasPrice", fees::gas_price);
    method(module, "eth_maxPriorityFeePerGas", fees::max_priority_fee);
    method(module, "eth_feeHistory", fees::fee_history);
    method(module, "eth_getBlockByNumber", blocks::by_number);
    method(module, "eth_sendRawTransaction", transactions::send_raw);
    method(module, "eth_getTransactionReceipt", transactions::receipt);
    method(module, "eth_getTransactionByHash", transactions::by_hash);
}
