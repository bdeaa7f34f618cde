#![doc = include_str!("../README.md")]

mod backing;
mod chain;
mod erc7562;
mod error;
mod outcome;
mod sender;
mod value_transfers;
pub mod walkthrough;

pub use backing::BackingError;
pub use chain::{
    CallFailure, Chain, ChainSnapshot, DEFAULT_BUNDLER, DEFAULT_CHAIN_ID, KEPT_RECEIPTS,
    TransactionError, TxOutcome,
};
pub use erc7562::Erc7562Violation;
pub use error::SimError;
pub use leash_core::{
    rejection::{AaCode, EntryPointRejection},
    revert_reason::RevertReason,
};
pub use outcome::{BalanceChanges, BundleOutcome, Execution, UserOpOutcome};
pub use sender::{SimSender, ready};
