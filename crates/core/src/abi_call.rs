//! Calls written the way people write them: `transfer(address,uint256)` with its arguments as
//! text, selectors as signatures or hex, and amounts with units (`1.5ether`), turned into the
//! bytes a [`Call`] carries.

use crate::calls::Call;
use alloy_dyn_abi::{DynSolType, JsonAbiExt};
use alloy_json_abi::Function;
use alloy_primitives::{
    Address, Bytes, Selector, U256,
    hex::{self, FromHex},
    utils::{ParseUnits, Unit, parse_units},
};
use serde::{Deserialize, Serialize};

/// Why text could not be read as a selector, calldata, call or amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AbiCallError {
    /// Neither a 4-byte hex selector nor a function signature.
    #[error(
        "{input:?} is neither a selector (0x and 8 hex digits) nor a function signature \
         such as transfer(address,uint256)"
    )]
    BadSelector {
        /// The text.
        input: String,
    },
    /// The function signature does not parse.
    #[error(
        "{signature:?} is not a function signature such as transfer(address,uint256): {reason}"
    )]
    BadSignature {
        /// The signature.
        signature: String,
        /// What the parser said.
        reason: String,
    },
    /// The number of arguments does not match the signature.
    #[error("{signature} takes {expected} argument(s), {given} given")]
    ArgumentCount {
        /// The signature.
        signature: String,
        /// Its parameter count.
        expected: usize,
        /// The arguments given.
        given: usize,
    },
    /// An argument does not parse as its parameter's type.
    #[error("argument {index} of {signature}: {value:?} is not a valid {ty}")]
    BadArgument {
        /// The signature.
        signature: String,
        /// The argument's position, from 1.
        index: usize,
        /// The argument.
        value: String,
        /// Its Solidity type.
        ty: String,
    },
    /// Hex data that does not decode.
    #[error("{input:?} is not hex data (0x…)")]
    BadHex {
        /// The text.
        input: String,
    },
    /// An amount that does not parse.
    #[error(
        "{input:?} is not an amount: use an integer in base units (wei, token units) or a \
         decimal with a unit such as 1.5ether, 20gwei"
    )]
    BadAmount {
        /// The text.
        input: String,
    },
    /// A negative amount.
    #[error("{input:?} is negative; amounts are never negative")]
    NegativeAmount {
        /// The text.
        input: String,
    },
    /// A call spec with both raw data and a signature.
    #[error("call to {to}: give either data or sig (with args), not both")]
    DataAndSignature {
        /// The call's target.
        to: Address,
    },
    /// A call spec with arguments but no signature.
    #[error("call to {to}: args without a sig")]
    ArgsWithoutSignature {
        /// The call's target.
        to: Address,
    },
}

/// A selector from `0xa9059cbb` or from a signature such as `transfer(address,uint256)` (whose
/// keccak-256 it is). Whitespace and parameter names in the signature are tolerated.
pub fn parse_selector(input: &str) -> Result<Selector, AbiCallError> {
    let input = input.trim();
    if input.starts_with("0x") || input.starts_with("0X") {
        return Selector::from_hex(input).map_err(|_| AbiCallError::BadSelector {
            input: input.to_owned(),
        });
    }
    if !input.contains('(') {
        return Err(AbiCallError::BadSelector {
            input: input.to_owned(),
        });
    }
    Ok(parse_function(input)?.selector())
}

/// Selectors from a comma-separated list of signatures and hex selectors. Commas inside a
/// signature's parentheses belong to the signature: `transfer(address,uint256),0x12345678` is two.
pub fn parse_selector_list(input: &str) -> Result<Vec<Selector>, AbiCallError> {
    split_top_level(input, ',')
        .into_iter()
        .map(parse_selector)
        .collect()
}

