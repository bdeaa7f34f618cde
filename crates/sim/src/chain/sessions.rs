//! A session's state read from the validator on a [`Chain`], through the reads leash-sdk makes
//! on a node (leash-core's `validator_reads`).

use super::Chain;
use crate::{SimError, ready};
use alloy_primitives::{Address, Bytes};
use leash_core::{
    grant::GrantDomain,
    session_state::{GrantRecord, SessionState},
    validator_reads::{SessionReadError, ValidatorReader, read_session_state},
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
        ready(read_session_state(self, domain, record)).map_err(|error| match error {
            SessionReadError::Read { source, .. } => source,
            SessionReadError::Decode { what, source } => SimError::Decode { what, source },
            SessionReadError::UnknownStatus(status) => SimError::Decode {
                what: "getSession status",
                source: alloy_sol_types::Error::custom(format!("unknown status {status}")),
            },
            _ => SimError::Evm(format!("{error}")),
        })
    }
}
