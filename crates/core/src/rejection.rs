//! The EntryPoint's validation failures (`FailedOp`, `FailedOpWithRevert`) and their `AAxx` codes.

use alloy_primitives::Bytes;
use alloy_sol_types::SolInterface;
use leash_bindings::EntryPoint::EntryPointErrors;
use std::fmt;

/// An ERC-4337 validation error code: `AA` and two digits. The first digit names the culprit
/// (1 factory, 2 account, 3 paymaster, 9 bundle), the second the failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AaCode(pub u8);

impl AaCode {
    /// `AA21 didn't pay prefund`: the account's deposit and balance cannot cover the maximum cost.
    pub const PREFUND_NOT_PAID: Self = Self(21);
    /// `AA22 expired or not due`: outside the signature's validity window.
    pub const EXPIRED_OR_NOT_DUE: Self = Self(22);
    /// `AA23 reverted`: the account's `validateUserOp` reverted.
    pub const ACCOUNT_REVERTED: Self = Self(23);
    /// `AA24 signature error`: the account returned `SIG_VALIDATION_FAILED`.
    pub const SIGNATURE_ERROR: Self = Self(24);
    /// `AA25 invalid account nonce`.
    pub const INVALID_NONCE: Self = Self(25);

    /// The code at the start of an EntryPoint reason such as `AA24 signature error`, or anywhere
    /// in a bundler's message that quotes one.
    pub fn find(text: &str) -> Option<Self> {
        text.as_bytes().windows(4).find_map(|w| match w {
            [b'A', b'A', tens @ b'0'..=b'9', units @ b'0'..=b'9'] => {
                Some(Self((tens - b'0') * 10 + (units - b'0')))
            }
            _ => None,
        })
    }
}

impl fmt::Display for AaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AA{:02}", self.0)
    }
}

/// The EntryPoint refused a UserOperation in validation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("UserOperation {op_index} rejected: {reason}")]
pub struct EntryPointRejection {
    /// Index of the operation in its bundle.
    pub op_index: usize,
    /// The code, such as [`AaCode::SIGNATURE_ERROR`].
    pub code: AaCode,
    /// The full reason, such as `AA24 signature error`.
    pub reason: String,
    /// The account's or paymaster's own revert data, for `FailedOpWithRevert`.
    pub inner: Option<Bytes>,
}

impl EntryPointRejection {
    /// Decodes `FailedOp` or `FailedOpWithRevert` revert data; `None` for any other data, or for a
    /// reason without an `AAxx` code.
    pub fn from_revert_data(data: &[u8]) -> Option<Self> {
        let (op_index, reason, inner) = match EntryPointErrors::abi_decode(data).ok()? {
            EntryPointErrors::FailedOp(e) => (e.opIndex, e.reason, None),
            EntryPointErrors::FailedOpWithRevert(e) => (e.opIndex, e.reason, Some(e.inner)),
            _ => return None,
        };
        Some(Self {
            op_index: op_index.saturating_to(),
            code: AaCode::find(&reason)?,
            reason,
            inner,
        })
    }

    /// A rejection reported by a bundler: it names the code in its message but not the index.
    pub fn from_bundler_message(message: &str, inner: Option<Bytes>) -> Option<Self> {
        Some(Self {
            op_index: 0,
            code: AaCode::find(message)?,
            reason: message.to_owned(),
            inner,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use alloy_sol_types::SolError;
    use leash_bindings::EntryPoint::{FailedOp, FailedOpWithRevert};

    #[test]
    fn decodes_failed_op_codes() {
        let data = FailedOp {
            opIndex: U256::from(2),
            reason: "AA24 signature error".into(),
        }
        .abi_encode();
        let rejection = EntryPointRejection::from_revert_data(&data).expect("FailedOp");
        assert_eq!(rejection.op_index, 2);
        assert_eq!(rejection.code, AaCode::SIGNATURE_ERROR);
        assert_eq!(rejection.code.to_string(), "AA24");
        assert_eq!(rejection.inner, None);
    }

    #[test]
    fn keeps_the_inner_revert() {
        let data = FailedOpWithRevert {
            opIndex: U256::ZERO,
            reason: "AA23 reverted".into(),
            inner: Bytes::from_static(&[0xde, 0xad]),
        }
        .abi_encode();
        let rejection = EntryPointRejection::from_revert_data(&data).expect("FailedOpWithRevert");
        assert_eq!(rejection.code, AaCode::ACCOUNT_REVERTED);
        assert_eq!(rejection.inner, Some(Bytes::from_static(&[0xde, 0xad])));
    }

    #[test]
    fn other_data_is_not_a_rejection() {
        assert_eq!(EntryPointRejection::from_revert_data(&[]), None);
        assert_eq!(EntryPointRejection::from_revert_data(&[0; 4]), None);
    }

    #[test]
    fn finds_codes_in_bundler_messages() {
        assert_eq!(
            AaCode::find(
                "UserOperation reverted during simulation with reason: AA25 invalid account nonce"
            ),
            Some(AaCode::INVALID_NONCE)
        );
        assert_eq!(AaCode::find("AAx4 AA"), None);
        assert_eq!(AaCode(3).to_string(), "AA03");
    }
}
