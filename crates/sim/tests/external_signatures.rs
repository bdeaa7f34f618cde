//! The owner can sign a grant with any standard tool: `cast wallet sign --no-hash` of the session
//! id, or `cast wallet sign --data` of the SDK's `eth_signTypedData_v4` JSON. Both signatures equal
//! the SDK's and enable the session on chain (lazily, in its first UserOperation).

mod support;

use alloy_primitives::{Bytes, U256, hex};
use leash_core::{permission::Permission, session_signature::SessionAuth};
use std::process::Command;
use support::{RECIPIENT, Setup, TOKENS, executed};

fn cast(args: &[&str]) -> Bytes {
    let output = Command::new(leash_testkit::toolchain_binary("cast"))
        .args(args)
        .output()
        .expect("cast runs");
    assert!(
        output.status.success(),
        "cast {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    hex::decode(text.trim()).expect("a hex signature").into()
}

fn enable_lazily_with(s: &mut Setup, grant: &leash_bindings::SessionGrant, owner_signature: &[u8]) {
    let auth = SessionAuth::Lazy {
        grant,
        owner_signature,
    };
    let calls = [s.transfer_tokens(RECIPIENT, TOKENS)];
    executed(&s.send_as(&s.key.clone(), &auth, &calls));
}

#[test]
fn cast_signatures_of_the_digest_and_of_the_typed_data_enable_the_session() {
    let mut s = Setup::new();
    let owner_key = hex::encode_prefixed(s.owner.to_bytes());
    let token = s.token;
    let permissions = |allowance: u64| {
        [Permission::Erc20TokenTransfer {
            address: token,
            allowance: TOKENS * U256::from(allowance),
            period: None,
        }]
    };

    let digest_grant = s.grant(permissions(5));
    let session_id = s.session_id(&digest_grant).to_string();
    let by_digest = cast(&[
        "wallet",
        "sign",
        "--no-hash",
        "--private-key",
        &owner_key,
        &session_id,
    ]);
    assert_eq!(
        by_digest,
        s.owner_signature(&digest_grant),
        "cast --no-hash signs what the SDK signs"
    );
    enable_lazily_with(&mut s, &digest_grant, &by_digest);

    let typed_grant = s.grant(permissions(7));
    let typed_data = s.chain.grant_domain().typed_data(&typed_grant).to_string();
    let by_typed_data = cast(&[
        "wallet",
        "sign",
        "--data",
        "--private-key",
        &owner_key,
        &typed_data,
    ]);
    assert_eq!(
        by_typed_data,
        s.owner_signature(&typed_grant),
        "cast --data hashes the typed data as the SDK does"
    );
    enable_lazily_with(&mut s, &typed_grant, &by_typed_data);
    assert_eq!(s.token_balance(RECIPIENT), TOKENS * U256::from(2));
}
