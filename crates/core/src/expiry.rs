//! Session expiries as people write them: a duration from now (`30m`, `1h`, `7d`) or a UTC date
//! and time (`2026-12-01T00:00Z`), read into the unix seconds a grant's `validUntil` holds.

/// Why text is not an expiry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpiryError {
    /// Neither a duration nor a date.
    #[error(
        "{input:?} is not an expiry: use a duration such as 90s, 30m, 1h, 7d, 2w, or a UTC time \
         such as 2026-12-01T00:00Z or 2026-12-01T00:00:00Z"
    )]
    Unrecognized {
        /// The text.
        input: String,
    },
    /// A zero duration: the session would end as it starts.
    #[error("{input:?}: a session must last longer than zero seconds")]
    ZeroDuration {
        /// The text.
        input: String,
    },
    /// A well-formed date that does not exist (month 13, February 30, hour 24…).
    #[error("{input:?} is not a valid UTC date and time")]
    InvalidDate {
        /// The text.
        input: String,
    },
    /// A duration or date too far away to represent.
    #[error("{input:?} is too far in the future")]
    Overflow {
        /// The text.
        input: String,
    },
}

/// The unix time (seconds) at which a session written `input` expires, counting durations from
/// `now` (unix seconds; pass the chain's latest block time, which is what validation compares
/// against). Whether the result is in the future is the grant builder's check, not this one's.
pub fn parse_expiry(input: &str, now: u64) -> Result<u64, ExpiryError> {
    let text = input.trim();
    if text.contains('T') || text.contains('-') {
        return parse_utc_time(input);
    }
    let (number, scale) = split_duration(text).ok_or_else(|| ExpiryError::Unrecognized {
        input: input.to_owned(),
    })?;
    let overflow = || ExpiryError::Overflow {
        input: input.to_owned(),
    };
    // `number` is all digits, so the only way to fail parsing is to exceed u64.
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(overflow)?;
    if seconds == 0 {
        return Err(ExpiryError::ZeroDuration {
            input: input.to_owned(),
        });
    }
    now.checked_add(seconds).ok_or_else(overflow)
}

/// A UTC date and time, `2026-12-01T00:00Z` or `2026-12-01T00:00:00Z` (or `+00:00` instead of
/// `Z`), as unix seconds: a moment, never a duration from now.
pub fn parse_utc_time(input: &str) -> Result<u64, ExpiryError> {
    let text = input.trim();
    parse_utc(text).ok_or_else(|| classify_date_error(input, text))
}

/// The digits and the unit's seconds of `90s`, `30m`, `1h`, `7d`, `2w`; `None` for anything else.
fn split_duration(text: &str) -> Option<(&str, u64)> {
    let unit_at = text.len().checked_sub(1)?;
    if !text.is_char_boundary(unit_at) {
        return None;
    }
    let (number, unit) = text.split_at(unit_at);
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some((number, scale))
}

/// `YYYY-MM-DDTHH:MM[:SS]Z` (or `+00:00` instead of `Z`) as unix seconds; `None` when malformed or
/// not a real date.
fn parse_utc(text: &str) -> Option<u64> {
    let body = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = body.split_once('T')?;
    let mut date_fields = date.split('-');
    let year: u64 = digits(date_fields.next()?, 4)?;
    let month: u64 = digits(date_fields.next()?, 2)?;
    let day: u64 = digits(date_fields.next()?, 2)?;
    let mut time_fields = time.split(':');
    let hour: u64 = digits(time_fields.next()?, 2)?;
    let minute: u64 = digits(time_fields.next()?, 2)?;
    let second: u64 = match time_fields.next() {
        Some(field) => digits(field, 2)?,
        None => 0,
    };
    if date_fields.next().is_some() || time_fields.next().is_some() {
        return None;
    }
    if year < 1970
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_since_epoch(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Tells a well-formed but impossible date from text that is no date at all.
fn classify_date_error(input: &str, text: &str) -> ExpiryError {
    let shape_ok = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'T' | b'Z' | b'+'));
    if shape_ok && text.len() >= "YYYY-MM-DDTHH:MMZ".len() {
        ExpiryError::InvalidDate {
            input: input.to_owned(),
        }
    } else {
        ExpiryError::Unrecognized {
            input: input.to_owned(),
        }
    }
}

