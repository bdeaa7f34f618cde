//! A session's state read from the validator on a [`Chain`], as leash-sdk reads it from a node.

use super::Chain;
use crate::SimError;
use leash_bindings::SessionKeyValidator;
use leash_core::{
    grant::GrantDomain,
    session_state::{Budget, GrantRecord, OnChainStatus, SessionState},
};

impl Chain {
    /// `record`'s session on the validator of `domain`: its status, whether the account installed
    /// the validator, and what is left of each limit (the grant's full allowances until the
    /// session is enabled, as the validator reports nothing before).
    pub fn session_state(
        &mut self,
        domain: &GrantDomain,
        record: &GrantRecord,
    ) -> Result<SessionState, SimError> {
        let account = record.account;
        let session_id = domain.session_id(&record.grant());
        let session = self.call(
            domain.validator,
            SessionKeyValidator::getSessionCall {
                account,
                sessionId: session_id,
            },
        )?;
        let status =
            OnChainStatus::try_from(session.status).map_err(|status| SimError::Decode {
                what: "getSession status",
                source: alloy_sol_types::Error::custom(format!("unknown status {status}")),
            })?;
        let validator_installed = self.call(
            domain.validator,
            SessionKeyValidator::isInitializedCall { account },
        )?;
        let mut budgets = Vec::new();
        for limit in record.limits() {
            if status == OnChainStatus::Unused {
                budgets.push(Budget::not_enabled_yet(limit));
                continue;
            }
            let (permission_type, token) = limit.kind.query();
            let remaining = self.call(
                domain.validator,
                SessionKeyValidator::getRemainingCall {
                    account,
                    sessionId: session_id,
                    permissionType: permission_type.into(),
                    token,
                },
            )?;
            budgets.push(Budget::on_chain(limit, remaining));
        }
        Ok(SessionState {
            status,
            validator_installed,
            budgets,
        })
    }
}
