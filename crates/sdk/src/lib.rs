#![doc = include_str!("../README.md")]

mod calls;
mod eip7702;
mod error;
mod signing;
mod user_operation;

pub use calls::{Call, MODE_BATCH, MODE_SINGLE, execute_calldata};
pub use eip7702::{
    DELEGATION_DESIGNATOR_PREFIX, EIP7702_INIT_CODE_MARKER, delegate_of, delegation_designator,
    sign_authorization,
};
pub use error::SdkError;
pub use signing::sign_owner;
pub use user_operation::{
    GasSettings, UserOperationBuilder, nonce_key_for_validator, user_operation_hash,
};