/// `seconds` since the unix epoch as `YYYY-MM-DDTHH:MM:SSZ`, the form [`parse_expiry`] reads.
pub fn format_utc(seconds: u64) -> String {
    let (mut days, rest) = (seconds / 86_400, seconds % 86_400);
    let mut year = 1970;
    loop {
        let length = if is_leap(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    format!(
        "{year:04}-{month:02}-{:02}T{:02}:{:02}:{:02}Z",
        days + 1,
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn digits(field: &str, len: usize) -> Option<u64> {
    (field.len() == len && field.bytes().all(|b| b.is_ascii_digit()))
        .then(|| field.parse().ok())
        .flatten()
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (which is valid and not before 1970).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let whole_years: u64 = (1970..year)
        .map(|y| if is_leap(y) { 366 } else { 365 })
        .sum();
    let whole_months: u64 = (1..month).map(|m| days_in_month(year, m)).sum();
    whole_years + whole_months + day - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    #[test]
    fn durations_count_from_now() {
        assert_eq!(parse_expiry("90s", NOW), Ok(NOW + 90));
        assert_eq!(parse_expiry("30m", NOW), Ok(NOW + 1800));
        assert_eq!(parse_expiry("1h", NOW), Ok(NOW + 3600));
        assert_eq!(parse_expiry(" 7d ", NOW), Ok(NOW + 7 * 86_400));
        assert_eq!(parse_expiry("2w", NOW), Ok(NOW + 14 * 86_400));
    }

    #[test]
    fn utc_times_are_absolute() {
        assert_eq!(parse_expiry("2026-01-01T00:00Z", 0), Ok(NOW));
        assert_eq!(parse_expiry("2026-12-01T00:00Z", 0), Ok(1_796_083_200));
        assert_eq!(parse_expiry("2026-12-01T00:00:30Z", 0), Ok(1_796_083_230));
        assert_eq!(parse_expiry("2028-02-29T12:00+00:00", 0), Ok(1_835_438_400));
        assert_eq!(parse_expiry("1970-01-01T00:00Z", 0), Ok(0));
    }

    #[test]
    fn formatted_times_read_back() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(NOW), "2026-01-01T00:00:00Z");
        for seconds in [1_796_083_230, 1_835_438_400, 951_782_400, 4_107_542_399] {
            assert_eq!(parse_expiry(&format_utc(seconds), 0), Ok(seconds));
        }
    }

    #[test]
    fn bad_expiries_say_what_is_wrong() {
        for text in [
            "",
            "1",
            "h",
            "1x",
            "-1h",
            "1.5h",
            "tomorrow",
            "1 h",
            "2026-12-01",
            "2026-1-01T00:00Z",
        ] {
            assert!(
                matches!(
                    parse_expiry(text, NOW),
                    Err(ExpiryError::Unrecognized { .. })
                ),
                "{text}: {:?}",
                parse_expiry(text, NOW)
            );
        }
        for text in [
            "2026-13-01T00:00Z",
            "2027-02-29T00:00Z",
            "2026-12-01T24:00Z",
            "2026-12-01T00:60Z",
            "2026-12-01T00:00:60Z",
            "2026-12-00T00:00Z",
            "1969-12-31T23:59Z",
            // Date-shaped, but with a field too many or too short, or without the `T`.
            "2026-12-01-05T00:00Z",
            "2026-12-01T00:00:00:00Z",
            "2026-12-01T0:00:00Z",
            "2026-12-01-00:00:00Z",
        ] {
            assert_eq!(
                parse_expiry(text, NOW),
                Err(ExpiryError::InvalidDate { input: text.into() }),
                "{text}"
            );
        }
        assert_eq!(
            parse_expiry("0h", NOW),
            Err(ExpiryError::ZeroDuration { input: "0h".into() })
        );
        for text in ["99999999999999999999d", "3000000000000000w"] {
            assert_eq!(
                parse_expiry(text, NOW),
                Err(ExpiryError::Overflow { input: text.into() })
            );
        }
        assert!(matches!(
            parse_expiry("1hé", NOW),
            Err(ExpiryError::Unrecognized { .. })
        ));
    }
}
