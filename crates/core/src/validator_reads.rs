//! A session's state as the validator reports it, read through any [`ValidatorReader`]: a node
//! (leash-sdk) and the embedded chain (leash-sim) answer the same view calls, so one function
//! says what a session's status, remaining budgets and usage limits' remaining calls are.

use crate::{
    grant::GrantDomain,
    rules::{Rule, compact_rules},
    session_state::{Budget, GrantRecord, OnChainStatus, SessionState},
};
use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use leash_bindings::SessionKeyValidator;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;

/// Something that answers view calls: a node's `eth_call`, or the embedded chain.
pub trait ValidatorReader {
    /// Why a call could not be made.
    type Error;

    /// The return data of calling `to` with `input`, nothing committed.
    fn view(
        &mut self,
        to: Address,
        input: Bytes,
    ) -> impl Future<Output = Result<Bytes, Self::Error>> + Send;
}

/// Why a session's state could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionReadError<E> {
    /// The call could not be made (the node could not be reached, the call reverted).
    #[error("reading {what} from the validator: {source}")]
    Read {
        /// The function.
        what: &'static str,
        /// The cause.
        source: E,
    },
    /// The validator's answer did not decode (no validator at that address?).
    #[error("cannot decode {what} from the validator: {source}")]
    Decode {
        /// The function.
        what: &'static str,
        /// The cause.
        source: alloy_sol_types::Error,
    },
    /// `getSession` returned a status this version does not know.
    #[error("getSession returned unknown status {0}")]
    UnknownStatus(u8),
}

/// Reads `record`'s session from the validator of `domain`: its status, whether the account has
/// installed the validator, and what is left of each limit (`getAllowance`: of the current period,
/// with when it ends, for a recurring one). A session that is not enabled yet has its grant's full
/// allowances (the validator says 0 until the enable).
pub async fn read_session_state<R: ValidatorReader>(
    reader: &mut R,
    domain: &GrantDomain,
    record: &GrantRecord,
) -> Result<SessionState, SessionReadError<R::Error>> {
    let account = record.account;
    let session_id = domain.session_id(&record.grant());
    let call = SessionKeyValidator::getSessionCall {
        account,
        sessionId: session_id,
    };
    let session = view(reader, domain.validator, call, "getSession").await?;
    let status =
        OnChainStatus::try_from(session.status).map_err(SessionReadError::UnknownStatus)?;
    let validator_installed = validator_installed(reader, domain.validator, account).await?;
    let mut budgets = Vec::new();
    for limit in record.limits() {
        if status == OnChainStatus::Unused {
            budgets.push(Budget::not_enabled_yet(limit));
            continue;
        }
        let (permission_type, token) = limit.kind.query();
        let call = SessionKeyValidator::getAllowanceCall {
            account,
            sessionId: session_id,
            permissionType: permission_type.into(),
            token,
        };
        let allowance = view(reader, domain.validator, call, "getAllowance").await?;
        let resets_at = allowance
            .recurring
            .then(|| allowance.resetsAt.saturating_to());
        budgets.push(Budget::on_chain(limit, allowance.remaining, resets_at));
    }
    Ok(SessionState {
        status,
        validator_installed,
        budgets,
    })
}

/// What is left of a function permission's usage limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsesLeft {
    /// The permission's index in the grant.
    pub permission_index: u32,
    /// The calls its usage limit allows over the session's life.
    pub limit: u32,
    /// How many it may still make (`getUsesLeft`): the whole limit before the session is enabled,
    /// none once it is revoked or expired.
    pub left: U256,
}

impl fmt::Display for UsesLeft {
    /// `2 of 3 calls left (permission 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} calls left (permission {})",
            self.left, self.limit, self.permission_index
        )
    }
}

/// The calls left to each of `record`'s permissions with a usage limit, in grant order, for a
/// session in `status` (read with [`read_session_state`]): `getUsesLeft` names a permission by its
/// compact rules. A session that is not enabled yet has each whole limit (the validator says 0
/// until the enable).
pub async fn read_uses_left<R: ValidatorReader>(
    reader: &mut R,
    domain: &GrantDomain,
    record: &GrantRecord,
    status: OnChainStatus,
) -> Result<Vec<UsesLeft>, SessionReadError<R::Error>> {
    let session_id = domain.session_id(&record.grant());
    let mut uses = Vec::new();
    for (permission, permission_index) in record.permissions.iter().zip(0..) {
        let rules = permission.rules();
        let Some(limit) = rules.iter().find_map(|rule| match rule {
            Rule::UsageLimit { calls } => Some(*calls),
            _ => None,
        }) else {
            continue;
        };
        let left = if status == OnChainStatus::Unused {
            U256::from(limit)
        } else {
            let call = SessionKeyValidator::getUsesLeftCall {
                account: record.account,
                sessionId: session_id,
                compactRules: compact_rules(rules, permission_index),
            };
            view(reader, domain.validator, call, "getUsesLeft").await?
        };
        uses.push(UsesLeft {
            permission_index,
            limit,
            left,
        });
    }
    Ok(uses)
}

