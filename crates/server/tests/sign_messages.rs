//! Sessions signing as their account over the server (`wallet_prepareSign`, `wallet_formatSign`),
//! on the embedded chain: the key is asked to sign the nested digest as `wallet_prepareCalls`
//! asks a key of its type, the signature sent back is matched to the message it signs and
//! formatted as the account's ERC-1271 signature, which the account accepts by `eth_call` for a
//! login; a typed-data signature is void outside the session's own operation. Every refusal has
//! its code: no session named, an unknown one, a message the grant does not allow, typed data the
//! contracts could not read, nothing prepared, another key's signature or another type's.

mod support;

use alloy_primitives::{Address, B256, Bytes, FixedBytes, eip191_hash_message};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use leash_bindings::{Deployment, LeashAccount};
use leash_core::account_message::AccountMessage;
use p256::ecdsa::SigningKey;
use serde_json::{Value, json};
use support::{Harness, OWNER, cast_sign, p256_keys, session_key};

const LOGIN: &str = "leash.example wants you to sign in with your Ethereum account.\n\nNonce: 1";
const APP: Address = Address::repeat_byte(0xa9);
const MAGIC: FixedBytes<4> = FixedBytes([0x16, 0x26, 0xba, 0x7e]);
const REFUSED: FixedBytes<4> = FixedBytes([0xff; 4]);

/// `wallet_createSession` params of `key` (its `key` object) allowed 100 test tokens, personal
/// messages and [`APP`]'s typed data.
fn session_params(key: Value) -> Value {
    json!([{
        "chainId": "0x7a69",
        "expirySec": 4_102_444_800u64,
        "key": key,
        "permissions": [
            {
                "type": "erc20-token-transfer",
                "data": { "address": Deployment::test_token().address(), "allowance": "0x64" }
            },
            { "type": "personal-sign" },
            { "type": "typed-data-signing", "data": { "address": APP } },
        ],
        "account": OWNER,
    }])
}

/// A `Pull` of [`APP`]'s, as `eth_signTypedData_v4` takes it; `verifying_contract` names the app.
fn pull(verifying_contract: Option<Address>) -> Value {
    let mut domain = json!({ "name": "TypedDataApp", "version": "1", "chainId": 31337 });
    if let Some(address) = verifying_contract {
        domain["verifyingContract"] = json!(address);
    }
    json!({
        "types": { "Pull": [
            { "name": "token", "type": "address" },
            { "name": "amount", "type": "uint256" },
        ]},
        "primaryType": "Pull",
        "domain": domain,
        "message": { "token": Deployment::test_token().address(), "amount": "10" },
    })
}

/// `wallet_prepareSign` or `wallet_formatSign` params for [`OWNER`]'s session `permissions`:
/// `field` (`signatureRequest` or `signature`) is `value`.
fn params(permissions: &Value, field: &str, value: Value) -> Value {
    json!([{
        "from": OWNER, "chainId": "0x7a69", field: value,
        "capabilities": { "permissions": permissions },
    }])
}

fn personal(message: &str) -> Value {
    json!({ "type": "personal_sign", "data": message })
}

fn typed(data: Value) -> Value {
    json!({ "type": "eth_signTypedData_v4", "data": data })
}

