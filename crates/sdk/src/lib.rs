#![doc = include_str!("../README.md")]

mod abi_call;
mod calls;
mod deploy;
mod eip7702;
mod error;
mod expiry;
mod grant;
mod keystore;
mod permission;
mod revert_reason;
mod session;
mod session_flow;
mod session_store;
mod signing;
mod submission;
mod transport;
mod user_operation;

pub use abi_call::{
    AbiCallError, CallSpec, encode_function_call, parse_amount, parse_hex_data, parse_selector,
    parse_selector_list, split_top_level,
};
pub use calls::{
    Call, MODE_BATCH, MODE_SINGLE, MODULE_TYPE_VALIDATOR, execute_calldata,
    install_validator_calldata,
};
pub use deploy::{DeployError, deploy_missing, missing_deployments};
pub use eip7702::{
    DELEGATION_DESIGNATOR_PREFIX, EIP7702_INIT_CODE_MARKER, authorization_if_not_delegated,
    delegate_at, delegate_of, delegation_designator, sign_authorization,
};
pub use error::SdkError;
pub use expiry::{ExpiryError, format_utc, parse_expiry};
pub use grant::{GrantDomain, GrantError, MAX_VALID_UNTIL, SessionGrantBuilder};
pub use keystore::{EncryptedKey, KeystoreError, ScryptParams};
pub use permission::{
    ERC20_SPEND_SELECTORS, FORBIDDEN_ACCOUNT_SELECTORS, MAX_ALLOWANCE, Permission,
};
pub use revert_reason::RevertReason;
pub use session::{
    SIG_MODE_ENABLE, SIG_MODE_USE, SIG_MODE_USE_ROOT, SessionAuth, USE_SIGNATURE_LEN,
    session_nonce_key,
};
pub use session_flow::{
    Budget, Denial, Fees, GAS_MARGIN_PERCENT, GrantRecord, Limit, LimitKind, OnChainStatus,
    PreparedOperation, SessionQueryError, SessionState, TokenTransfer, explain_rejection,
    prepare_owner_operation, prepare_session_operation, read_session_state, token_transfers,
    validator_installed,
};
pub use session_store::{LEASH_HOME_ENV, SessionMetadata, SessionStore, SessionStoreError};
pub use signing::{PLACEHOLDER_SIGNATURE, sign_owner};
pub use submission::{ReceiptWait, ReceiptWaitError, UserOperationSubmission, wait_for_receipt};
pub use transport::{
    AaCode, BundlerClient, DirectSender, EntryPointRejection, RpcUserOperation, SenderError,
    SignedUserOperation, UserOperationConversionError, UserOperationGasEstimate,
    UserOperationReceipt, UserOperationSender, entry_point_nonce,
};
pub use user_operation::{
    GasSettings, UserOperationBuilder, nonce_key_for_validator, user_operation_hash,
};
