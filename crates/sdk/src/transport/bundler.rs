//! The standard ERC-4337 bundler JSON-RPC (ERC-7769), for any hosted or self-run bundler.

use crate::{
    RpcUserOperation, SignedUserOperation, UserOperationGasEstimate, UserOperationReceipt,
    entry_point_nonce,
    transport::{EntryPointRejection, SenderError},
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::{Provider, transport::TransportError};
use leash_bindings::Deployment;

/// A client of a bundler's `eth_sendUserOperation`, `eth_estimateUserOperationGas`,
/// `eth_getUserOperationReceipt` and `eth_supportedEntryPoints`.
///
/// The bundler API has no state reads, so nonces come from `node`, a provider of the same chain;
/// pass the same provider twice when one endpoint serves both (many hosted bundlers do).
#[derive(Clone, Debug)]
pub struct BundlerClient<B, N> {
    bundler: B,
    node: N,
    entry_point: Address,
}

impl<B: Provider, N: Provider> BundlerClient<B, N> {
    /// A client of `bundler` for the canonical EntryPoint v0.8, reading state from `node`.
    pub fn new(bundler: B, node: N) -> Self {
        Self {
            bundler,
            node,
            entry_point: Deployment::entry_point().address(),
        }
    }

    /// Uses another EntryPoint v0.8 deployment.
    pub fn with_entry_point(mut self, entry_point: Address) -> Self {
        self.entry_point = entry_point;
        self
    }

    /// The EntryPoints the bundler serves (`eth_supportedEntryPoints`).
    pub async fn supported_entry_points(&self) -> Result<Vec<Address>, SenderError> {
        self.bundler
            // No parameters: an empty array (bundlers refuse `null`).
            .raw_request("eth_supportedEntryPoints".into(), [(); 0])
            .await
            .map_err(bundler_error)
    }

    /// The JSON-RPC parameters of `eth_sendUserOperation` and `eth_estimateUserOperationGas`:
    /// the unpacked operation and the EntryPoint.
    fn params(&self, op: &SignedUserOperation) -> Result<(RpcUserOperation, Address), SenderError> {
        Ok((RpcUserOperation::try_from(op)?, self.entry_point))
    }
}

impl<B: Provider, N: Provider> crate::UserOperationSender for BundlerClient<B, N> {
    fn entry_point(&self) -> Address {
        self.entry_point
    }

    async fn chain_id(&self) -> Result<u64, SenderError> {
        self.bundler.get_chain_id().await.map_err(bundler_error)
    }

    async fn nonce(&self, sender: Address, key: U256) -> Result<U256, SenderError> {
        entry_point_nonce(&self.node, self.entry_point, sender, key).await
    }

    async fn estimate(
        &self,
        op: &SignedUserOperation,
    ) -> Result<UserOperationGasEstimate, SenderError> {
        self.bundler
            .raw_request("eth_estimateUserOperationGas".into(), self.params(op)?)
            .await
            .map_err(bundler_error)
    }

    async fn send(&self, op: &SignedUserOperation) -> Result<B256, SenderError> {
        self.bundler
            .raw_request("eth_sendUserOperation".into(), self.params(op)?)
            .await
            .map_err(bundler_error)
    }

    async fn receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, SenderError> {
        self.bundler
            .raw_request("eth_getUserOperationReceipt".into(), (user_op_hash,))
            .await
            .map_err(bundler_error)
    }
}

/// Reads a bundler's JSON-RPC error: a message quoting an `AAxx` code (ERC-7769 code -32500 and
/// its kin) becomes a typed [`EntryPointRejection`], with the account's revert data wherever the
/// bundler put it (see [`revert_data`]).
fn bundler_error(error: TransportError) -> SenderError {
    let Some(payload) = error.as_error_resp() else {
        return SenderError::Transport(error);
    };
    let data = payload.data.as_ref().map(|data| data.get().to_owned());
    let revert_data = payload
        .as_revert_data()
        .or_else(|| data.as_deref().and_then(revert_data_in_json))
        .or_else(|| revert_data_in_text(&payload.message));
    match EntryPointRejection::from_bundler_message(&payload.message, revert_data) {
        Some(rejection) => SenderError::Rejected(rejection),
        None => SenderError::Bundler {
            code: payload.code,
            message: payload.message.to_string(),
            data,
        },
    }
}

/// Revert data in an error's `data`, in the shapes bundlers use: a hex string (Skandha, Voltaire),
/// or an object holding one under `revertData` (rundler), `revert_data` or `data`.
fn revert_data_in_json(data: &str) -> Option<Bytes> {
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    let hex = match &value {
        serde_json::Value::String(hex) => hex,
        serde_json::Value::Object(fields) => ["revertData", "revert_data", "data"]
            .iter()
            .find_map(|key| fields.get(*key)?.as_str())?,
        _ => return None,
    };
    hex.parse().ok()
}

/// Revert data quoted at the end of an error message, as alto reports it with no `data` field:
/// `UserOperation reverted with reason: AA23 reverted 0x0f54f679…`. At least a selector.
fn revert_data_in_text(message: &str) -> Option<Bytes> {
    let start = message.rfind("0x")?;
    let hex = message[start + 2..]
        .split(|c: char| !c.is_ascii_hexdigit())
        .next()?;
    if hex.len() < 8 || hex.len() % 2 != 0 {
        return None;
    }
    alloy_primitives::hex::decode(hex).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;
    use alloy_provider::{ProviderBuilder, transport::RpcError};
    use leash_bindings::PackedUserOperation;
    use serde_json::{json, value::RawValue};

    fn error_response(code: i64, message: &str, data: Option<&str>) -> TransportError {
        RpcError::ErrorResp(alloy_json_rpc::ErrorPayload {
            code,
            message: message.to_owned().into(),
            data: data.map(|d| RawValue::from_string(d.to_owned()).expect("JSON")),
        })
    }

    #[test]
    fn requests_carry_the_operation_then_the_entry_point() {
        let node = ProviderBuilder::new().connect_http("http://127.0.0.1:1".parse().expect("url"));
        let client = BundlerClient::new(node.clone(), node);
        let op = SignedUserOperation::new(PackedUserOperation {
            sender: address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            ..Default::default()
        });
        let params = serde_json::to_value(client.params(&op).expect("converts")).expect("JSON");
        assert_eq!(
            params[1],
            json!("0x4337084d9e255ff0702461cf8895ce9e3b5ff108")
        );
        assert_eq!(
            params[0]["sender"],
            json!("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")
        );
        assert_eq!(params.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn validation_errors_keep_their_aa_code() {
        let error = bundler_error(error_response(
            -32500,
            "UserOperation reverted during simulation with reason: AA24 signature error",
            None,
        ));
        let SenderError::Rejected(rejection) = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(rejection.code, crate::AaCode::SIGNATURE_ERROR);

        let error = bundler_error(error_response(
            -32500,
            "AA23 reverted",
            Some(r#""0x08c379a0""#),
        ));
        let SenderError::Rejected(rejection) = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(
            rejection.inner,
            Some(Bytes::from_static(&[0x08, 0xc3, 0x79, 0xa0]))
        );
    }

    #[test]
    fn revert_data_quoted_in_the_message_is_kept() {
        // alto 0.0.20: the account's revert follows the reason, and there is no data field.
        let error = bundler_error(error_response(
            -32500,
            "UserOperation reverted with reason: AA23 reverted 0x0f54f6790000000000000000000000000000000000000000000000000000000000000001",
            None,
        ));
        let SenderError::Rejected(rejection) = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(rejection.code, crate::AaCode::ACCOUNT_REVERTED);
        let inner = rejection.inner.expect("revert data");
        assert_eq!(inner.len(), 36);
        assert_eq!(&inner[..4], &[0x0f, 0x54, 0xf6, 0x79]);
    }

    #[test]
    fn revert_data_in_an_error_object_is_kept() {
        // rundler-style: an object holding the revert data.
        let error = bundler_error(error_response(
            -32500,
            "validation reverted: AA23 reverted",
            Some(r#"{"reason":"AA23 reverted","revertData":"0xdeadbeef"}"#),
        ));
        let SenderError::Rejected(rejection) = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(
            rejection.inner,
            Some(Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]))
        );
    }

    #[test]
    fn revert_data_in_json_reads_each_bundler_shape() {
        let selector = Some(Bytes::from_static(&[0x0f, 0x54, 0xf6, 0x79]));
        assert_eq!(revert_data_in_json(r#""0x0f54f679""#), selector);
        for key in ["revertData", "revert_data", "data"] {
            let object = format!(r#"{{"reason":"AA33","{key}":"0x0f54f679"}}"#);
            assert_eq!(revert_data_in_json(&object), selector, "{object}");
        }
        assert_eq!(revert_data_in_json(r#"{"revertData":42}"#), None);
        assert_eq!(revert_data_in_json(r#""not hex""#), None);
    }

    #[test]
    fn revert_data_is_kept_when_the_message_does_not_say_revert() {
        // alloy's own `as_revert_data` only looks when the message contains "revert".
        for data in [r#""0xdeadbeef""#, r#"{"revertData":"0xdeadbeef"}"#] {
            let error = bundler_error(error_response(-32507, "AA24 signature error", Some(data)));
            let SenderError::Rejected(rejection) = error else {
                panic!("expected a rejection, got {error:?}");
            };
            assert_eq!(rejection.code, crate::AaCode::SIGNATURE_ERROR);
            assert_eq!(
                rejection.inner,
                Some(Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef])),
                "{data}"
            );
        }
    }

    #[test]
    fn text_without_revert_data_yields_none() {
        assert_eq!(revert_data_in_text("AA24 signature error"), None);
        assert_eq!(revert_data_in_text("AA23 reverted 0x"), None);
        assert_eq!(revert_data_in_text("AA23 reverted 0xabc"), None);
        // At least a selector (8 hex digits), and whole bytes.
        assert_eq!(revert_data_in_text("AA23 reverted 0x0f54f67"), None);
        assert_eq!(revert_data_in_text("AA23 reverted 0x0f54f6790"), None);
        assert_eq!(
            revert_data_in_text("AA23 reverted 0x0f54f679"),
            Some(Bytes::from_static(&[0x0f, 0x54, 0xf6, 0x79]))
        );
        assert_eq!(revert_data_in_json("42"), None);
        assert_eq!(revert_data_in_json(r#"{"other":"0x00"}"#), None);
    }

    #[test]
    fn other_errors_keep_code_message_and_data() {
        let error = bundler_error(error_response(
            -32602,
            "invalid params",
            Some(r#"{"field":"nonce"}"#),
        ));
        let SenderError::Bundler {
            code,
            message,
            data,
        } = error
        else {
            panic!("expected a bundler error, got {error:?}");
        };
        assert_eq!((code, message.as_str()), (-32602, "invalid params"));
        assert_eq!(data.as_deref(), Some(r#"{"field":"nonce"}"#));
    }
}
