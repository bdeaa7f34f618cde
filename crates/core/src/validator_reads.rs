//! A session's state as the validator reports it, read through any [`ValidatorReader`]: a node
//! (leash-sdk) and the embedded chain (leash-sim) answer the same view calls, so one function
//! says what a session's status, remaining budgets and usage and rate limits' remaining calls are.

use crate::{
    grant::GrantDomain,
    recurring::{RecurringPeriod, describe_reset},
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
    let usage_limit = |rule: &Rule| match rule {
        Rule::UsageLimit { calls } => Some(*calls),
        _ => None,
    };
    for (permission_index, rules, limit) in limited_permissions(record, usage_limit) {
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

/// Each of `record`'s permissions with a rule `limit_of` picks, in grant order: its index in the
/// grant, its rules (whose compact form names it to the validator's reads) and what was picked.
fn limited_permissions<'a, T>(
    record: &'a GrantRecord,
    limit_of: impl Fn(&Rule) -> Option<T> + 'a,
) -> impl Iterator<Item = (u32, &'a [Rule], T)> + 'a {
    record
        .permissions
        .iter()
        .zip(0..)
        .filter_map(move |(permission, permission_index)| {
            let rules = permission.rules();
            let limit = rules.iter().find_map(&limit_of)?;
            Some((permission_index, rules, limit))
        })
}

/// What is left of a function permission's rate limit in the current period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLeft {
    /// The permission's index in the grant.
    pub permission_index: u32,
    /// The calls its rate limit allows per period.
    pub limit: u32,
    /// Its periods.
    pub period: RecurringPeriod,
    /// How many it may still make in the current period (`getRateLeft`): the whole limit before
    /// the session is enabled, none once it is revoked or expired, or before the first period.
    pub left: U256,
    /// When the current period ends (before the first one, when it starts), unix seconds; `None`
    /// before the session is enabled, when the validator holds no counter yet, and once it is
    /// not live.
    pub resets_at: Option<u64>,
}

impl fmt::Display for RateLeft {
    /// `2 of 3 calls left this period (every day), resets at 2026-12-04T00:00:00Z (unix
    /// 1796342400) (permission 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} calls left this period ({})",
            self.left, self.limit, self.period
        )?;
        if let Some(resets_at) = self.resets_at {
            write!(f, ", resets at {}", describe_reset(resets_at))?;
        }
        write!(f, " (permission {})", self.permission_index)
    }
}

/// The calls left in the current period to each of `record`'s permissions with a rate limit, in
/// grant order, for a session in `status` (read with [`read_session_state`]): `getRateLeft` names
/// a permission by its compact rules. A session that is not enabled yet has each whole limit
/// (the validator says 0 until the enable).
pub async fn read_rate_left<R: ValidatorReader>(
    reader: &mut R,
    domain: &GrantDomain,
    record: &GrantRecord,
    status: OnChainStatus,
) -> Result<Vec<RateLeft>, SessionReadError<R::Error>> {
    let session_id = domain.session_id(&record.grant());
    let mut rates = Vec::new();
    let rate_limit = |rule: &Rule| match rule {
        Rule::RateLimit { calls, period } => Some((*calls, *period)),
        _ => None,
    };
    for (permission_index, rules, (limit, period)) in limited_permissions(record, rate_limit) {
        let (left, resets_at) = if status == OnChainStatus::Unused {
            (U256::from(limit), None)
        } else {
            let call = SessionKeyValidator::getRateLeftCall {
                account: record.account,
                sessionId: session_id,
                compactRules: compact_rules(rules, permission_index),
            };
            let read = view(reader, domain.validator, call, "getRateLeft").await?;
            // A session that is not live reads (0, 0): no period to end.
            let resets_at = (!read.resetsAt.is_zero()).then(|| read.resetsAt.saturating_to());
            (read.left, resets_at)
        };
        rates.push(RateLeft {
            permission_index,
            limit,
            period,
            left,
            resets_at,
        });
    }
    Ok(rates)
}

/// What is left of a session's call counters: each usage limit's calls and each rate limit's calls
/// in the current period, in grant order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLimitsLeft {
    /// See [`read_uses_left`].
    pub uses_left: Vec<UsesLeft>,
    /// See [`read_rate_left`].
    pub rate_left: Vec<RateLeft>,
}

