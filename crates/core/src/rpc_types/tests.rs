use super::*;
use crate::{eip7702::EIP7702_INIT_CODE_MARKER, user_operation::GasSettings};
use alloy_primitives::{address, bytes};
use serde_json::json;

fn operation(init_code: Bytes, paymaster_and_data: Bytes) -> PackedUserOperation {
    let gas = GasSettings {
        verification_gas_limit: 0x30000,
        call_gas_limit: 0x20000,
        pre_verification_gas: 0xc350,
        max_fee_per_gas: 0x77359400,
        max_priority_fee_per_gas: 0x3b9aca00,
    };
    PackedUserOperation {
        sender: address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        nonce: U256::from(5),
        initCode: init_code,
        callData: bytes!("0xe9ae5c53"),
        accountGasLimits: gas.account_gas_limits(),
        preVerificationGas: U256::from(gas.pre_verification_gas),
        gasFees: gas.gas_fees(),
        paymasterAndData: paymaster_and_data,
        signature: bytes!("0x1234"),
    }
}

fn authorization() -> SignedAuthorization {
    serde_json::from_value(json!({
        "chainId": "0x7a69",
        "address": "0x1111111111111111111111111111111111111111",
        "nonce": "0x3",
        "yParity": "0x1",
        "r": "0x2",
        "s": "0x3"
    }))
    .expect("authorization JSON")
}

#[test]
fn eip7702_operation_has_the_v08_json_shape() {
    let signed = SignedUserOperation {
        operation: operation(
            Bytes::copy_from_slice(&EIP7702_INIT_CODE_MARKER),
            Bytes::new(),
        ),
        authorization: Some(authorization()),
    };
    let rpc = RpcUserOperation::try_from(&signed).expect("converts");
    let value = serde_json::to_value(&rpc).expect("serializes");
    assert_eq!(
        serde_json::from_value::<RpcUserOperation>(value.clone()).expect("parses"),
        rpc
    );
    assert_eq!(
        value,
        json!({
            "sender": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "nonce": "0x5",
            "factory": "0x7702",
            "factoryData": "0x",
            "callData": "0xe9ae5c53",
            "callGasLimit": "0x20000",
            "verificationGasLimit": "0x30000",
            "preVerificationGas": "0xc350",
            "maxFeePerGas": "0x77359400",
            "maxPriorityFeePerGas": "0x3b9aca00",
            "signature": "0x1234",
            "eip7702Auth": {
                "chainId": "0x7a69",
                "address": "0x1111111111111111111111111111111111111111",
                "nonce": "0x3",
                "yParity": "0x1",
                "r": "0x2",
                "s": "0x3"
            }
        })
    );
    assert_eq!(SignedUserOperation::try_from(rpc), Ok(signed));
}

#[test]
fn plain_operation_omits_optional_fields() {
    let signed = SignedUserOperation::new(operation(Bytes::new(), Bytes::new()));
    let value = serde_json::to_value(RpcUserOperation::try_from(&signed).expect("converts"))
        .expect("serializes");
    let fields: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "callData",
            "callGasLimit",
            "maxFeePerGas",
            "maxPriorityFeePerGas",
            "nonce",
            "preVerificationGas",
            "sender",
            "signature",
            "verificationGasLimit"
        ]
    );
}

#[test]
fn factory_and_paymaster_split_and_rejoin() {
    let factory = address!("0x9406Cc6185a346906296840746125a0E44976454");
    let paymaster = address!("0x00000000000000fB866DaAA79352cC568a005D96");
    let init_code: Bytes = [factory.as_slice(), &[0xab, 0xcd]].concat().into();
    let paymaster_and_data: Bytes = [
        paymaster.as_slice(),
        &7u128.to_be_bytes(),
        &9u128.to_be_bytes(),
        &[0xee],
    ]
    .concat()
    .into();
    let signed = SignedUserOperation::new(operation(init_code, paymaster_and_data));
    let rpc = RpcUserOperation::try_from(&signed).expect("converts");
    assert_eq!(rpc.factory, Some(factory));
    assert_eq!(rpc.factory_data, Some(bytes!("0xabcd")));
    assert_eq!(rpc.paymaster, Some(paymaster));
    assert_eq!(rpc.paymaster_verification_gas_limit, Some(U256::from(7)));
    assert_eq!(rpc.paymaster_post_op_gas_limit, Some(U256::from(9)));
    assert_eq!(rpc.paymaster_data, Some(bytes!("0xee")));
    assert_eq!(SignedUserOperation::try_from(rpc), Ok(signed));
}

