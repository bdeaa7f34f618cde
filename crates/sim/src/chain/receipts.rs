//! The receipts of committed bundles, by the hash of every operation they included: those of the
//! latest [`KEPT_RECEIPTS`] operations, as a node with bounded history keeps them. A chain that
//! runs for days (`leash serve --data-dir`) keeps its memory and its saved file bounded; what a
//! restarted server needs, the receipts of the calls it had in flight, are among the latest.

use alloy_primitives::B256;
use alloy_rpc_types_eth::TransactionReceipt;
use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

/// How many operations' receipts are kept: about 1.5 MB of JSON in a saved chain.
pub const KEPT_RECEIPTS: usize = 1_024;

/// Receipts by operation hash, oldest first in `order`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Receipts {
    by_operation: HashMap<B256, Arc<TransactionReceipt>>,
    order: VecDeque<B256>,
}

impl Receipts {
    /// The receipt of the bundle that included `user_op_hash`, while it is kept.
    pub(crate) fn get(&self, user_op_hash: B256) -> Option<&TransactionReceipt> {
        self.by_operation.get(&user_op_hash).map(Arc::as_ref)
    }

    /// Keeps `receipt` for `user_op_hash`, forgetting the oldest beyond [`KEPT_RECEIPTS`].
    pub(crate) fn insert(&mut self, user_op_hash: B256, receipt: Arc<TransactionReceipt>) {
        if self.by_operation.insert(user_op_hash, receipt).is_none() {
            self.order.push_back(user_op_hash);
        }
        while self.order.len() > KEPT_RECEIPTS {
            if let Some(oldest) = self.order.pop_front() {
                self.by_operation.remove(&oldest);
            }
        }
    }

    /// Every kept receipt, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (B256, &TransactionReceipt)> {
        self.order
            .iter()
            .filter_map(|hash| Some((*hash, self.get(*hash)?)))
    }

    /// Receipts read back from a saved chain, in the order their bundles were mined.
    pub(crate) fn from_saved(saved: impl IntoIterator<Item = (B256, TransactionReceipt)>) -> Self {
        let mut saved: Vec<_> = saved.into_iter().collect();
        saved.sort_by_key(|(_, receipt)| (receipt.block_number, receipt.transaction_index));
        let mut receipts = Self::default();
        for (hash, receipt) in saved {
            receipts.insert(hash, Arc::new(receipt));
        }
        receipts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receipt of a transaction mined in block `number`.
    fn receipt(number: u64) -> TransactionReceipt {
        serde_json::from_value(serde_json::json!({
            "type": "0x2", "status": "0x1", "cumulativeGasUsed": "0x5208", "logs": [],
            "logsBloom": format!("0x{}", "00".repeat(256)),
            "transactionHash": B256::with_last_byte(1), "transactionIndex": "0x0",
            "blockHash": B256::with_last_byte(2), "blockNumber": format!("{number:#x}"),
            "gasUsed": "0x5208", "effectiveGasPrice": "0x1", "from": alloy_primitives::Address::ZERO,
            "to": alloy_primitives::Address::ZERO, "contractAddress": null,
        }))
        .unwrap_or_else(|error| panic!("a receipt: {error}"))
    }

    fn hash(index: usize) -> B256 {
        B256::from(alloy_primitives::U256::from(index))
    }

    #[test]
    fn only_the_latest_are_kept_and_reloaded_in_the_order_mined() {
        let mut receipts = Receipts::default();
        for index in 0..KEPT_RECEIPTS + 5 {
            receipts.insert(hash(index), Arc::new(receipt(index as u64)));
        }
        assert!(receipts.get(hash(4)).is_none(), "the oldest are forgotten");
        assert!(receipts.get(hash(5)).is_some());
        assert!(receipts.get(hash(KEPT_RECEIPTS + 4)).is_some());
        assert_eq!(receipts.iter().count(), KEPT_RECEIPTS);

        // Saved by hash, reloaded by the block they were mined in: the next insert forgets the
        // oldest block's, not the smallest hash's.
        let mut saved: Vec<_> = receipts.iter().map(|(h, r)| (h, r.clone())).collect();
        saved.sort_by_key(|(h, _)| std::cmp::Reverse(*h));
        let mut reloaded = Receipts::from_saved(saved);
        reloaded.insert(hash(KEPT_RECEIPTS + 5), Arc::new(receipt(10_000)));
        assert!(reloaded.get(hash(5)).is_none());
        assert!(reloaded.get(hash(6)).is_some());
        assert_eq!(reloaded.iter().count(), KEPT_RECEIPTS);
    }

    #[test]
    fn a_receipt_kept_again_is_not_counted_twice() {
        let mut receipts = Receipts::default();
        receipts.insert(hash(1), Arc::new(receipt(1)));
        receipts.insert(hash(1), Arc::new(receipt(2)));
        assert_eq!(receipts.iter().count(), 1);
        assert_eq!(receipts.get(hash(1)).map(|r| r.block_number), Some(Some(2)));
    }
}
