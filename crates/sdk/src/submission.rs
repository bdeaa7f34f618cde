//! After a UserOperation is prepared: handing it to another tool in the bundler's JSON shape, and
//! waiting, for a bounded time, until whoever sent it gets it included.

use alloy_primitives::{Address, B256};
use leash_core::{
    prepare::PreparedOperation,
    rpc_types::{RpcUserOperation, UserOperationConversionError, UserOperationReceipt},
    sender::{SenderError, UserOperationSender},
};
use serde::{Deserialize, Serialize};
use std::{
    future::Future,
    time::{Duration, Instant},
};

/// A signed UserOperation as any ERC-4337 v0.8 bundler takes it: the unpacked operation (with
/// its `eip7702Auth` when it carries one) and the EntryPoint, which are the two parameters of
/// `eth_sendUserOperation`, with the chain and the operation's hash for reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOperationSubmission {
    /// The chain the operation is signed for.
    pub chain_id: u64,
    /// The EntryPoint v0.8 it is signed for: the second parameter of `eth_sendUserOperation`.
    pub entry_point: Address,
    /// Its hash (`EntryPoint.getUserOpHash`), which `eth_getUserOperationReceipt` takes.
    pub user_op_hash: B256,
    /// The operation in the bundler's JSON shape: the first parameter of `eth_sendUserOperation`.
    pub user_operation: RpcUserOperation,
}

impl UserOperationSubmission {
    /// `prepared`, signed for `entry_point` on `chain_id`, in the bundler's shape.
    pub fn new(
        prepared: &PreparedOperation,
        entry_point: Address,
        chain_id: u64,
    ) -> Result<Self, UserOperationConversionError> {
        Ok(Self {
            chain_id,
            entry_point,
            user_op_hash: prepared.user_op_hash,
            user_operation: RpcUserOperation::try_from(&prepared.op)?,
        })
    }

    /// The `eth_sendUserOperation` JSON-RPC request that submits it.
    pub fn send_request(&self, id: u64) -> serde_json::Value {
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "eth_sendUserOperation",
            "params": [self.user_operation, self.entry_point],
        })
    }
}

/// How long to wait for a sent UserOperation's receipt, and how often to ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptWait {
    /// Give up after this long.
    pub timeout: Duration,
    /// Time between two `eth_getUserOperationReceipt` calls.
    pub interval: Duration,
}

impl Default for ReceiptWait {
    /// 60 s, asking every 500 ms: bundlers include within a few blocks or not at all.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            interval: Duration::from_millis(500),
        }
    }
}

/// Why no receipt came.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptWaitError {
    /// Asking for the receipt failed.
    #[error(transparent)]
    Sender(#[from] SenderError),
    /// The operation was not included in time (it may still be, later).
    #[error(
        "UserOperation {user_op_hash} was sent but not included within {}s; it may still be \
         (ask the bundler: eth_getUserOperationReceipt)",
        waited.as_secs()
    )]
    TimedOut {
        /// The operation.
        user_op_hash: B256,
        /// How long it was waited for.
        waited: Duration,
    },
}