/// Both [`read_uses_left`] and [`read_rate_left`] of `record`'s session, in `status`.
pub async fn read_call_limits_left<R: ValidatorReader>(
    reader: &mut R,
    domain: &GrantDomain,
    record: &GrantRecord,
    status: OnChainStatus,
) -> Result<CallLimitsLeft, SessionReadError<R::Error>> {
    Ok(CallLimitsLeft {
        uses_left: read_uses_left(reader, domain, record, status).await?,
        rate_left: read_rate_left(reader, domain, record, status).await?,
    })
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
    use alloy_sol_types::SolValue;
    use std::{
        future::{Future, ready},
        pin::pin,
        task::{Context, Poll, Waker},
    };

    /// A reader that answers every view call with `answer`, keeping the calls it was asked.
    struct RecordingReader {
        answer: Bytes,
        asked: Vec<Bytes>,
    }

    impl ValidatorReader for RecordingReader {
        type Error = std::convert::Infallible;

        fn view(
            &mut self,
            _to: Address,
            input: Bytes,
        ) -> impl Future<Output = Result<Bytes, Self::Error>> + Send {
            self.asked.push(input);
            ready(Ok(self.answer.clone()))
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
        let mut reader = RecordingReader {
            answer: U256::from(1).abi_encode().into(),
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
    #[test]
    fn each_rate_limit_reads_its_calls_left_this_period_and_when_it_ends()
    -> Result<(), SessionReadError<std::convert::Infallible>> {
        use crate::recurring::DAY;
        let account = address!("0x00000000000000000000000000000000000000aa");
        let validator = address!("0x00000000000000000000000000000000000000dd");
        let daily = vec![Rule::RateLimit {
            calls: 3,
            period: RecurringPeriod::every(DAY),
        }];
        let grant = SessionGrantBuilder::new(account, account, validator)
            .valid_until(2_000)
            .unbounded_gas()
            .permissions([
                Permission::FunctionsOnAllContracts {
                    functions: vec![fixed_bytes!("0x12345678")],
                    rules: vec![Rule::UsageLimit { calls: 3 }],
                },
                Permission::FunctionsOnAllContracts {
                    functions: vec![fixed_bytes!("0x9abcdef0")],
                    rules: daily.clone(),
                },
            ])
            .build(1_000)
            .expect("a valid grant");
        let record = GrantRecord::new(&grant, None).expect("a known grant");
        let domain = GrantDomain {
            chain_id: 1,
            validator,
        };
        let mut reader = RecordingReader {
            answer: (U256::from(2), U256::from(1_767_312_000u64))
                .abi_encode_params()
                .into(),
            asked: Vec::new(),
        };
        let status = OnChainStatus::Enabled;
        let enabled = now(read_rate_left(&mut reader, &domain, &record, status))?;
        let two_left = RateLeft {
            permission_index: 1,
            limit: 3,
            period: RecurringPeriod::every(DAY),
            left: U256::from(2),
            resets_at: Some(1_767_312_000),
        };
        assert_eq!(enabled, vec![two_left]);
        assert_eq!(
            two_left.to_string(),
            "2 of 3 calls left this period (every day), resets at 2026-01-02T00:00:00Z (unix \
             1767312000) (permission 1)"
        );
        let asked = SessionKeyValidator::getRateLeftCall::abi_decode(&reader.asked[0])
            .expect("getRateLeft");
        assert_eq!(asked.sessionId, domain.session_id(&grant));
        assert_eq!(asked.compactRules, compact_rules(&daily, 1));
        let unused = now(read_rate_left(
            &mut reader,
            &domain,
            &record,
            OnChainStatus::Unused,
        ))?;
        assert_eq!((unused[0].left, unused[0].resets_at), (U256::from(3), None));
        assert_eq!(reader.asked.len(), 1, "nothing is read before the enable");
        // A session that is not live reads (0, 0): no reset to name.
        reader.answer = (U256::ZERO, U256::ZERO).abi_encode_params().into();
        let revoked = now(read_rate_left(&mut reader, &domain, &record, status))?;
        assert_eq!((revoked[0].left, revoked[0].resets_at), (U256::ZERO, None));
        Ok(())
    }
}
