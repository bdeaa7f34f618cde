//! Session keys that are not secp256k1 EOAs over the server (issue 15), on the embedded chain:
//! a raw P-256 key, a WebAuthn passkey and an ERC-1271 contract each create a session, are asked
//! for what their type signs, and send transfers that land. A signature by another key, of
//! another type, or (a passkey's) over another challenge is refused before it is sent; keys that
//! could never sign are refused at creation, and a P-256 key cannot send its own revocation.

mod support;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use leash_core::{
    session_signer::P256PublicKey,
    webauthn::{RpId, WebAuthnAssertion},
};
use p256::ecdsa::{Signature, SigningKey, signature::Signer, signature::hazmat::PrehashSigner};
use serde_json::{Value, json};
use support::{
    Harness, OWNER, create_session_params,
    p256_keys::{self, sec1},
    session_key, smart_owner, transfer_call, transfer_params,
};

const RECIPIENT: Address = Address::repeat_byte(0x77);
const RP_ID: &str = "wallet.example";

/// The JSON-RPC error of `response`: code, message and data.
fn error(response: &Value) -> (i64, String, Value) {
    let error = &response["error"];
    (
        error["code"].as_i64().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default().to_owned(),
        error["data"].clone(),
    )
}

/// The `wallet_createSession` params of a session of `key` (its `key` object) allowed 100 test
/// tokens.
fn session_params(key: Value) -> Value {
    let mut params = create_session_params(Address::ZERO, 100);
    params[0]["key"] = key;
    params
}

/// A session of `key`, its grant signed by the owner: its `sessionKey` (the signer id, as
/// `leash_getSession` reads it) and the `permissions` that name it. `leash_getSession` also says
/// how the key signs, under the name `key.type` gave.
async fn signed_session(harness: &Harness, key: Value) -> eyre::Result<(Value, Value)> {
    let (id, permissions) = harness
        .signed_session_of(session_params(key.clone()))
        .await?;
    let session = harness
        .result("leash_getSession", json!([{ "sessionId": id }]))
        .await?;
    let stored_type = match key["type"].as_str() {
        Some("webauthn-p256") => "webauthn",
        other => other.unwrap_or_default(),
    };
    assert_eq!(session["keyType"]["type"], stored_type, "{session}");
    Ok((session["sessionKey"].clone(), permissions))
}

/// A transfer of `amount` test tokens to [`RECIPIENT`] under `permissions`, prepared, and the
/// hash its `signatureRequest` asks to sign.
async fn prepare(
    harness: &Harness,
    permissions: &Value,
    amount: u64,
) -> eyre::Result<(Value, B256)> {
    let prepared = harness
        .result(
            "wallet_prepareCalls",
            transfer_params(permissions, RECIPIENT, amount),
        )
        .await?;
    let hash = serde_json::from_value(prepared["details"]["data"]["hash"].clone())?;
    Ok((prepared, hash))
}

/// The response to `prepared` sent with `signature` (`{type, data}`).
async fn send(harness: &Harness, prepared: &Value, signature: Value) -> eyre::Result<Value> {
    let request = json!([{
        "type": prepared["type"], "data": prepared["data"], "chainId": prepared["chainId"],
        "signature": signature,
    }]);
    harness.call("wallet_sendPreparedCalls", request).await
}

/// `prepared` sent with `signature`, followed to its final status, which must be 200.
async fn send_included(harness: &Harness, prepared: &Value, signature: Value) -> eyre::Result<()> {
    let sent = send(harness, prepared, signature).await?;
    eyre::ensure!(sent.get("error").is_none(), "{sent}");
    let status = harness.final_status(&sent["result"]["id"]).await?;
    eyre::ensure!(status["status"] == 200, "{status}");
    Ok(())
}

/// `key`'s signer id for a raw P-256 session (`keccak256(x ‖ y)[12:]`) and for a passkey of
/// [`RP_ID`].
fn signer_ids(key: &SigningKey) -> eyre::Result<(Address, Address)> {
    let point = sec1(key);
    let public = P256PublicKey {
        x: B256::from_slice(&point[1..33]),
        y: B256::from_slice(&point[33..]),
    };
    let rp_id = RpId::new(RP_ID)?;
    Ok((public.signer_id(), public.webauthn_signer_id(rp_id.hash())))
}