/// Splits `input` at `separator`s outside parentheses.
pub fn split_top_level(input: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c == separator && depth == 0 => {
                parts.push(&input[start..index]);
                start = index + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

/// The calldata of `signature` called with `args`, each parsed as its parameter's type the way
/// `cast calldata` reads them (`0x…` addresses and bytes, decimal or hex integers, `true`, `[1,2]`,
/// `(a,b)` tuples).
pub fn encode_function_call(signature: &str, args: &[String]) -> Result<Bytes, AbiCallError> {
    let function = parse_function(signature)?;
    let signature = function.signature();
    if function.inputs.len() != args.len() {
        return Err(AbiCallError::ArgumentCount {
            signature,
            expected: function.inputs.len(),
            given: args.len(),
        });
    }
    let mut values = Vec::with_capacity(args.len());
    for (index, (param, arg)) in function.inputs.iter().zip(args).enumerate() {
        let bad_argument = || AbiCallError::BadArgument {
            signature: signature.clone(),
            index: index + 1,
            value: arg.clone(),
            ty: param.selector_type().into_owned(),
        };
        let ty = DynSolType::parse(&param.selector_type()).map_err(|_| bad_argument())?;
        values.push(ty.coerce_str(arg).map_err(|_| bad_argument())?);
    }
    function
        .abi_encode_input(&values)
        .map(Bytes::from)
        .map_err(|e| AbiCallError::BadSignature {
            signature: signature.clone(),
            reason: e.to_string(),
        })
}

fn parse_function(signature: &str) -> Result<Function, AbiCallError> {
    let trimmed = signature.trim();
    let with_keyword = if trimmed.starts_with("function ") {
        trimmed.to_owned()
    } else {
        format!("function {trimmed}")
    };
    let bad_signature = |reason: String| AbiCallError::BadSignature {
        signature: trimmed.to_owned(),
        reason,
    };
    let function = Function::parse(&with_keyword).map_err(|e| bad_signature(e.to_string()))?;
    // The signature parser takes any identifier as a type (a struct name, say); only ABI types
    // make a selector that some contract actually has.
    for param in &function.inputs {
        DynSolType::parse(&param.selector_type())
            .map_err(|_| bad_signature(format!("{} is not an ABI type", param.selector_type())))?;
    }
    Ok(function)
}

/// Hex data such as `0x`, `0xa9059cbb…` (the `0x` is optional).
pub fn parse_hex_data(input: &str) -> Result<Bytes, AbiCallError> {
    hex::decode(input.trim())
        .map(Bytes::from)
        .map_err(|_| AbiCallError::BadHex {
            input: input.to_owned(),
        })
}

/// An amount: an integer in base units (`1000000`, `0x10`), or a decimal with a unit (`1.5ether`,
/// `20gwei`, `3wei`; `eth` for `ether`). Token amounts with units assume 18 decimals.
pub fn parse_amount(input: &str) -> Result<U256, AbiCallError> {
    let text = input.trim();
    let bad = || AbiCallError::BadAmount {
        input: input.to_owned(),
    };
    if text.starts_with('-') {
        return Err(AbiCallError::NegativeAmount {
            input: input.to_owned(),
        });
    }
    if let Some(hex_digits) = text.strip_prefix("0x") {
        return U256::from_str_radix(hex_digits, 16).map_err(|_| bad());
    }
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number = number.trim();
    if number.is_empty() {
        return Err(bad());
    }
    let unit = match unit.to_ascii_lowercase().as_str() {
        "" => return number.parse::<U256>().map_err(|_| bad()),
        "eth" | "ether" => Unit::ETHER,
        "gwei" => Unit::GWEI,
        "wei" => Unit::WEI,
        _ => return Err(bad()),
    };
    match parse_units(number, unit.get()).map_err(|_| bad())? {
        ParseUnits::U256(value) => Ok(value),
        ParseUnits::I256(_) => Err(AbiCallError::NegativeAmount {
            input: input.to_owned(),
        }),
    }
}

/// One call as JSON, for batches in a file: `{"to": "0x…", "value": "1.5ether", "data": "0x…"}`
/// or `{"to": "0x…", "sig": "transfer(address,uint256)", "args": ["0x…", "5"]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    /// The called address.
    pub to: Address,
    /// Native value, as [`parse_amount`] reads it; none for zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Raw calldata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// A function signature, encoded with `args`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    /// The function's arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

impl CallSpec {
    /// The call this spec describes.
    pub fn to_call(&self) -> Result<Call, AbiCallError> {
        let value = match &self.value {
            Some(value) => parse_amount(value)?,
            None => U256::ZERO,
        };
        let data = match (&self.data, &self.sig) {
            (Some(_), Some(_)) => return Err(AbiCallError::DataAndSignature { to: self.to }),
            (_, None) if !self.args.is_empty() => {
                return Err(AbiCallError::ArgsWithoutSignature { to: self.to });
            }
            (Some(data), None) => parse_hex_data(data)?,
            (None, Some(sig)) => encode_function_call(sig, &self.args)?,
            (None, None) => Bytes::new(),
        };
        Ok(Call {
            to: self.to,
            value,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, fixed_bytes};
    use alloy_sol_types::SolCall;
    use leash_bindings::IERC20;

    const TO: Address = address!("0x000000000000000000000000000000000000bEEF");

    #[test]
    fn selectors_from_signatures_and_hex() {
        let transfer = fixed_bytes!("0xa9059cbb");
        assert_eq!(parse_selector("transfer(address,uint256)"), Ok(transfer));
        assert_eq!(
            parse_selector(" transfer(address to, uint256 amount) "),
            Ok(transfer)
        );
        assert_eq!(parse_selector("0xa9059cbb"), Ok(transfer));
        for bad in ["a9059cbb", "0xa9059c", "transfer", "transfer(uint7)", ""] {
            assert!(parse_selector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selector_lists_keep_signature_commas() {
        assert_eq!(
            parse_selector_list("transfer(address,uint256),0x12345678"),
            Ok(vec![fixed_bytes!("0xa9059cbb"), fixed_bytes!("0x12345678")])
        );
        assert_eq!(split_top_level("a:f(b,c):d", ':'), vec!["a", "f(b,c)", "d"]);
    }

    #[test]
    fn calldata_matches_the_bindings() {
        let data = encode_function_call(
            "transfer(address,uint256)",
            &[TO.to_string(), "1000".into()],
        );
        let expected = IERC20::transferCall {
            to: TO,
            amount: U256::from(1000),
        }
        .abi_encode();
        assert_eq!(data, Ok(expected.into()));
    }

    #[test]
    fn calldata_errors_name_the_argument() {
        let sig = "transfer(address,uint256)";
        assert_eq!(
            encode_function_call(sig, &["0x01".into()]),
            Err(AbiCallError::ArgumentCount {
                signature: sig.into(),
                expected: 2,
                given: 1
            })
        );
        let error =
            encode_function_call(sig, &[TO.to_string(), "lots".into()]).expect_err("not a number");
        assert_eq!(
            error.to_string(),
            "argument 2 of transfer(address,uint256): \"lots\" is not a valid uint256"
        );
    }

    #[test]
    fn amounts_with_and_without_units() {
        assert_eq!(parse_amount("1000"), Ok(U256::from(1000)));
        assert_eq!(parse_amount("0x10"), Ok(U256::from(16)));
        assert_eq!(
            parse_amount("1.5ether"),
            Ok(U256::from(1_500_000_000_000_000_000u128))
        );
        assert_eq!(parse_amount("2 gwei"), parse_amount("2gwei"));
        assert_eq!(parse_amount("20gwei"), Ok(U256::from(20_000_000_000u64)));
        assert_eq!(parse_amount("7wei"), Ok(U256::from(7)));
        for bad in ["", "ether", "1.5", "1btc", "x", "1.2.3ether"] {
            assert!(
                matches!(parse_amount(bad), Err(AbiCallError::BadAmount { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_amount("-1"),
            Err(AbiCallError::NegativeAmount { .. })
        ));
    }

    #[test]
    fn call_specs_from_json() -> Result<(), serde_json::Error> {
        let specs: Vec<CallSpec> = serde_json::from_str(&format!(
            r#"[{{"to": "{TO}", "value": "1wei"}},
                {{"to": "{TO}", "sig": "transfer(address,uint256)", "args": ["{TO}", "5"]}},
                {{"to": "{TO}", "data": "0x12345678"}}]"#
        ))?;
        let calls: Vec<Call> = specs
            .iter()
            .map(CallSpec::to_call)
            .collect::<Result<_, _>>()
            .expect("valid specs");
        assert_eq!(calls[0], Call::transfer(TO, U256::from(1)));
        assert_eq!(&calls[1].data[..4], fixed_bytes!("0xa9059cbb").as_slice());
        assert_eq!(calls[2].data, Bytes::from_static(&[0x12, 0x34, 0x56, 0x78]));
        let both = CallSpec {
            to: TO,
            data: Some("0x".into()),
            sig: Some("f()".into()),
            ..Default::default()
        };
        assert_eq!(
            both.to_call(),
            Err(AbiCallError::DataAndSignature { to: TO })
        );
        let args_only = CallSpec {
            to: TO,
            args: vec!["1".into()],
            ..Default::default()
        };
        assert_eq!(
            args_only.to_call(),
            Err(AbiCallError::ArgsWithoutSignature { to: TO })
        );
        let data_with_args = CallSpec {
            data: Some("0x".into()),
            ..args_only
        };
        assert_eq!(
            data_with_args.to_call(),
            Err(AbiCallError::ArgsWithoutSignature { to: TO })
        );
        assert!(serde_json::from_str::<CallSpec>(r#"{"to": "0x01"}"#).is_err());
        Ok(())
    }
}
