//! Blocks and mined transactions as a node shows them: every committed bundle or signed
//! transaction is kept by hash with its receipt, and each block lists its transactions. With
//! [`Chain::mine_per_transaction`] every one is mined in a block of its own, as `leash serve`'s
//! chain does; otherwise they share the current block, whose clock only moves when told to.

use super::{Chain, SECONDS_PER_BLOCK};
use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, Header, Transaction as _, TxEnvelope, TxType,
    constants::EMPTY_ROOT_HASH, transaction::Recovered,
};
use alloy_eips::{eip4895::Withdrawals, eip7685::EMPTY_REQUESTS_HASH};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rpc_types_eth::{
    Block, BlockTransactions, Log, Receipt, ReceiptEnvelope, ReceiptWithBloom, Transaction,
    TransactionReceipt,
};
use alloy_sol_types::SolValue;
use revm::{
    context::{BlockEnv, result::ExecutionResult},
    database_interface::DatabaseCommit,
    state::EvmState,
};
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

/// What the chain keeps of the transactions it committed.
#[derive(Clone, Debug, Default)]
pub(super) struct Mined {
    /// Whether each committed transaction opens a block of its own.
    per_transaction: bool,
    /// The blocks that hold transactions, by number.
    blocks: BTreeMap<u64, MinedBlock>,
    transactions: HashMap<B256, MinedTransaction>,
}

#[derive(Clone, Debug, Default)]
struct MinedBlock {
    timestamp: u64,
    /// In order.
    transactions: Vec<B256>,
    gas_used: u64,
    /// Logs emitted so far, where the next transaction's log indexes start.
    logs: u64,
}

#[derive(Clone, Debug)]
struct MinedTransaction {
    receipt: Arc<TransactionReceipt>,
    /// `None` for a bundle: the sim sends it unsigned.
    signed: Option<Transaction>,
}

/// A transaction about to be committed: what its receipt says beside the outcome.
pub(super) struct Inclusion {
    pub(super) hash: B256,
    pub(super) from: Address,
    /// `None` for a creation.
    pub(super) to: Option<Address>,
    pub(super) tx_type: TxType,
    pub(super) effective_gas_price: u128,
    /// The signed transaction, when there is one.
    pub(super) signed: Option<Recovered<TxEnvelope>>,
}

impl Chain {
    /// From now on every committed transaction (bundle or signed) is mined in a new block,
    /// one block number and 12 seconds after the previous one, as a node mining on demand.
    pub fn mine_per_transaction(&mut self) {
        self.mined.per_transaction = true;
    }

    /// The base fee per gas, the same in every block.
    pub fn base_fee(&self) -> u64 {
        self.block.basefee
    }

    /// The receipt of a committed transaction: a bundle or a signed transaction.
    pub fn receipt_by_hash(&self, hash: B256) -> Option<&TransactionReceipt> {
        self.mined
            .transactions
            .get(&hash)
            .map(|mined| &*mined.receipt)
    }

    /// A committed signed transaction ([`Chain::send_raw_transaction`]); bundles have none.
    pub fn transaction_by_hash(&self, hash: B256) -> Option<&Transaction> {
        self.mined.transactions.get(&hash)?.signed.as_ref()
    }