/// The assertion a browser's authenticator holding `key` returns for [`RP_ID`] over
/// `challenge`, signed in DER, as a `webauthn-p256` signature.
fn assertion(key: &SigningKey, challenge: B256) -> eyre::Result<Value> {
    let assertion = WebAuthnAssertion::standard(&RpId::new(RP_ID)?, challenge, 1);
    let signature: Signature = key.sign(&assertion.signed_message());
    Ok(json!({ "type": "webauthn-p256", "data": {
        "authenticatorData": assertion.authenticator_data(),
        "clientDataJSON": assertion.client_data_json(),
        "signature": Bytes::from(signature.to_der().as_bytes().to_vec()),
    }}))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_p256_key_signs_the_hash_as_its_digest() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let key = p256_keys::random();
    let key_object = json!({ "type": "p256", "publicKey": sec1(&key) });
    let (session_key, permissions) = signed_session(&harness, key_object).await?;
    assert_eq!(session_key, json!(signer_ids(&key)?.0));

    let (prepared, hash) = prepare(&harness, &permissions, 40).await?;
    assert_eq!(
        prepared["signatureRequest"],
        json!({ "type": "p256", "data": { "raw": hash }, "rawPayload": hash })
    );
    send_included(&harness, &prepared, p256_keys::signature(&key, hash)?).await?;

    // Enabled now; a DER signature (WebCrypto's, a secure element's) is taken as well.
    let (prepared, hash) = prepare(&harness, &permissions, 60).await?;
    let der: Signature = key.sign_prehash(hash.as_slice())?;
    let signature =
        json!({ "type": "p256", "data": Bytes::from(der.to_der().as_bytes().to_vec()) });
    send_included(&harness, &prepared, signature).await?;
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(100));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_signs_webauthn_assertions_of_the_hash() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let key = p256_keys::random();
    // x ‖ y, without SEC1's 0x04.
    let point = Bytes::from(sec1(&key)[1..].to_vec());
    let key_object = json!({ "type": "webauthn-p256", "publicKey": point, "rpId": RP_ID });
    let (session_key, permissions) = signed_session(&harness, key_object).await?;
    assert_eq!(session_key, json!(signer_ids(&key)?.1));

    let (prepared, hash) = prepare(&harness, &permissions, 40).await?;
    assert_eq!(
        prepared["signatureRequest"],
        json!({
            "type": "webauthn-p256",
            "data": { "challenge": hash, "rpId": RP_ID },
            "rawPayload": hash,
        })
    );
    send_included(&harness, &prepared, assertion(&key, hash)?).await?;

    // The client data as hex of its bytes, the signature as r ‖ s.
    let (prepared, hash) = prepare(&harness, &permissions, 60).await?;
    let mut signature = assertion(&key, hash)?;
    let data = &mut signature["data"];
    let text = data["clientDataJSON"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    data["clientDataJSON"] = json!(Bytes::from(text.into_bytes()));
    let der: Bytes = serde_json::from_value(data["signature"].clone())?;
    data["signature"] = json!(Bytes::from(Signature::from_der(&der)?.to_bytes().to_vec()));
    send_included(&harness, &prepared, signature).await?;
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(100));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_signs_as_its_is_valid_signature_accepts() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (owner, _) = session_key();
    let contract = smart_owner::deploy(&harness, owner.address())?;
    let key_object = json!({ "type": "contract", "publicKey": contract });
    let (session_key, permissions) = signed_session(&harness, key_object).await?;
    assert_eq!(session_key, json!(contract));

    let (prepared, hash) = prepare(&harness, &permissions, 40).await?;
    assert_eq!(
        prepared["signatureRequest"],
        json!({ "type": "contract", "data": { "raw": hash }, "rawPayload": hash })
    );
    send_included(&harness, &prepared, smart_owner::signature(&owner, hash)?).await?;
    let (prepared, hash) = prepare(&harness, &permissions, 60).await?;
    send_included(&harness, &prepared, smart_owner::signature(&owner, hash)?).await?;
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(100));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_by_another_key_is_refused_before_it_is_sent() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let (key, stranger) = (p256_keys::random(), p256_keys::random());
    let (owner, _) = session_key();
    let (not_owner, _) = session_key();
    let contract = smart_owner::deploy(&harness, owner.address())?;
    type Sign<'a> = Box<dyn Fn(B256) -> eyre::Result<Value> + 'a>;
    let cases: [(Value, &str, Sign<'_>, Sign<'_>); 3] = [
        (
            json!({ "type": "p256", "publicKey": sec1(&key) }),
            "P-256 (precompile)",
            Box::new(|hash| p256_keys::signature(&stranger, hash)),
            Box::new(|hash| p256_keys::signature(&key, hash)),
        ),
        (
            json!({ "type": "webauthn-p256", "publicKey": sec1(&key), "rpId": RP_ID }),
            "WebAuthn (precompile)",
            Box::new(|hash| assertion(&stranger, hash)),
            Box::new(|hash| assertion(&key, hash)),
        ),
        (
            json!({ "type": "contract", "publicKey": contract }),
            "contract",
            Box::new(|hash| smart_owner::signature(&not_owner, hash)),
            Box::new(|hash| smart_owner::signature(&owner, hash)),
        ),
    ];
    for (key_object, kind, by_another, by_the_key) in cases {
        let (session_key, permissions) = signed_session(&harness, key_object).await?;
        let (prepared, hash) = prepare(&harness, &permissions, 10).await?;
        let (code, message, data) = error(&send(&harness, &prepared, by_another(hash)?).await?);
        assert_eq!(
            (
                code,
                data["leashCode"].clone(),
                data["expectedSigner"].clone()
            ),
            (-32000, json!(1018), session_key.clone()),
            "{kind}: {message}"
        );
        let signer: Address = serde_json::from_value(session_key)?;
        assert_eq!(
            message,
            format!(
                "the {kind} signature of UserOperation {hash} is not by the session's signer \
                 {signer}"
            )
        );
        // Nothing was acknowledged: the operation is still there to sign.
        send_included(&harness, &prepared, by_the_key(hash)?).await?;
    }
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::from(30));
    Ok(())
}

