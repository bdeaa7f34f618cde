//! Recurring allowances (docs/permissions.md, "Recurring allowances"): a `native-token-transfer`
//! or `erc20-token-transfer` limit whose amount may be spent again every period, with no
//! rollover. Its JSON, its `Permission.rules` encoding (one rule of kind [`RULE_RECURRING`]), the
//! builder's checks, and the spends refused before signing with the validator's own sentences.

use crate::{
    calls::Call,
    expiry::format_utc,
    grant::is_permit2_approve,
    permission::{ERC20_SPEND_SELECTORS, Permission},
    revert_reason::RevertReason,
    rules::{RULES_VERSION, RulesDecodeError},
};
use alloy_primitives::{Address, B256, Bytes, Selector, U256, aliases::U48, fixed_bytes};
use alloy_sol_types::{SolType, SolValue, sol_data::Uint};
use leash_bindings::{
    Rule as SolRule,
    SessionKeyValidator::{
        Erc20AllowanceExceeded, Erc20NotAllowed, NativeAllowanceExceeded, SessionKeyValidatorErrors,
    },
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Rule kind: a recurring allowance on a native or token limit (contracts/types/SessionTypes.sol).
pub const RULE_RECURRING: u8 = 2;
/// The largest period length or start a recurring rule holds (`uint48`).
pub const MAX_PERIOD_FIELD: u64 = (1 << 48) - 1;

/// Seconds in an hour, a day and a week: the CLI's period units.
pub const HOUR: u64 = 3600;
/// Seconds in a day.
pub const DAY: u64 = 24 * HOUR;
/// Seconds in a week.
pub const WEEK: u64 = 7 * DAY;

/// `abi.encode(uint48 period, uint48 start)`, a recurring rule's data.
type PeriodData = (Uint<48>, Uint<48>);

/// How long each period of a recurring allowance lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeriodLength {
    /// A fixed number of seconds, counted from the allowance's start.
    Seconds(u64),
    /// Calendar months in UTC: each resets at 00:00 on the 1st (the validator's period 0).
    CalendarMonth,
}

/// When a limit's amount renews: every `length`, from `start` (unix seconds; 0 counts from the
/// epoch, so a daily allowance resets at 00:00 UTC). Before `start` nothing may be spent.
///
/// In JSON, the `period` of the limit's data: `{"seconds": 86400, "start": 0}` or
/// `{"calendar": "month", "start": 0}`; `start` may be left out for 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodJson", into = "PeriodJson")]
pub struct RecurringPeriod {
    /// How long each period lasts.
    pub length: PeriodLength,
    /// When the first period starts, unix seconds.
    pub start: u64,
}

/// Why a period is not one the validator can hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeriodError {
    /// A period of zero seconds: the validator reads period 0 as calendar months.
    #[error("a period of 0 seconds never ends: give seconds above 0, or a calendar month")]
    ZeroSeconds,
    /// A length or start beyond `uint48`.
    #[error("period {field} {value} does not fit in uint48 (max {MAX_PERIOD_FIELD})")]
    OutOfRange {
        /// `seconds` or `start`.
        field: &'static str,
        /// The value given.
        value: u64,
    },
    /// JSON with neither or both of `seconds` and `calendar`.
    #[error(
        "a period is {{\"seconds\": N}} or {{\"calendar\": \"month\"}}, with an optional \"start\""
    )]
    Shape,
}

impl RecurringPeriod {
    /// Every `seconds`, from the epoch.
    pub fn every(seconds: u64) -> Self {
        Self {
            length: PeriodLength::Seconds(seconds),
            start: 0,
        }
    }

    /// Every calendar month (UTC).
    pub fn monthly() -> Self {
        Self {
            length: PeriodLength::CalendarMonth,
            start: 0,
        }
    }

    /// The same period, from `start` (unix seconds).
    pub fn starting(self, start: u64) -> Self {
        Self { start, ..self }
    }

    /// Checks what the validator's `uint48` fields can hold: a length of 1 to 2^48-1 seconds and a
    /// start up to 2^48-1.
    pub fn check(&self) -> Result<(), PeriodError> {
        if let PeriodLength::Seconds(seconds) = self.length {
            if seconds == 0 {
                return Err(PeriodError::ZeroSeconds);
            }
            if seconds > MAX_PERIOD_FIELD {
                return Err(PeriodError::OutOfRange {
                    field: "seconds",
                    value: seconds,
                });
            }
        }
        if self.start > MAX_PERIOD_FIELD {
            return Err(PeriodError::OutOfRange {
                field: "start",
                value: self.start,
            });
        }
        Ok(())
    }

