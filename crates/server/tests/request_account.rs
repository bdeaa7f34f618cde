//! `wallet_requestAccount`: the account is the signer's EOA, with a stable UUID v4 id.

// The harness only; the signing helpers are for the flow tests.
#[allow(dead_code)]
mod support;

use serde_json::json;
use support::{Harness, OWNER};

#[tokio::test(flavor = "multi_thread")]
async fn the_account_is_the_signer() -> eyre::Result<()> {
    let harness = Harness::undelegated().await?;
    let params = json!([{ "signerAddress": OWNER, "includeCounterfactualInfo": true,
                          "creationHint": { "accountType": "7702" } }]);
    let account = harness
        .result("wallet_requestAccount", params.clone())
        .await?;
    assert_eq!(account["accountAddress"], json!(OWNER));
    let id = account["id"].as_str().unwrap_or_default();
    assert_eq!(id.len(), 36, "{account}");
    assert_eq!(id.as_bytes()[14], b'4', "version 4: {id}");
    assert_eq!(
        harness.result("wallet_requestAccount", params).await?,
        account
    );
    let by_account = harness
        .result(
            "wallet_requestAccount",
            json!([{ "accountAddress": OWNER, "includeCounterfactualInfo": false }]),
        )
        .await?;
    assert_eq!(by_account, account);

    let given = "123e4567-e89b-42d3-a456-426614174000";
    let echoed = harness
        .result(
            "wallet_requestAccount",
            json!([{ "signerAddress": OWNER, "id": given }]),
        )
        .await?;
    assert_eq!(echoed["id"], given);

    let other_type = harness
        .call(
            "wallet_requestAccount",
            json!([{ "signerAddress": OWNER, "creationHint": { "accountType": "sma-b" } }]),
        )
        .await?;
    assert_eq!(other_type["error"]["code"], -32602, "{other_type}");
    Ok(())
}
