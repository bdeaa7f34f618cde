//! What a UserOperation moved in ERC-20s, from its logs.

use alloy_primitives::{Address, Log, U256};
use alloy_sol_types::SolEvent;
use leash_bindings::IERC20;
use serde::{Deserialize, Serialize};

/// An ERC-20 `Transfer` a UserOperation emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTransfer {
    /// The token.
    pub token: Address,
    /// The sender.
    pub from: Address,
    /// The receiver.
    pub to: Address,
    /// The amount, in base units.
    pub value: U256,
}

/// The ERC-20 transfers among `logs` (those that decode as `Transfer(address,address,uint256)`).
pub fn token_transfers<'a>(logs: impl IntoIterator<Item = &'a Log>) -> Vec<TokenTransfer> {
    logs.into_iter()
        .filter_map(|log| {
            let transfer = IERC20::Transfer::decode_log(log).ok()?;
            Some(TokenTransfer {
                token: log.address,
                from: transfer.from,
                to: transfer.to,
                value: transfer.value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{B256, Bytes, LogData, address};

    const ACCOUNT: Address = address!("0x00000000000000000000000000000000000000aa");
    const KEY: Address = address!("0x00000000000000000000000000000000000000bb");
    const TOKEN: Address = address!("0x00000000000000000000000000000000000000cc");

    #[test]
    fn finds_erc20_transfers_in_logs() {
        let event = IERC20::Transfer {
            from: ACCOUNT,
            to: KEY,
            value: U256::from(3),
        };
        let transfer = Log {
            address: TOKEN,
            data: event.encode_log_data(),
        };
        let other = Log {
            address: TOKEN,
            data: LogData::new_unchecked(vec![B256::ZERO], Bytes::new()),
        };
        assert_eq!(
            token_transfers([&other, &transfer]),
            vec![TokenTransfer {
                token: TOKEN,
                from: ACCOUNT,
                to: KEY,
                value: U256::from(3)
            }]
        );
    }
}
