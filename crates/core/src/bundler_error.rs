//! A bundler's JSON-RPC errors: the EntryPoint's `AAxx` rejection and the account's revert data,
//! wherever the bundler put them (alto quotes the revert at the end of the message with no
//! `data`, rundler puts an object in `data`, others a hex string).

use crate::{rejection::EntryPointRejection, sender::SenderError};
use alloy_primitives::Bytes;
use alloy_transport::TransportError;

impl SenderError {
    /// Reads a bundler's JSON-RPC error: a message quoting an `AAxx` code (ERC-7769 code -32500 and
    /// its kin) becomes a typed [`EntryPointRejection`], with the account's revert data wherever the
    /// bundler put it: a hex string or an object field in `data`, or quoted at the end of the message.
    pub fn from_bundler(error: TransportError) -> Self {
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
    use crate::rejection::AaCode;
    use alloy_json_rpc::{ErrorPayload, RpcError};
    use serde_json::value::RawValue;

    fn error_response(code: i64, message: &str, data: Option<&str>) -> TransportError {
        RpcError::ErrorResp(ErrorPayload {
            code,
            message: message.to_owned().into(),
            data: data.map(|d| RawValue::from_string(d.to_owned()).expect("JSON")),
        })
    }

    #[test]
    fn validation_errors_keep_their_aa_code() {
        let error = SenderError::from_bundler(error_response(
            -32500,
            "UserOperation reverted during simulation with reason: AA24 signature error",
            None,
        ));
        let SenderError::Rejected(rejection) = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(rejection.code, AaCode::SIGNATURE_ERROR);

        let error = SenderError::from_bundler(error_response(
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
        let error = SenderError::from_bundler(error_response(
            -32500,
            "UserOperation reverted with reason: AA23 reverted 0x0f54f6790000000000000000000000000000000000000000000000000000000000000001",
            None,
        ));
        let SenderError::Rejected(rejection) = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(rejection.code, AaCode::ACCOUNT_REVERTED);
        let inner = rejection.inner.expect("revert data");
        assert_eq!(inner.len(), 36);
        assert_eq!(&inner[..4], &[0x0f, 0x54, 0xf6, 0x79]);
    }

    #[test]
    fn revert_data_in_an_error_object_is_kept() {
        // rundler-style: an object holding the revert data.
        let error = SenderError::from_bundler(error_response(
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
            let error = SenderError::from_bundler(error_response(
                -32507,
                "AA24 signature error",
                Some(data),
            ));
            let SenderError::Rejected(rejection) = error else {
                panic!("expected a rejection, got {error:?}");
            };
            assert_eq!(rejection.code, AaCode::SIGNATURE_ERROR);
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
        let error = SenderError::from_bundler(error_response(
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
