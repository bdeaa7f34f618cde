//! Reading a session's state from the validator on a live chain: leash-core's reads over a
//! node's `eth_call`.

use alloy_network::TransactionBuilder;
use alloy_primitives::{Address, Bytes};
use alloy_provider::{Provider, transport::TransportError};
use alloy_rpc_types_eth::TransactionRequest;
use leash_core::{
    grant::GrantDomain,
    session_state::{GrantRecord, OnChainStatus, SessionState},
    validator_reads::{self, CallLimitsLeft, SessionReadError, ValidatorReader},
};

/// Why a session's state could not be read from a node.
pub type SessionQueryError = SessionReadError<TransportError>;

/// A node's `eth_call`, as leash-core's reads want it.
struct NodeReader<'a, P>(&'a P);

impl<P: Provider> ValidatorReader for NodeReader<'_, P> {
    type Error = TransportError;

    async fn view(&mut self, to: Address, input: Bytes) -> Result<Bytes, TransportError> {
        let request = TransactionRequest::default().with_to(to).with_input(input);
        self.0.call(request).await
    }
}

/// Reads `record`'s session from the validator of `domain` on the provider's chain (see
/// [`validator_reads::read_session_state`]).
pub async fn read_session_state<P: Provider>(
    provider: &P,
    domain: &GrantDomain,
    record: &GrantRecord,
) -> Result<SessionState, SessionQueryError> {
    validator_reads::read_session_state(&mut NodeReader(provider), domain, record).await
}

/// The calls left to each of `record`'s permissions with a usage or rate limit (in the current
/// period, and when it ends), for a session in `status` (see
/// [`validator_reads::read_call_limits_left`]).
pub async fn read_call_limits_left<P: Provider>(
    provider: &P,
    domain: &GrantDomain,
    record: &GrantRecord,
    status: OnChainStatus,
) -> Result<CallLimitsLeft, SessionQueryError> {
    validator_reads::read_call_limits_left(&mut NodeReader(provider), domain, record, status).await
}

/// Whether `account` has installed the `SessionKeyValidator` at `validator` (`isInitialized`).
pub async fn validator_installed<P: Provider>(
    provider: &P,
    validator: Address,
    account: Address,
) -> Result<bool, SessionQueryError> {
    validator_reads::validator_installed(&mut NodeReader(provider), validator, account).await
}
