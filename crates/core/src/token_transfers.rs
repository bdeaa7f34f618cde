//! What a UserOperation moved: the native value its calls sent and the ERC-20 transfers it
//! emitted. One implementation for an included operation (its receipt's logs) and a simulated
//! one (the simulator's logs), so a dry run and a real send report under the same names.

use crate::calls::Call;
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

/// Native value one call of the operation sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeTransfer {
    /// The called address.
    pub to: Address,
    /// The value, in wei.
    pub value: U256,
}

/// What an operation's calls moved. An operation whose calls reverted moved nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Movements {
    /// The native value of each call that sent some.
    pub native_transfers: Vec<NativeTransfer>,
    /// The ERC-20 transfers among the logs.
    pub token_transfers: Vec<TokenTransfer>,
}

impl Movements {
    /// What `calls` moved, executed with `logs` (the receipt's or the simulator's).
    pub fn executed<'a>(calls: &[Call], logs: impl IntoIterator<Item = &'a Log>) -> Self {
        Self {
            native_transfers: calls
                .iter()
                .filter(|call| !call.value.is_zero())
                .map(|call| NativeTransfer {
                    to: call.to,
                    value: call.value,
                })
                .collect(),
            token_transfers: token_transfers(logs),
        }
    }
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

    #[test]
    fn an_executed_operation_moved_its_calls_value_and_its_transfers() {
        let event = IERC20::Transfer {
            from: ACCOUNT,
            to: KEY,
            value: U256::from(3),
        };
        let log = Log {
            address: TOKEN,
            data: event.encode_log_data(),
        };
        let calls = [
            Call::transfer(KEY, U256::from(5)),
            Call {
                to: TOKEN,
                value: U256::ZERO,
                data: Bytes::new(),
            },
        ];
        let moved = Movements::executed(&calls, [&log]);
        assert_eq!(
            moved.native_transfers,
            vec![NativeTransfer {
                to: KEY,
                value: U256::from(5)
            }]
        );
        assert_eq!(moved.token_transfers.len(), 1);
        let json = serde_json::to_value(&moved).expect("JSON");
        assert_eq!(json["nativeTransfers"][0]["value"], "0x5");
        assert_eq!(json["tokenTransfers"][0]["value"], "0x3");
        assert_eq!(Movements::executed(&[], []), Movements::default());
    }
}
