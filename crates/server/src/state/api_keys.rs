//! API keys as the store keeps them (docs/server.md, *Access*): a name, the hash of the key
//! (never the key itself) and the key's own limits.

use alloy_primitives::B256;
use std::{fmt, num::NonZeroU32, str::FromStr, time::Duration};

/// An API key as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    /// Unique among every key the store ever held, revoked ones too: what the sessions and calls
    /// the key created are tagged with.
    pub name: String,
    /// The key's hash ([`crate::access::hash_api_key`]); the key is shown once and never kept.
    pub key_hash: B256,
    /// When it was added, in Unix seconds.
    pub created_at: u64,
    /// When it was revoked, in Unix seconds.
    pub revoked_at: Option<u64>,
    /// Its own limits.
    pub limits: KeyLimits,
}

/// A key's own limits; each one left `None` is the server's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyLimits {
    /// Requests it may make, on average.
    pub rate: Option<Rate>,
    /// Requests it may make at once, above the rate.
    pub burst: Option<NonZeroU32>,
    /// Calls it may send (`wallet_sendPreparedCalls`) a UTC day.
    pub daily_quota: Option<u64>,
}

/// A number of requests per second or per minute: `10/s`, `600/min`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// How many.
    pub requests: NonZeroU32,
    /// In how long.
    pub per: RatePeriod,
}

/// The period a [`Rate`] counts over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatePeriod {
    /// `/s`.
    Second,
    /// `/min`.
    Minute,
}

impl RatePeriod {
    /// Its length.
    pub fn duration(self) -> Duration {
        match self {
            Self::Second => Duration::from_secs(1),
            Self::Minute => Duration::from_secs(60),
        }
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let refused = || format!("{value:?}: a rate is N/s or N/min, N at least 1");
        let (requests, per) = value.split_once('/').ok_or_else(refused)?;
        let per = match per {
            "s" => RatePeriod::Second,
            "min" => RatePeriod::Minute,
            _ => return Err(refused()),
        };
        let requests = requests.parse().map_err(|_| refused())?;
        Ok(Self { requests, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = match self.per {
            RatePeriod::Second => "s",
            RatePeriod::Minute => "min",
        };
        write!(f, "{}/{per}", self.requests)
    }
}

#[cfg(test)]
mod tests {
    use super::{Rate, RatePeriod};

    #[test]
    fn rates_read_as_they_are_written() {
        for (text, requests, per) in [
            ("10/s", 10, RatePeriod::Second),
            ("600/min", 600, RatePeriod::Minute),
        ] {
            let rate: Rate = text.parse().expect(text);
            assert_eq!((rate.requests.get(), rate.per), (requests, per));
            assert_eq!(rate.to_string(), text);
        }
        for text in ["10", "0/s", "10/h", "-1/s", "/s", "ten/min"] {
            assert!(text.parse::<Rate>().is_err(), "{text}");
        }
    }
}