/// Whether `account` has installed the `SessionKeyValidator` at `validator` (`isInitialized`).
pub async fn validator_installed<R: ValidatorReader>(
    reader: &mut R,
    validator: Address,
    account: Address,
) -> Result<bool, SessionReadError<R::Error>> {
    let call = SessionKeyValidator::isInitializedCall { account };
    view(reader, validator, call, "isInitialized").await
}

async fn view<R: ValidatorReader, C: SolCall>(
    reader: &mut R,
    to: Address,
    call: C,
    what: &'static str,
) -> Result<C::Return, SessionReadError<R::Error>> {
    let output = reader
        .view(to, call.abi_encode().into())
        .await
        .map_err(|source| SessionReadError::Read { what, source })?;
    C::abi_decode_returns(&output).map_err(|source| SessionReadError::Decode { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{grant::SessionGrantBuilder, permission::Permission};
    use alloy_primitives::{address, fixed_bytes};
    use std::{
        future::{Future, ready},
        pin::pin,
        task::{Context, Poll, Waker},
    };

    /// A reader that answers every view call with `left`, keeping the calls it was asked.
    struct UsesLeftReader {
        left: U256,
        asked: Vec<Bytes>,
    }

    impl ValidatorReader for UsesLeftReader {
        type Error = std::convert::Infallible;

        fn view(
            &mut self,
            _to: Address,
            input: Bytes,
        ) -> impl Future<Output = Result<Bytes, Self::Error>> + Send {
            self.asked.push(input);
            ready(Ok(self.left.to_be_bytes::<32>().to_vec().into()))
        }
    }

    fn now<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the reads here never wait"),
        }
    }

    #[test]
    fn each_usage_limit_reads_its_calls_left_and_the_whole_limit_before_the_enable()
    -> Result<(), SessionReadError<std::convert::Infallible>> {
        let account = address!("0x00000000000000000000000000000000000000aa");
        let validator = address!("0x00000000000000000000000000000000000000dd");
        let limited = Permission::FunctionsOnAllContracts {
            functions: vec![fixed_bytes!("0x12345678")],
            rules: vec![Rule::UsageLimit { calls: 3 }],
        };
        let plain = Permission::ContractAccess {
            address: address!("0x00000000000000000000000000000000000000cc"),
        };
        let grant = SessionGrantBuilder::new(account, account, validator)
            .valid_until(2_000)
            .unbounded_gas()
            .permissions([plain, limited])
            .build(1_000)
            .expect("a valid grant");
        let record = GrantRecord::new(&grant, None).expect("a known grant");
        let domain = GrantDomain {
            chain_id: 1,
            validator,
        };
        let mut reader = UsesLeftReader {
            left: U256::from(1),
            asked: Vec::new(),
        };
        let enabled = now(read_uses_left(
            &mut reader,
            &domain,
            &record,
            OnChainStatus::Enabled,
        ))?;
        let one_left = UsesLeft {
            permission_index: 1,
            limit: 3,
            left: U256::from(1),
        };
        assert_eq!(enabled, vec![one_left]);
        assert_eq!(one_left.to_string(), "1 of 3 calls left (permission 1)");
        let unused = now(read_uses_left(
            &mut reader,
            &domain,
            &record,
            OnChainStatus::Unused,
        ))?;
        assert_eq!(unused[0].left, U256::from(3));
        assert_eq!(reader.asked.len(), 1, "nothing is read before the enable");
        let asked = SessionKeyValidator::getUsesLeftCall::abi_decode(&reader.asked[0])
            .expect("getUsesLeft");
        assert_eq!(asked.account, account);
        assert_eq!(asked.sessionId, domain.session_id(&grant));
        assert_eq!(
            asked.compactRules,
            compact_rules(&[Rule::UsageLimit { calls: 3 }], 1)
        );
        Ok(())
    }
}
