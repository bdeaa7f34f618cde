#![doc = include_str!("../README.md")]

mod chain;
mod error;
mod outcome;
mod revert_reason;
mod value_transfers;
pub mod walkthrough;

pub use chain::{Chain, ChainSnapshot, DEFAULT_BUNDLER, DEFAULT_CHAIN_ID, TxOutcome};
pub use error::SimError;
pub use outcome::{BalanceChanges, BundleOutcome, Execution, Rejection, UserOpOutcome};
pub use revert_reason::RevertReason;