    /// Block `number` with its transactions' hashes: the current block, or an earlier one a
    /// transaction was mined in (blocks skipped by [`Chain::advance_time`] are not kept). The sim
    /// keeps no tries, so the roots are those of an empty block, and a block's hash is its own:
    /// unique per number on this chain.
    pub fn block(&self, number: u64) -> Option<Block> {
        let latest = self.block_number();
        let mined = self.mined.blocks.get(&number);
        let timestamp = match mined {
            Some(block) => block.timestamp,
            None if number == latest => self.timestamp(),
            None => return None,
        };
        let header = Header {
            parent_hash: number
                .checked_sub(1)
                .map_or(B256::ZERO, |n| self.block_hash(n)),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: self.block.beneficiary,
            state_root: EMPTY_ROOT_HASH,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            number,
            gas_limit: self.block.gas_limit,
            gas_used: mined.map_or(0, |block| block.gas_used),
            timestamp,
            mix_hash: self.block.prevrandao.unwrap_or_default(),
            base_fee_per_gas: Some(self.block.basefee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            requests_hash: Some(EMPTY_REQUESTS_HASH),
            ..Header::default()
        };
        Some(Block {
            header: alloy_rpc_types_eth::Header {
                hash: self.block_hash(number),
                inner: header,
                total_difficulty: Some(U256::ZERO),
                size: None,
            },
            uncles: Vec::new(),
            transactions: BlockTransactions::Hashes(
                mined
                    .map(|block| block.transactions.clone())
                    .unwrap_or_default(),
            ),
            withdrawals: Some(Withdrawals::default()),
        })
    }

    /// The block the next committed transaction runs in: the current one, or the next when
    /// mining one block per transaction.
    pub(super) fn next_block_env(&self) -> BlockEnv {
        let mut block = self.block.clone();
        if self.mined.per_transaction {
            block.number += U256::from(1);
            block.timestamp += U256::from(SECONDS_PER_BLOCK);
        }
        block
    }

    /// Commits `state`, what `inclusion` left when run in `block` with `result`, moves the chain
    /// to `block` and keeps the transaction and its receipt.
    pub(super) fn include(
        &mut self,
        block: BlockEnv,
        state: EvmState,
        result: &ExecutionResult,
        inclusion: Inclusion,
    ) -> Arc<TransactionReceipt> {
        self.db.commit(state);
        self.block = block;
        let number = self.block_number();
        let timestamp = self.timestamp();
        let block_hash = self.block_hash(number);
        let mined_block = self.mined.blocks.entry(number).or_default();
        mined_block.timestamp = timestamp;
        let index = mined_block.transactions.len() as u64;
        let logs = result
            .logs()
            .iter()
            .zip(mined_block.logs..)
            .map(|(log, log_index)| Log {
                inner: log.clone(),
                block_hash: Some(block_hash),
                block_number: Some(number),
                block_timestamp: Some(timestamp),
                transaction_hash: Some(inclusion.hash),
                transaction_index: Some(index),
                log_index: Some(log_index),
                removed: false,
            })
            .collect();
        let gas_used = result.tx_gas_used();
        mined_block.transactions.push(inclusion.hash);
        mined_block.gas_used += gas_used;
        mined_block.logs += result.logs().len() as u64;
        let receipt = ReceiptWithBloom::from(Receipt {
            status: result.is_success().into(),
            cumulative_gas_used: mined_block.gas_used,
            logs,
        });
        let contract_address = match (inclusion.to, &inclusion.signed) {
            (None, Some(signed)) => Some(inclusion.from.create(signed.nonce())),
            _ => None,
        };
        let receipt = Arc::new(TransactionReceipt {
            inner: receipt_envelope(inclusion.tx_type, receipt),
            transaction_hash: inclusion.hash,
            transaction_index: Some(index),
            block_hash: Some(block_hash),
            block_number: Some(number),
            gas_used,
            effective_gas_price: inclusion.effective_gas_price,
            blob_gas_used: None,
            blob_gas_price: None,
            from: inclusion.from,
            to: inclusion.to,
            contract_address,
        });
        let signed = inclusion.signed.map(|inner| Transaction {
            inner,
            block_hash: Some(block_hash),
            block_number: Some(number),
            transaction_index: Some(index),
            effective_gas_price: Some(inclusion.effective_gas_price),
            block_timestamp: Some(timestamp),
        });
        let mined = MinedTransaction {
            receipt: Arc::clone(&receipt),
            signed,
        };
        self.mined.transactions.insert(inclusion.hash, mined);
        receipt
    }

    /// The sim computes no headers, so a block's hash is its own: unique per number on this
    /// chain (and distinct from the bundles' three-word hashes).
    fn block_hash(&self, number: u64) -> B256 {
        keccak256((self.chain_id(), number).abi_encode())
    }
}

fn receipt_envelope(
    tx_type: TxType,
    receipt: ReceiptWithBloom<Receipt<Log>>,
) -> ReceiptEnvelope<Log> {
    match tx_type {
        TxType::Legacy => ReceiptEnvelope::Legacy(receipt),
        TxType::Eip2930 => ReceiptEnvelope::Eip2930(receipt),
        TxType::Eip1559 => ReceiptEnvelope::Eip1559(receipt),
        TxType::Eip4844 => ReceiptEnvelope::Eip4844(receipt),
        TxType::Eip7702 => ReceiptEnvelope::Eip7702(receipt),
    }
}
