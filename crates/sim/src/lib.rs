#![doc = include_str!("../README.md")]

mod chain;
mod error;
mod outcome;
mod revert_reason;
pub mod walkthrough;

pub use chain::{Chain, DEFAULT_BUNDLER, DEFAULT_CHAIN_ID, TxOutcome};
pub use error::SimError;
pub use outcome::{BundleOutcome, Execution, Rejection, UserOpOutcome};
pub use revert_reason::RevertReason;
