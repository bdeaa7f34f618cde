//! A session's state read from the validator on a [`Chain`], through the reads leash-sdk makes
//! on a node (leash-core's `validator_reads`).

use super::Chain;
use crate::{SimError, ready};
use alloy_primitives::{Address, Bytes};
use leash_core::{
    grant::GrantDomain,
    session_state::{GrantRecord, OnChainStatus, SessionState},
    validator_reads::{
        CallLimitsLeft, SessionReadError, ValidatorReader, read_call_limits_left,
        read_session_state,
    },
};

impl ValidatorReader for Chain {
    type Error = SimError;

    async fn view(&mut self, to: Address, input: Bytes) -> Result<Bytes, SimError> {
        Chain::view(self, to, input, "validator view")
    }
}

impl Chain {
    /// `record`'s session on the validator of `domain`: its status, whether the account installed
    /// the validator, and what is left of each limit (the grant's full allowances until the
    /// session is enabled, as the validator reports nothing before).
    pub fn session_state(
        &mut self,
        domain: &GrantDomain,
        record: &GrantRecord,
    ) -> Result<SessionState, SimError> {
        ready(read_session_state(self, domain, record)).map_err(sim_error)
    }

    /// What is left of the call counters (usage and rate limits) of `record`'s session in
    /// `status`, on the validator of `domain`.
    pub fn call_limits_left(
        &mut self,
        domain: &GrantDomain,
        record: &GrantRecord,
        status: OnChainStatus,
    ) -> Result<CallLimitsLeft, SimError> {
        ready(read_call_limits_left(self, domain, record, status)).map_err(sim_error)
    }
}

fn sim_error(error: SessionReadError<SimError>) -> SimError {
    match error {
        SessionReadError::Read { source, .. } => source,
        SessionReadError::Decode { what, source } => SimError::Decode { what, source },
        SessionReadError::UnknownStatus(status) => SimError::Decode {
            what: "getSession status",
            source: alloy_sol_types::Error::custom(format!("unknown status {status}")),
        },
        _ => SimError::Evm(format!("{error}")),
    }
}
