//! A signature as Wallet API clients send it: `{type: "secp256k1" | "ecdsa", data}` with `data`
//! as 65 bytes `r ‖ s ‖ v` (v 27/28 or 0/1), `{r, s, yParity}` or `{r, s, v}`.

use crate::error::RpcError;
use alloy_primitives::{Bytes, Signature, U64, U256};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct WireSignature {
    #[serde(rename = "type")]
    _kind: SignatureType,
    data: SignatureData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SignatureType {
    Secp256k1,
    Ecdsa,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SignatureData {
    Packed(Bytes),
    Parts(SignatureParts),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureParts {
    r: U256,
    s: U256,
    #[serde(default)]
    y_parity: Option<U64>,
    #[serde(default)]
    v: Option<U64>,
}

impl WireSignature {
    /// The signature; `field` names it in errors.
    pub(crate) fn signature(&self, field: &str) -> Result<Signature, RpcError> {
        let data_field = format!("{field}.data");
        match &self.data {
            SignatureData::Packed(bytes) => Signature::try_from(bytes.as_ref())
                .map_err(|error| RpcError::invalid(data_field, error.to_string())),
            SignatureData::Parts(parts) => {
                let parity = match (parts.y_parity, parts.v) {
                    (Some(y_parity), _) => y_parity.to::<u64>(),
                    (None, Some(v)) => v.to::<u64>().checked_sub(27).unwrap_or(v.to()),
                    (None, None) => {
                        return Err(RpcError::invalid(data_field, "yParity or v is required"));
                    }
                };
                match parity {
                    0 | 1 => Ok(Signature::new(parts.r, parts.s, parity == 1)),
                    _ => Err(RpcError::invalid(
                        data_field,
                        "parity must be 0 or 1 (v 27 or 28)",
                    )),
                }
            }
        }
    }
}