/// The error of `response`: its JSON-RPC code, its leash code and its message.
fn error(response: &Value) -> (i64, u64, String) {
    let error = &response["error"];
    (
        error["code"].as_i64().unwrap_or_default(),
        error["data"]["leashCode"].as_u64().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// What the account's `isValidSignature(hash, signature)` answers, by `eth_call` through the
/// server (outside any operation).
async fn is_valid(harness: &Harness, hash: B256, signature: &Value) -> eyre::Result<FixedBytes<4>> {
    let signature: Bytes = serde_json::from_value(signature.clone())?;
    let call = LeashAccount::isValidSignatureCall { hash, signature };
    let request = json!({ "to": OWNER, "data": Bytes::from(call.abi_encode()) });
    let answer = harness
        .result("eth_call", json!([request, "latest"]))
        .await?;
    let bytes: Bytes = serde_json::from_value(answer)?;
    Ok(LeashAccount::isValidSignatureCall::abi_decode_returns(
        &bytes,
    )?)
}

/// The account signature `wallet_formatSign` answers for the key's `signature` under
/// `permissions` (failing on an error).
async fn format_sign(
    harness: &Harness,
    permissions: &Value,
    signature: Value,
) -> eyre::Result<Value> {
    let formatted = harness
        .result(
            "wallet_formatSign",
            params(permissions, "signature", signature),
        )
        .await?;
    Ok(formatted["signature"].clone())
}

/// The digest `wallet_prepareSign` asked the key of `prepared` to sign (`data.raw`).
fn digest(prepared: &Value) -> eyre::Result<B256> {
    Ok(serde_json::from_value(
        prepared["signatureRequest"]["data"]["raw"].clone(),
    )?)
}

/// A secp256k1 session of a fresh key allowed what [`session_params`] allows: its id, the
/// permissions that name it, and the key (as [`session_key`] gives it).
async fn secp256k1_session(
    harness: &Harness,
) -> eyre::Result<(Value, Value, (PrivateKeySigner, String))> {
    let key = session_key();
    let key_object = json!({ "type": "secp256k1", "publicKey": key.0.address() });
    let (id, permissions) = harness
        .signed_session_of(session_params(key_object))
        .await?;
    Ok((id, permissions, key))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secp256k1_session_signs_a_login_the_account_accepts() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (_, permissions, (_, key_hex)) = secp256k1_session(&harness).await?;
    // Its first operation enables the session, which a login's signature needs.
    let id = harness
        .send_session_transfer(&permissions, &key_hex, Address::repeat_byte(0x77), 1)
        .await?;
    eyre::ensure!(harness.final_status(&id).await?["status"] == 200);

    let prepared = harness
        .result(
            "wallet_prepareSign",
            params(&permissions, "signatureRequest", personal(LOGIN)),
        )
        .await?;
    let expected = AccountMessage::personal(LOGIN).digest(OWNER, 31337);
    assert_eq!(
        prepared,
        json!({
            "chainId": "0x7a69",
            "signatureRequest": {
                "type": "personal_sign",
                "data": { "raw": expected },
                "rawPayload": eip191_hash_message(expected),
            },
        })
    );
    // As a wallet signs personal_sign of the raw bytes, and signed raw: both are the key's.
    for raw in [false, true] {
        let signature = cast_sign(&key_hex, &prepared["signatureRequest"]["data"]["raw"], raw)?;
        let signature = json!({ "type": "secp256k1", "data": signature });
        let signature = &format_sign(&harness, &permissions, signature).await?;
        assert_eq!(
            is_valid(&harness, eip191_hash_message(LOGIN), signature).await?,
            MAGIC,
            "raw: {raw}"
        );
        assert_eq!(
            is_valid(&harness, eip191_hash_message("another"), signature).await?,
            REFUSED
        );
    }
    Ok(())
}

/// A P-256 session of `key` allowed what [`session_params`] allows, enabled by a first transfer
/// it signs: the permissions that name it.
async fn enabled_p256_session(harness: &Harness, key: &SigningKey) -> eyre::Result<Value> {
    let key_object = json!({ "type": "p256", "publicKey": p256_keys::sec1(key) });
    let (_, permissions) = harness
        .signed_session_of(session_params(key_object))
        .await?;
    let transfer = support::transfer_params(&permissions, Address::repeat_byte(0x77), 1);
    let prepared = harness.result("wallet_prepareCalls", transfer).await?;
    let hash: B256 = serde_json::from_value(prepared["details"]["data"]["hash"].clone())?;
    let request = json!([{
        "type": prepared["type"], "data": prepared["data"], "chainId": prepared["chainId"],
        "signature": p256_keys::signature(key, hash)?,
    }]);
    let sent = harness.result("wallet_sendPreparedCalls", request).await?;
    eyre::ensure!(harness.final_status(&sent["id"]).await?["status"] == 200);
    Ok(permissions)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_is_matched_to_the_message_it_signs() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let key = p256_keys::random();
    let permissions = enabled_p256_session(&harness, &key).await?;
    let logins = ["login one", "login two"];
    let mut digests = Vec::new();
    for login in logins {
        let prepared = harness
            .result(
                "wallet_prepareSign",
                params(&permissions, "signatureRequest", personal(login)),
            )
            .await?;
        let digest = digest(&prepared)?;
        assert_eq!(
            prepared["signatureRequest"],
            json!({ "type": "p256", "data": { "raw": digest }, "rawPayload": digest })
        );
        digests.push(digest);
    }
    // The older one is signed: it is the one formatted.
    let signature = p256_keys::signature(&key, digests[0])?;
    let signature = &format_sign(&harness, &permissions, signature).await?;
    assert_eq!(
        is_valid(&harness, eip191_hash_message(logins[0]), signature).await?,
        MAGIC
    );
    assert_eq!(
        is_valid(&harness, eip191_hash_message(logins[1]), signature).await?,
        REFUSED
    );

    // Typed data: the key signs TypedDataSign; outside the session's own operation, void.
    let prepared = harness
        .result(
            "wallet_prepareSign",
            params(&permissions, "signatureRequest", typed(pull(Some(APP)))),
        )
        .await?;
    let digest = digest(&prepared)?;
    let formatted =
        format_sign(&harness, &permissions, p256_keys::signature(&key, digest)?).await?;
    let signature: Bytes = serde_json::from_value(formatted.clone())?;
    assert_eq!(
        &signature[..20],
        Deployment::session_key_validator().address().as_slice()
    );
    assert_eq!(signature[20], 2 << 2, "a P-256 key's typed-data form");
    let message = AccountMessage::typed_data(&serde_json::from_value(pull(Some(APP)))?)?;
    assert_eq!(message.digest(OWNER, 31337), digest);
    assert_eq!(
        is_valid(&harness, message.hash(), &formatted).await?,
        REFUSED
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_has_its_code() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (id, permissions, (key, key_hex)) = secp256k1_session(&harness).await?;
    let prepare = |request: Value| params(&permissions, "signatureRequest", request);
    let secp256k1 = |signature: String| json!({ "type": "secp256k1", "data": signature });
    let any_hash = json!(B256::repeat_byte(1));

    // Nothing prepared yet.
    let signature = secp256k1(cast_sign(&key_hex, &any_hash, true)?);
    let response = harness
        .call(
            "wallet_formatSign",
            params(&permissions, "signature", signature.clone()),
        )
        .await?;
    let (code, leash_code, message) = error(&response);
    assert_eq!((code, leash_code), (-32000, 4014), "{response}");
    assert!(
        message.starts_with(&format!(
            "session {} of {OWNER} has no message waiting",
            id.as_str().unwrap_or_default()
        )),
        "{message}"
    );

    // No session named, and an unknown one.
    let mut no_session = prepare(personal(LOGIN));
    no_session[0]
        .as_object_mut()
        .map(|request| request.remove("capabilities"));
    let response = harness.call("wallet_prepareSign", no_session).await?;
    assert_eq!(error(&response).1, 4001, "{response}");
    assert_eq!(
        response["error"]["data"]["field"],
        "params[0].capabilities.permissions"
    );
    let unknown = json!({ "sessionId": format!("0x{}", "ab".repeat(16)) });
    let response = harness
        .call(
            "wallet_prepareSign",
            params(&unknown, "signatureRequest", personal(LOGIN)),
        )
        .await?;
    assert_eq!(error(&response).1, 1002, "{response}");

    // Another app's typed data, and typed data naming no app.
    let other_app = Address::repeat_byte(0xbb);
    let response = harness
        .call("wallet_prepareSign", prepare(typed(pull(Some(other_app)))))
        .await?;
    let (code, leash_code, message) = error(&response);
    assert_eq!((code, leash_code), (-32000, 1020), "{response}");
    assert!(
        message.ends_with(&format!(
            "its grant has no typed-data-signing permission for {other_app}"
        )),
        "{message}"
    );
    let response = harness
        .call("wallet_prepareSign", prepare(typed(pull(None))))
        .await?;
    assert_eq!(error(&response).1, 4001, "{response}");
    assert_eq!(
        response["error"]["data"]["field"],
        "params[0].signatureRequest.data"
    );

    // Prepared: another key's signature, and a signature of another type.
    let prepared = harness
        .result("wallet_prepareSign", prepare(personal(LOGIN)))
        .await?;
    let digest = digest(&prepared)?;
    let (_, stranger) = session_key();
    let signature = secp256k1(cast_sign(&stranger, &json!(digest), true)?);
    let response = harness
        .call(
            "wallet_formatSign",
            params(&permissions, "signature", signature),
        )
        .await?;
    let (code, leash_code, _) = error(&response);
    assert_eq!((code, leash_code), (-32000, 1022), "{response}");
    assert_eq!(
        response["error"]["data"]["expectedSigner"],
        json!(key.address())
    );
    let p256 = p256_keys::signature(&p256_keys::random(), digest)?;
    let response = harness
        .call("wallet_formatSign", params(&permissions, "signature", p256))
        .await?;
    assert_eq!(error(&response).1, 4001, "{response}");
    assert_eq!(
        response["error"]["message"],
        "invalid params: params[0].signature.type: the key that signs is of type secp256k1, the \
         signature of type p256"
    );
    // The session's own signature of it still formats (nothing was used up).
    let signature = secp256k1(cast_sign(&key_hex, &json!(digest), true)?);
    let formatted = format_sign(&harness, &permissions, signature).await?;
    assert!(formatted.is_string(), "{formatted}");
    Ok(())
}