/// Runtime code that answers every call with ERC-1271's magic value after a loop of 8,192 turns
/// (about 213,000 gas): a contract signer that accepts anything, given more gas than validation
/// gives it (`SessionSigners.SIGNER_GAS`, 100,000).
const GREEDY_SIGNER_CODE: &str = "0x620020005b600190038060045750631626ba7e60e01b60005260206000f3";

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_signer_needing_more_gas_than_validation_gives_is_refused() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let greedy = Address::repeat_byte(0x9e);
    let code: Bytes = GREEDY_SIGNER_CODE.parse()?;
    harness
        .chain()?
        .with_chain(|chain| chain.set_code(greedy, code))?;
    let key_object = json!({ "type": "contract", "publicKey": greedy });
    let (session_key, permissions) = signed_session(&harness, key_object).await?;
    let (prepared, hash) = prepare(&harness, &permissions, 10).await?;
    let anything = json!({ "type": "contract", "data": "0x01" });
    let (code, message, data) = error(&send(&harness, &prepared, anything).await?);
    assert_eq!(
        (
            code,
            data["leashCode"].clone(),
            data["expectedSigner"].clone()
        ),
        (-32000, json!(1018), session_key),
        "{message}"
    );
    assert_eq!(
        message,
        format!(
            "the contract signature of UserOperation {hash} is not by the session's signer {greedy}"
        )
    );
    assert_eq!(harness.token_balance(RECIPIENT).await?, U256::ZERO);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_of_another_type_is_refused_naming_both() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let key = p256_keys::random();
    let key_object = json!({ "type": "p256", "publicKey": sec1(&key) });
    let (_, p256_permissions) = signed_session(&harness, key_object).await?;
    let (secp256k1_key, _) = session_key();
    let (_, secp256k1_permissions) = harness.signed_session(secp256k1_key.address(), 100).await?;

    let (prepared, hash) = prepare(&harness, &p256_permissions, 10).await?;
    let ecdsa = secp256k1_key.sign_hash_sync(&hash)?;
    let wrong = json!({ "type": "ecdsa", "data": Bytes::from(ecdsa.as_bytes()) });
    let (code, message, data) = error(&send(&harness, &prepared, wrong).await?);
    assert_eq!(
        (code, data["field"].clone()),
        (-32602, json!("params[0].signature.type"))
    );
    assert_eq!(
        message,
        "invalid params: params[0].signature.type: the key that signs is of type p256, the \
         signature of type ecdsa"
    );

    let (prepared, hash) = prepare(&harness, &secp256k1_permissions, 10).await?;
    let (_, message, _) =
        error(&send(&harness, &prepared, p256_keys::signature(&key, hash)?).await?);
    assert_eq!(
        message,
        "invalid params: params[0].signature.type: the key that signs is of type secp256k1, the \
         signature of type p256"
    );
    // The owner's own calls are signed by its secp256k1 key too.
    let owner_call = harness
        .result(
            "wallet_prepareCalls",
            json!([{ "calls": [transfer_call(RECIPIENT, 1)], "from": OWNER, "chainId": "0x7a69" }]),
        )
        .await?;
    let hash: B256 = serde_json::from_value(owner_call["details"]["data"]["hash"].clone())?;
    let (code, message, _) = error(&send(&harness, &owner_call, assertion(&key, hash)?).await?);
    assert_eq!(code, -32602, "{message}");
    assert!(
        message.ends_with("of type secp256k1, the signature of type webauthn-p256"),
        "{message}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkeys_assertion_of_another_challenge_is_refused_before_submission() -> eyre::Result<()>
{
    let harness = Harness::start().await?;
    let key = p256_keys::random();
    let key_object = json!({ "type": "webauthn-p256", "publicKey": sec1(&key), "rpId": RP_ID });
    let (_, permissions) = signed_session(&harness, key_object).await?;
    let (prepared, hash) = prepare(&harness, &permissions, 10).await?;

    let other = B256::repeat_byte(0x0c);
    let (code, message, data) = error(&send(&harness, &prepared, assertion(&key, other)?).await?);
    assert_eq!((code, data["leashCode"].clone()), (-32000, json!(1019)));
    assert_eq!(
        message,
        format!(
            "the WebAuthn assertion's challenge is not UserOperation {hash}'s \
             (\"challenge\":\"{}\" first in its client data)",
            leash_core::webauthn::challenge(hash)
        )
    );
    // Never acknowledged: its calls id is unknown.
    let id = format!("0x{:064x}{}", 31337, &hash.to_string()[2..]);
    let (code, _, _) = error(&harness.call("wallet_getCallsStatus", json!([id])).await?);
    assert_eq!(code, 5730);

    // An assertion the validator would refuse whatever it signs is malformed.
    let mut absent = assertion(&key, hash)?;
    let data: Bytes = serde_json::from_value(absent["data"]["authenticatorData"].clone())?;
    let mut data = data.to_vec();
    data[32] = 0x04;
    absent["data"]["authenticatorData"] = json!(Bytes::from(data));
    let (code, message, data) = error(&send(&harness, &prepared, absent).await?);
    assert_eq!(
        (code, data["field"].clone()),
        (-32602, json!("params[0].signature.data"))
    );
    assert!(message.ends_with("lack user presence (0x01)"), "{message}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_p256_key_cannot_revoke_its_session_by_a_transaction_but_a_contract_can()
-> eyre::Result<()> {
    let harness = Harness::start().await?;
    let key_object = json!({ "type": "p256", "publicKey": sec1(&p256_keys::random()) });
    let created = harness
        .result("wallet_createSession", session_params(key_object))
        .await?;
    let revoke =
        |created: &Value| json!([{ "sessionId": created["sessionId"], "bySessionKey": true }]);
    let response = harness
        .call("leash_prepareRevoke", revoke(&created))
        .await?;
    let (code, message, data) = error(&response);
    assert_eq!((code, data["leashCode"].clone()), (-32000, json!(1016)));
    // The session's whole id is the grant's digest, which the owner signs.
    let session_id = created["signatureRequest"]["rawPayload"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        message,
        format!(
            "session {session_id} has a P-256 (precompile) signer: it has no address to send a \
             transaction from; the owner revokes the session"
        )
    );

    let contract = smart_owner::deploy(&harness, session_key().0.address())?;
    let key_object = json!({ "type": "contract", "publicKey": contract });
    let created = harness
        .result("wallet_createSession", session_params(key_object))
        .await?;
    let answer = harness
        .result("leash_prepareRevoke", revoke(&created))
        .await?;
    assert_eq!(answer["type"], "transaction", "{answer}");
    assert_eq!(answer["data"]["from"], json!(contract));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_that_could_never_sign_are_refused_at_creation() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let key = p256_keys::random();
    let off_curve = Bytes::from([B256::with_last_byte(1), B256::with_last_byte(1)].concat());
    let cases = [
        (
            json!({ "type": "p256", "publicKey": Bytes::from(vec![2; 33]) }),
            "params[0].key.publicKey",
            "a P-256 key is x ‖ y (64 bytes) or 0x04 ‖ x ‖ y (65), not 33 bytes",
        ),
        (
            json!({ "type": "p256", "publicKey": off_curve }),
            "params[0].key.publicKey",
            "not a point on P-256",
        ),
        (
            json!({ "type": "webauthn-p256", "publicKey": sec1(&key) }),
            "params[0].key.rpId",
            "a webauthn-p256 key names its relying party (rpId)",
        ),
        (
            json!({ "type": "webauthn-p256", "publicKey": sec1(&key), "rpId": "https://wallet.example" }),
            "params[0].key.rpId",
            "\"https://wallet.example\" is not a relying party id (a host name: 1 to 253 letters, \
             digits, '-' and '.')",
        ),
        (
            json!({ "type": "contract", "publicKey": sec1(&key) }),
            "params[0].key.publicKey",
            "a contract key is an address (20 bytes), not 65 bytes",
        ),
    ];
    for (key_object, field, reason) in cases {
        let response = harness
            .call("wallet_createSession", session_params(key_object))
            .await?;
        let (code, message, data) = error(&response);
        assert_eq!(
            (code, data["field"].clone()),
            (-32602, json!(field)),
            "{message}"
        );
        assert_eq!(message, format!("invalid params: {field}: {reason}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_capabilities_list_every_key_type() -> eyre::Result<()> {
    let harness = Harness::start().await?;
    let capabilities = harness
        .result("wallet_getCapabilities", json!([OWNER]))
        .await?;
    assert_eq!(
        capabilities["0x7a69"]["permissions"]["keyTypes"],
        json!(["secp256k1", "ecdsa", "contract", "p256", "webauthn-p256"])
    );
    Ok(())
}
