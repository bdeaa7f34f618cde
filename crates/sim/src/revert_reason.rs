//! Turning revert data into something a person can read.

use alloy_primitives::{Bytes, U256};
use alloy_sol_types::{Panic, Revert, SolError, SolInterface};
use leash_bindings::{EntryPoint::EntryPointErrors, LeashAccount::LeashAccountErrors};
use std::fmt;

/// Decoded revert data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevertReason {
    /// `Error(string)`, from `require` or `revert("...")`.
    Message(String),
    /// `Panic(uint256)`, from an assertion, overflow or out-of-bounds access.
    Panic(U256),
    /// A custom error of a leash or ERC-4337 contract, formatted with its arguments.
    Contract(String),
    /// Revert data that matches no known error (including empty data).
    Unknown(Bytes),
}

impl RevertReason {
    /// Decodes revert data against `Error`, `Panic` and every custom error the bindings know.
    pub fn decode(data: &[u8]) -> Self {
        if let Ok(revert) = Revert::abi_decode(data) {
            return Self::Message(revert.reason);
        }
        if let Ok(panic) = Panic::abi_decode(data) {
            return Self::Panic(panic.code);
        }
        if let Ok(error) = LeashAccountErrors::abi_decode(data) {
            return Self::Contract(format!("{error:?}"));
        }
        if let Ok(error) = EntryPointErrors::abi_decode(data) {
            return Self::Contract(format!("{error:?}"));
        }
        Self::Unknown(Bytes::copy_from_slice(data))
    }
}

impl fmt::Display for RevertReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(message) => write!(f, "{message:?}"),
            Self::Panic(code) => write!(f, "panic 0x{code:x}"),
            Self::Contract(error) => f.write_str(error),
            Self::Unknown(data) if data.is_empty() => f.write_str("reverted without data"),
            Self::Unknown(data) => write!(f, "unknown revert data {data}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;
    use leash_bindings::LeashAccount::UnauthorizedCaller;

    #[test]
    fn decodes_each_kind() {
        let message = Revert::from("nope").abi_encode();
        assert_eq!(
            RevertReason::decode(&message),
            RevertReason::Message("nope".into())
        );
        let panic = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        assert_eq!(RevertReason::decode(&panic).to_string(), "panic 0x11");
        let custom = UnauthorizedCaller {
            caller: Address::repeat_byte(7),
        }
        .abi_encode();
        assert!(
            RevertReason::decode(&custom)
                .to_string()
                .starts_with("UnauthorizedCaller")
        );
        assert_eq!(
            RevertReason::decode(&[]).to_string(),
            "reverted without data"
        );
    }
}