    /// The validator's `period`: seconds, or 0 for calendar months.
    fn period_field(&self) -> u64 {
        match self.length {
            PeriodLength::Seconds(seconds) => seconds,
            PeriodLength::CalendarMonth => 0,
        }
    }

    /// The validator's `(uint48 period, uint48 start)`, as recurring and rate-limit rules hold
    /// them. Fields beyond `uint48` saturate: [`Self::check`] refuses them first.
    pub(crate) fn to_fields(self) -> (U48, U48) {
        (
            U48::saturating_from(self.period_field()),
            U48::saturating_from(self.start),
        )
    }

    /// The period of the validator's `(uint48 period, uint48 start)`: period 0 is calendar months.
    pub(crate) fn from_fields(period: U48, start: U48) -> Self {
        let length = match period.to::<u64>() {
            0 => PeriodLength::CalendarMonth,
            seconds => PeriodLength::Seconds(seconds),
        };
        Self {
            length,
            start: start.to(),
        }
    }

    /// `Permission.rules` of a limit with this period: `0x01 ‖ abi.encode(Rule[]{ kind 2,
    /// abi.encode(uint48 period, uint48 start) })`. Fields beyond `uint48` saturate:
    /// [`Self::check`] refuses them first.
    pub fn encode_rules(&self) -> Bytes {
        let data = PeriodData::abi_encode_params(&self.to_fields());
        let rule = SolRule {
            kind: RULE_RECURRING,
            data: data.into(),
        };
        [&[RULES_VERSION][..], &vec![rule].abi_encode()]
            .concat()
            .into()
    }

    /// The period of a limit's `Permission.rules` (non-empty): exactly one recurring rule, in
    /// the bytes [`Self::encode_rules`] writes; any other rules (another kind, more than one) are
    /// [`RulesDecodeError::NotCanonical`], so a limit read back always encodes to the same grant.
    pub fn decode_rules(data: &[u8]) -> Result<Self, RulesDecodeError> {
        let Some((&version, list)) = data.split_first() else {
            return Err(RulesDecodeError::NotCanonical);
        };
        if version != RULES_VERSION {
            return Err(RulesDecodeError::Version(version));
        }
        let abi = |error: alloy_sol_types::Error| RulesDecodeError::Abi(error.to_string());
        let list = <Vec<SolRule> as SolValue>::abi_decode(list).map_err(abi)?;
        // A limit's rules, as leash writes them, are exactly one recurring rule.
        let [rule] = list.as_slice() else {
            return Err(RulesDecodeError::NotCanonical);
        };
        if rule.kind != RULE_RECURRING {
            return Err(RulesDecodeError::NotCanonical);
        }
        let (period, start) = PeriodData::abi_decode_params(&rule.data).map_err(abi)?;
        let decoded = Self::from_fields(period, start);
        if decoded.encode_rules() != *data {
            return Err(RulesDecodeError::NotCanonical);
        }
        Ok(decoded)
    }
}

impl fmt::Display for RecurringPeriod {
    /// `every day`, `every 90 seconds from 2026-12-01T00:00:00Z`, `every calendar month (UTC)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.length {
            PeriodLength::Seconds(HOUR) => f.write_str("every hour")?,
            PeriodLength::Seconds(DAY) => f.write_str("every day")?,
            PeriodLength::Seconds(WEEK) => f.write_str("every week")?,
            PeriodLength::Seconds(seconds) => write!(f, "every {seconds} seconds")?,
            PeriodLength::CalendarMonth => f.write_str("every calendar month (UTC)")?,
        }
        if self.start != 0 {
            write!(f, " from {}", format_utc(self.start))?;
        }
        Ok(())
    }
}

/// When a period ends, as `getAllowance` and `RecurringAllowanceExceeded` report it:
/// `2026-12-04T00:00:00Z (unix 1796342400)`. A time no validator reports (past twice the largest
/// `uint48`) is given as its number only, since formatting it would walk millions of years.
pub fn describe_reset(resets_at: u64) -> String {
    if resets_at > 2 * MAX_PERIOD_FIELD {
        return format!("unix {resets_at}");
    }
    format!("{} (unix {resets_at})", format_utc(resets_at))
}

/// The JSON shape of a [`RecurringPeriod`]: exactly one of `seconds` and `calendar`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calendar: Option<CalendarUnit>,
    #[serde(default)]
    start: u64,
}

/// The calendar unit a period may be: only months, whose length varies.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum CalendarUnit {
    Month,
}

impl TryFrom<PeriodJson> for RecurringPeriod {
    type Error = PeriodError;

    fn try_from(json: PeriodJson) -> Result<Self, PeriodError> {
        let length = match (json.seconds, json.calendar) {
            (Some(seconds), None) => PeriodLength::Seconds(seconds),
            (None, Some(CalendarUnit::Month)) => PeriodLength::CalendarMonth,
            _ => return Err(PeriodError::Shape),
        };
        let period = Self {
            length,
            start: json.start,
        };
        period.check()?;
        Ok(period)
    }
}

