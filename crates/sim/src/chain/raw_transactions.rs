//! Signed transactions sent to the chain as `eth_sendRawTransaction` sends them: decoded
//! (legacy, EIP-2930, EIP-1559, EIP-7702), the sender recovered, the chain id and nonce
//! checked, then run and committed at once: the chain keeps no pool.

use super::{Chain, blocks::Inclusion};
use crate::SimError;
use alloy_consensus::{
    Transaction, TxEnvelope,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::{Typed2718, eip2718::Decodable2718};
use alloy_primitives::{Address, B256};
use revm::{
    ExecuteEvm,
    context::{TxEnv, result::EVMError},
};

/// Why the chain did not take a transaction or run a call. Every variant but
/// [`TransactionError::Chain`] is the transaction's own fault: sending it again changes nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The bytes are not an EIP-2718 signed transaction.
    #[error("not a signed transaction: {0}")]
    Malformed(String),
    /// An EIP-4844 transaction: the chain has no blobs.
    #[error("blob (EIP-4844) transactions are not supported")]
    Blob,
    /// A legacy transaction signed without a chain id, replayable on any chain.
    #[error("unprotected transaction (no chain id, pre-EIP-155): sign it for chain {expected}")]
    Unprotected {
        /// This chain's id.
        expected: u64,
    },
    /// Signed for another chain.
    #[error("chain id {got} is not this chain's ({expected})")]
    WrongChain {
        /// This chain's id.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The signature recovers to no address.
    #[error("invalid signature: {0}")]
    Signature(String),
    /// The sender's nonce is past the transaction's.
    #[error("nonce too low: {sender} is at nonce {expected}, the transaction has {got}")]
    NonceTooLow {
        /// The recovered sender.
        sender: Address,
        /// The sender's nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The transaction's nonce is ahead of the sender's: there is no pool to wait in.
    #[error(
        "nonce too high: {sender} is at nonce {expected}, the transaction has {got} (each \
         transaction is mined as it arrives; send nonce {expected} first)"
    )]
    NonceTooHigh {
        /// The recovered sender.
        sender: Address,
        /// The sender's nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The EVM refused it before running it: funds, fees, gas limit, authorization list.
    #[error("invalid transaction: {0}")]
    Invalid(String),
    /// The chain itself failed.
    #[error(transparent)]
    Chain(#[from] SimError),
}

impl TransactionError {
    /// revm's verdict: its validation refusals are the transaction's fault, the rest the chain's.
    pub(super) fn from_evm<E: std::fmt::Display>(error: EVMError<E>) -> Self {
        match error {
            EVMError::Transaction(invalid) => Self::Invalid(invalid.to_string()),
            other => Self::Chain(SimError::Evm(other.to_string())),
        }
    }
}

impl Chain {
    /// Decodes `raw` (an EIP-2718 envelope, or an RLP legacy transaction), checks it, runs it
    /// and commits it (in a block of its own with [`Chain::mine_per_transaction`]), keeping it
    /// and its receipt ([`Chain::transaction_by_hash`], [`Chain::receipt_by_hash`]). A
    /// transaction that reverts is included, as on any chain: its receipt says so.
    pub fn send_raw_transaction(&mut self, raw: &[u8]) -> Result<B256, TransactionError> {
        let envelope = TxEnvelope::decode_2718_exact(raw)
            .map_err(|error| TransactionError::Malformed(error.to_string()))?;
        if envelope.is_eip4844() {
            return Err(TransactionError::Blob);
        }
        let expected = self.chain_id();
        match envelope.chain_id() {
            None => return Err(TransactionError::Unprotected { expected }),
            Some(got) if got != expected => {
                return Err(TransactionError::WrongChain { expected, got });
            }
            Some(_) => {}
        }
        let signed = envelope
            .try_into_recovered()
            .map_err(|error| TransactionError::Signature(error.to_string()))?;
        let sender = signed.signer();
        let (expected, got) = (self.nonce(sender)?, signed.nonce());
        if got < expected {
            return Err(TransactionError::NonceTooLow {
                sender,
                expected,
                got,
            });
        }
        if got > expected {
            return Err(TransactionError::NonceTooHigh {
                sender,
                expected,
                got,
            });
        }

        let tx = tx_env(&signed)?;
        let block = self.next_block_env();
        let outcome = self
            .evm(block.clone())
            .transact(tx)
            .map_err(TransactionError::from_evm)?;
        let hash = *signed.tx_hash();
        let inclusion = Inclusion {
            hash,
            from: sender,
            to: signed.to(),
            tx_type: signed.tx_type(),
            effective_gas_price: signed.effective_gas_price(Some(block.basefee)),
            signed: Some(signed),
        };
        self.include(block, outcome.state, &outcome.result, inclusion);
        Ok(hash)
    }
}

/// The transaction as revm runs it: a legacy or EIP-2930 gas price is its max fee, with no tip.
fn tx_env(signed: &Recovered<TxEnvelope>) -> Result<TxEnv, TransactionError> {
    let tx = signed.inner();
    let authorizations = tx.authorization_list().map(<[_]>::to_vec);
    TxEnv::builder()
        .tx_type(Some(tx.ty()))
        .caller(signed.signer())
        .kind(tx.kind())
        .data(tx.input().clone())
        .value(tx.value())
        .gas_limit(tx.gas_limit())
        .gas_price(tx.max_fee_per_gas())
        .gas_priority_fee(tx.max_priority_fee_per_gas())
        .chain_id(tx.chain_id())
        .nonce(tx.nonce())
        .access_list(tx.access_list().cloned().unwrap_or_default())
        .authorization_list_signed(authorizations.unwrap_or_default())
        .build()
        .map_err(|error| TransactionError::Invalid(format!("{error:?}")))
}