/// Asks `sender` for `user_op_hash`'s receipt until there is one or `wait.timeout` has passed,
/// sleeping `wait.interval` between calls with `sleep` (the caller's runtime timer, such as
/// `tokio::time::sleep`). `pending` is told how long it has waited each time the operation is not
/// included yet, for progress reports. A sender that includes before it returns from `send`
/// (such as [`crate::transport::DirectSender`]) answers the first call. A sender that cannot be
/// reached for a while counts as not having the receipt yet: the operation may be included
/// meanwhile, and the wait ends at `wait.timeout` all the same.
pub async fn wait_for_receipt<S, F, Fut>(
    sender: &S,
    user_op_hash: B256,
    wait: ReceiptWait,
    mut sleep: F,
    mut pending: impl FnMut(Duration),
) -> Result<UserOperationReceipt, ReceiptWaitError>
where
    S: UserOperationSender,
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let start = Instant::now();
    loop {
        match sender.receipt(user_op_hash).await {
            Ok(Some(receipt)) => return Ok(receipt),
            Ok(None) => {}
            Err(error) if error.is_unreachable() => {}
            Err(error) => return Err(error.into()),
        }
        let waited = start.elapsed();
        if waited >= wait.timeout {
            return Err(ReceiptWaitError::TimedOut {
                user_op_hash,
                waited,
            });
        }
        pending(waited);
        sleep(wait.interval.min(wait.timeout - waited)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, address};
    use leash_bindings::PackedUserOperation;
    use leash_core::{rpc_types::UserOperationGasEstimate, sender::SignedUserOperation};
    use std::{
        cell::Cell,
        sync::atomic::{AtomicU32, Ordering},
    };

    /// A sender whose operations are never included.
    struct NeverIncluded {
        asked: AtomicU32,
    }

    impl UserOperationSender for NeverIncluded {
        fn entry_point(&self) -> Address {
            Address::ZERO
        }
        async fn chain_id(&self) -> Result<u64, SenderError> {
            Ok(1)
        }
        async fn nonce(&self, _: Address, _: U256) -> Result<U256, SenderError> {
            Ok(U256::ZERO)
        }
        async fn estimate(
            &self,
            _: &SignedUserOperation,
        ) -> Result<UserOperationGasEstimate, SenderError> {
            unreachable!("not estimated")
        }
        async fn send(&self, _: &SignedUserOperation) -> Result<B256, SenderError> {
            unreachable!("not sent")
        }
        async fn receipt(&self, _: B256) -> Result<Option<UserOperationReceipt>, SenderError> {
            self.asked.fetch_add(1, Ordering::Relaxed);
            Ok(None)
        }
    }

    #[tokio::test]
    async fn waiting_is_bounded() {
        let sender = NeverIncluded {
            asked: AtomicU32::new(0),
        };
        let wait = ReceiptWait {
            timeout: Duration::from_millis(30),
            interval: Duration::from_millis(10),
        };
        let sleeps = Cell::new(0);
        let pending = Cell::new(0);
        let result = wait_for_receipt(
            &sender,
            B256::repeat_byte(7),
            wait,
            |interval| {
                sleeps.set(sleeps.get() + 1);
                std::thread::sleep(interval);
                std::future::ready(())
            },
            |_| pending.set(pending.get() + 1),
        )
        .await;
        let Err(ReceiptWaitError::TimedOut {
            user_op_hash,
            waited,
        }) = result
        else {
            panic!("expected a timeout, got {result:?}");
        };
        assert_eq!(user_op_hash, B256::repeat_byte(7));
        assert!(waited >= wait.timeout);
        assert!((2..=4).contains(&sleeps.get()), "{}", sleeps.get());
        assert_eq!(pending.get(), sleeps.get());
        assert_eq!(sender.asked.load(Ordering::Relaxed), sleeps.get() + 1);
    }

    #[tokio::test]
    async fn a_bundler_that_cannot_be_reached_is_waited_for_until_the_timeout() {
        let down = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let url = format!("http://{down}").parse().expect("a URL");
        let bundler = crate::transport::BundlerClient::new(
            crate::connect::reader(&url),
            crate::connect::reader(&url),
        );
        let wait = ReceiptWait {
            timeout: Duration::from_millis(300),
            interval: Duration::from_millis(50),
        };
        let result = wait_for_receipt(
            &bundler,
            B256::repeat_byte(7),
            wait,
            tokio::time::sleep,
            |_| {},
        )
        .await;
        assert!(
            matches!(result, Err(ReceiptWaitError::TimedOut { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn submissions_are_the_send_parameters() -> serde_json::Result<()> {
        let prepared = PreparedOperation {
            op: SignedUserOperation::new(PackedUserOperation {
                sender: address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
                ..Default::default()
            }),
            user_op_hash: B256::repeat_byte(1),
        };
        let entry_point = address!("0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108");
        let submission =
            UserOperationSubmission::new(&prepared, entry_point, 31337).expect("converts");
        let json = serde_json::to_value(&submission)?;
        assert_eq!(json["chainId"], 31337);
        assert_eq!(
            json["entryPoint"],
            "0x4337084d9e255ff0702461cf8895ce9e3b5ff108"
        );
        assert_eq!(
            json["userOperation"]["sender"],
            "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
        );
        let request = submission.send_request(1);
        assert_eq!(request["method"], "eth_sendUserOperation");
        assert_eq!(request["params"][0], json["userOperation"]);
        assert_eq!(request["params"][1], json["entryPoint"]);
        assert_eq!(
            serde_json::from_value::<UserOperationSubmission>(json)?,
            submission
        );
        Ok(())
    }
}