impl From<RecurringPeriod> for PeriodJson {
    fn from(period: RecurringPeriod) -> Self {
        let (seconds, calendar) = match period.length {
            PeriodLength::Seconds(seconds) => (Some(seconds), None),
            PeriodLength::CalendarMonth => (None, Some(CalendarUnit::Month)),
        };
        Self {
            seconds,
            calendar,
            start: period.start,
        }
    }
}

/// `approve(address,uint256)` and `increaseAllowance(address,uint256)`: approvals promise pulls
/// outside any period, so a recurring token refuses them.
const ERC20_APPROVALS: [Selector; 2] = [fixed_bytes!("0x095ea7b3"), fixed_bytes!("0x39509351")];
/// `transferFrom(address,address,uint256)`: its amount is its third argument.
const ERC20_TRANSFER_FROM: Selector = fixed_bytes!("0x23b872dd");

/// A spend refused before it is signed because of a recurring allowance: the validator's error for
/// it, which its sentence is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", RevertReason::Validator((**.0).clone()))]
pub struct RecurringDenial(pub Box<SessionKeyValidatorErrors>);

/// Refuses, as the validator would in validation, the calls of session `session_id` that its
/// recurring allowances (in `permissions`) can never allow: an approval of a recurring token
/// (`approve`, `increaseAllowance`, Permit2's `approve`: `Erc20NotAllowed`), a `transfer` or
/// `transferFrom` of more than its amount per period (`Erc20AllowanceExceeded`) and native value
/// above that amount (`NativeAllowanceExceeded`). A spend within the amount but beyond what the
/// current period has left is the execution phase's to refuse (`RecurringAllowanceExceeded`),
/// since only it reads the clock.
pub fn check_recurring_spends(
    session_id: B256,
    permissions: &[Permission],
    calls: &[Call],
) -> Result<(), RecurringDenial> {
    let per_period = |asset: Address| {
        permissions.iter().find_map(|permission| match permission {
            Permission::NativeTokenTransfer {
                allowance,
                period: Some(_),
            } if asset.is_zero() => Some(*allowance),
            Permission::Erc20TokenTransfer {
                address,
                allowance,
                period: Some(_),
            } if *address == asset && !asset.is_zero() => Some(*allowance),
            _ => None,
        })
    };
    for call in calls {
        if let Some(error) = token_refusal(session_id, call, per_period) {
            return Err(RecurringDenial(Box::new(error)));
        }
        if let Some(amount) = per_period(Address::ZERO)
            && call.value > amount
        {
            return Err(RecurringDenial(Box::new(
                SessionKeyValidatorErrors::NativeAllowanceExceeded(NativeAllowanceExceeded {
                    sessionId: session_id,
                    target: call.to,
                    requested: call.value,
                    remaining: amount,
                }),
            )));
        }
    }
    Ok(())
}

/// The validator's refusal of `call` as a spend of a recurring token, if it is one it refuses. A
/// call too short to hold its amount is left to the validator (`MalformedErc20Call`).
fn token_refusal(
    session_id: B256,
    call: &Call,
    per_period: impl Fn(Address) -> Option<U256>,
) -> Option<SessionKeyValidatorErrors> {
    let selector = Selector::from_slice(call.data.get(..4)?);
    let word = |index: usize| call.data.get(4 + 32 * index..4 + 32 * (index + 1));
    let permit2_approve = is_permit2_approve(call.to, selector);
    let token = if permit2_approve {
        Address::from_word(B256::from_slice(word(0)?))
    } else if ERC20_SPEND_SELECTORS.contains(&selector) {
        call.to
    } else {
        return None;
    };
    let amount_per_period = per_period(token)?;
    // Permit2's approve(token, spender, amount, expiration) and transferFrom have the amount third.
    let amount_index = if permit2_approve || selector == ERC20_TRANSFER_FROM {
        2
    } else {
        1
    };
    let requested = U256::from_be_slice(word(amount_index)?);
    if permit2_approve || ERC20_APPROVALS.contains(&selector) {
        return Some(SessionKeyValidatorErrors::Erc20NotAllowed(
            Erc20NotAllowed {
                sessionId: session_id,
                token,
                selector,
            },
        ));
    }
    (requested > amount_per_period).then_some(SessionKeyValidatorErrors::Erc20AllowanceExceeded(
        Erc20AllowanceExceeded {
            sessionId: session_id,
            token,
            requested,
            remaining: amount_per_period,
        },
    ))
}

#[cfg(test)]
mod tests;