#[test]
fn reads_a_bundler_operation_without_optional_fields() {
    let rpc: RpcUserOperation = serde_json::from_value(json!({
        "sender": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "nonce": "0x0",
        "callData": "0x",
        "callGasLimit": "0x1",
        "verificationGasLimit": "0x2",
        "preVerificationGas": "0x3",
        "maxFeePerGas": "0x4",
        "maxPriorityFeePerGas": "0x5",
        "signature": "0x"
    }))
    .expect("parses");
    let signed = SignedUserOperation::try_from(rpc).expect("converts");
    let op = signed.operation;
    assert!(op.initCode.is_empty() && op.paymasterAndData.is_empty());
    assert_eq!(
        op.accountGasLimits,
        B256::from((U256::from(2) << 128) | U256::from(1))
    );
    assert_eq!(
        op.gasFees,
        B256::from((U256::from(5) << 128) | U256::from(4))
    );
    assert_eq!(signed.authorization, None);
}

#[test]
fn malformed_operations_are_refused() {
    let short_init = SignedUserOperation::new(operation(bytes!("0x7702"), Bytes::new()));
    assert_eq!(
        RpcUserOperation::try_from(&short_init),
        Err(UserOperationConversionError::InitCodeTooShort(2))
    );
    let short_paymaster =
        SignedUserOperation::new(operation(Bytes::new(), Bytes::from(vec![1; 40])));
    assert_eq!(
        RpcUserOperation::try_from(&short_paymaster),
        Err(UserOperationConversionError::PaymasterAndDataTooShort(40))
    );
    let plain = SignedUserOperation::new(operation(Bytes::new(), Bytes::new()));
    let mut rpc = RpcUserOperation::try_from(&plain).expect("converts");
    rpc.call_gas_limit = U256::from(u128::MAX) + U256::from(1);
    assert_eq!(
        SignedUserOperation::try_from(rpc.clone()),
        Err(UserOperationConversionError::GasFieldTooLarge(
            "callGasLimit"
        ))
    );
    rpc.call_gas_limit = U256::ZERO;
    rpc.paymaster_data = Some(bytes!("0x01"));
    assert_eq!(
        SignedUserOperation::try_from(rpc),
        Err(UserOperationConversionError::PaymasterFieldsWithoutPaymaster)
    );
}

#[test]
fn reads_estimates_and_receipts_as_bundlers_send_them() {
    let estimate: UserOperationGasEstimate = serde_json::from_value(json!({
        "preVerificationGas": "0xb1a8",
        "verificationGasLimit": "0x1a0f5",
        "callGasLimit": "0x3a98",
        "paymasterVerificationGasLimit": null
    }))
    .expect("estimate");
    assert_eq!(estimate.verification_gas_limit, U256::from(0x1a0f5));
    assert_eq!(estimate.paymaster_verification_gas_limit, None);

    let receipt: UserOperationReceipt = serde_json::from_value(json!({
        "userOpHash": "0x1111111111111111111111111111111111111111111111111111111111111111",
        "entryPoint": "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108",
        "sender": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "nonce": "0x0",
        "paymaster": "0x0000000000000000000000000000000000000000",
        "actualGasCost": "0x1e8480",
        "actualGasUsed": "0xf4240",
        "success": true,
        "reason": "0x",
        "logs": [],
        "receipt": {
            "transactionHash": "0x2222222222222222222222222222222222222222222222222222222222222222",
            "transactionIndex": "0x0",
            "blockHash": "0x3333333333333333333333333333333333333333333333333333333333333333",
            "blockNumber": "0x5",
            "from": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "to": "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108",
            "cumulativeGasUsed": "0x1",
            "gasUsed": "0x1",
            "contractAddress": null,
            "logs": [],
            "logsBloom": format!("0x{}", "0".repeat(512)),
            "status": "0x1",
            "effectiveGasPrice": "0x1",
            "type": "0x4"
        }
    }))
    .expect("receipt");
    assert!(receipt.success);
    assert_eq!(receipt.actual_gas_used, U256::from(1_000_000));
    assert_eq!(receipt.receipt.block_number, Some(5));
}
