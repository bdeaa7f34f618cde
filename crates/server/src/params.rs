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
    let mut items = positional_list(params)?;
    let value = if index < items.len() {
        items.swap_remove(index)
    } else {
        Value::Null
    };
    parse(value, &format!("params[{index}]"))
}

/// Every positional parameter of `params` (none when it has none).
pub(crate) fn positional_list(params: &Params<'_>) -> Result<Vec<Value>, RpcError> {
    match value_of(params)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items),
        _ => Err(RpcError::invalid("params", "expected an array")),
    }
}

/// The by-name parameters of `params` as `T`; an array holding that object alone is read the
/// same way, as some clients send every method's parameters positionally.
pub(crate) fn by_name<T: DeserializeOwned>(params: &Params<'_>) -> Result<T, RpcError> {
    match value_of(params)? {
        Value::Array(mut items) if items.len() == 1 => parse(items.swap_remove(0), "params[0]"),
        value => parse(value, "params"),
    }
}

/// `params` as JSON: `null` when absent.
fn value_of(params: &Params<'_>) -> Result<Value, RpcError> {
    match params.as_str() {
        None => Ok(Value::Null),
        Some(text) => serde_json::from_str(text)
            .map_err(|error| RpcError::invalid("params", error.to_string())),
    }
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
