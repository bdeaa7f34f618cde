//! A limit's amount with an optional recurring period, as `--native` and `--erc20` take it:
//! `AMOUNT`, `AMOUNT/day`, `AMOUNT/month@2026-12-01T00:00Z`.

use alloy_primitives::U256;
use leash_core::{
    abi_call::{AbiCallError, parse_amount},
    expiry::parse_utc_time,
    recurring::{DAY, HOUR, RecurringPeriod, WEEK},
};

/// Why a limit's text does not parse.
#[derive(Debug, thiserror::Error)]
pub(super) enum LimitTextError {
    /// The amount is not a number.
    #[error(transparent)]
    Amount(#[from] AbiCallError),
    /// An unknown period unit.
    #[error("{unit:?} is not a period: use hour, day, week or month (AMOUNT/UNIT[@START])")]
    Unit {
        /// The unit's text.
        unit: String,
    },
    /// A start that is not a UTC time (or not a real one).
    #[error("the period's start {text:?} is not a UTC time such as 2026-12-01T00:00Z")]
    Start {
        /// The start's text.
        text: String,
    },
}

/// `AMOUNT[/UNIT[@START]]`: the amount (per period, with a unit) and the period. `hour`, `day` and
/// `week` are periods of seconds counted from START (the epoch without one, so a day resets at
/// 00:00 UTC and a week on Thursdays, 1970-01-01's weekday); `month` is the calendar month in
/// UTC, and START only says when the allowance opens.
pub(super) fn parse_limit(text: &str) -> Result<(U256, Option<RecurringPeriod>), LimitTextError> {
    let Some((amount, period)) = text.split_once('/') else {
        return Ok((parse_amount(text)?, None));
    };
    let period = parse_period(period)?;
    Ok((parse_amount(amount)?, Some(period)))
}

/// `UNIT[@START]`, a period as limits and rate limits (`rate:N/UNIT[@START]`) write it: see
/// [`parse_limit`].
pub(super) fn parse_period(period: &str) -> Result<RecurringPeriod, LimitTextError> {
    let (unit, start) = match period.split_once('@') {
        Some((unit, start)) => {
            let start = parse_utc_time(start).map_err(|_| LimitTextError::Start {
                text: start.to_owned(),
            })?;
            (unit, start)
        }
        None => (period, 0),
    };
    let period = match unit.trim() {
        "hour" => RecurringPeriod::every(HOUR),
        "day" => RecurringPeriod::every(DAY),
        "week" => RecurringPeriod::every(WEEK),
        "month" => RecurringPeriod::monthly(),
        unit => {
            return Err(LimitTextError::Unit {
                unit: unit.to_owned(),
            });
        }
    };
    Ok(period.starting(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_with_and_without_a_period() -> Result<(), LimitTextError> {
        assert_eq!(parse_limit("1000")?, (U256::from(1000), None));
        assert_eq!(
            parse_limit("100/day")?,
            (U256::from(100), Some(RecurringPeriod::every(DAY)))
        );
        assert_eq!(
            parse_limit("1ether/week")?.1,
            Some(RecurringPeriod::every(WEEK))
        );
        assert_eq!(
            parse_limit("5/hour@2026-12-01T00:00Z")?.1,
            Some(RecurringPeriod::every(HOUR).starting(1_796_083_200))
        );
        assert_eq!(
            parse_limit("5/month@2026-12-01T00:00:00Z")?.1,
            Some(RecurringPeriod::monthly().starting(1_796_083_200))
        );
        Ok(())
    }

    #[test]
    fn bad_periods_say_what_is_wrong() {
        let error = |text: &str| parse_limit(text).expect_err(text).to_string();
        assert_eq!(
            error("100/fortnight"),
            "\"fortnight\" is not a period: use hour, day, week or month (AMOUNT/UNIT[@START])"
        );
        assert_eq!(
            error("100/day@1h"),
            "the period's start \"1h\" is not a UTC time such as 2026-12-01T00:00Z"
        );
        assert!(matches!(
            parse_limit("lots/day"),
            Err(LimitTextError::Amount(_))
        ));
    }
}
