//! A method's positional parameter parsed into its request type, with the malformed field named.

use crate::error::RpcError;
use jsonrpsee::types::Params;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The `index`th positional parameter of `params` as `T`; `required` ones must be present.
pub(crate) fn positional<T: DeserializeOwned>(
    params: &Params<'_>,
    index: usize,
) -> Result<T, RpcError> {
    let field = format!("params[{index}]");
    let value = match params.as_str() {
        None => Value::Null,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(mut items)) if index < items.len() => items.swap_remove(index),
            Ok(Value::Array(_)) => Value::Null,
            Ok(_) => return Err(RpcError::invalid("params", "expected an array")),
            Err(error) => return Err(RpcError::invalid("params", error.to_string())),
        },
    };
    parse(value, &field)
}

/// `value` as `T`, the malformed field named under `field`.
pub(crate) fn parse<T: DeserializeOwned>(value: Value, field: &str) -> Result<T, RpcError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." {
            field.to_owned()
        } else {
            format!("{field}.{path}")
        };
        RpcError::invalid(field, error.into_inner().to_string())
    })
}
