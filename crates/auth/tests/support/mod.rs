//! What the verifier tests share: the embedded chain with the leash contracts, an owner and a
//! session key, capabilities signed by the owner, and requests signed by the session key.
#![allow(dead_code, unreachable_pub)]

use alloy_primitives::{Address, B128, B256, Bytes, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, sol};
use leash_auth::{
    AuthError, EthCall, NonceStore, Recap, Received, Scope, SessionCapability, SessionRequest,
    SignedCapability, UnsignedRequest, Verified, Verifier,
};
use leash_bindings::{Deployment, SessionKeyValidator};
use leash_core::{
    calls::{Call, execute_calldata},
    grant::SessionGrantBuilder,
    permission::Permission,
    session_state::GrantRecord,
};
use leash_sim::{Chain, SimSender, walkthrough::delegate_and_install_validator};
use serde_json::Map;
use std::sync::{Arc, Mutex};

sol!(
    #[sol(all_derives)]
    TestSmartOwnerFactory,
    "../bindings/artifacts/TestSmartOwnerFactory.json"
);

/// The backend's domain in every test.
pub const DOMAIN: &str = "api.example.com";
/// The base of its HTTP resources.
pub const BASE: &str = "https://api.example.com";
/// When the capabilities are issued, unix seconds.
pub const ISSUED: u64 = 1_800_000_000;
/// When they expire.
pub const EXPIRES: u64 = ISSUED + 600;

/// A fixed key.
pub fn key(seed: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(seed)).expect("a valid key")
}

/// `orders/*` with `http/GET` and `http/POST`, and `litAction://*` with every Lit ability.
pub fn off_chain() -> Recap {
    let mut recap = Recap::new();
    for ability in ["http/GET", "http/POST"] {
        recap
            .grant(&format!("{BASE}/orders/*"), ability, Map::new())
            .expect("valid");
    }
    recap
        .grant("litAction://*", "lit-action-execution/*", Map::new())
        .expect("valid");
    recap
}

/// A capability of `owner` for `session_key`, off-chain resources only.
pub fn capability(owner: Address, session_key: Address) -> SessionCapability {
    let mut capability = SessionCapability::new(
        DOMAIN,
        owner,
        session_key,
        31337,
        off_chain(),
        ISSUED,
        EXPIRES,
    );
    capability.statement = Some("Let my agent place orders.".into());
    capability.not_before = Some(ISSUED);
    capability
}

/// `capability` signed by `signer` with `personal_sign`.
pub fn sign_capability(
    capability: &SessionCapability,
    signer: &impl SignerSync,
) -> SignedCapability {
    let message = capability.to_text().expect("renders");
    let signature = signer.sign_message_sync(message.as_bytes()).expect("signs");
    SignedCapability {
        message,
        signature: signature.as_bytes().into(),
    }
}

/// A request under `capability`, signed by `session_key` at `timestamp` with nonce `nonce`.
pub fn request(
    capability: &SignedCapability,
    session_key: &PrivateKeySigner,
    method: &str,
    target: &str,
    body: &[u8],
    timestamp: u64,
    nonce: u8,
) -> SessionRequest {
    UnsignedRequest {
        capability,
        method,
        target,
        body,
        timestamp,
        nonce: B128::repeat_byte(nonce),
    }
    .sign(session_key)
    .expect("signs")
}

/// The request as it arrives: its own method, target and the hash of `body`.
pub fn received<'a>(request: &'a SessionRequest, body: &[u8]) -> Received<'a> {
    Received {
        method: &request.method,
        target: &request.target,
        body_hash: keccak256(body),
    }
}

/// `verifier`'s answer to `request` arriving with `body`, asking for `scope`, at `now`.
pub async fn check<C: EthCall, N: NonceStore>(
    verifier: &Verifier<C, N>,
    request: &SessionRequest,
    body: &[u8],
    scope: &Scope,
    now: u64,
) -> Result<Verified, AuthError> {
    verifier
        .verify_at(request, received(request, body), scope, now)
        .await
}

/// The scope of an HTTP request to `path` with `method`.
pub fn scope(method: &str, path: &str) -> Scope {
    Scope {
        resource: format!("{BASE}{path}"),
        ability: format!("http/{method}"),
    }
}

/// The embedded chain, shared with the verifier.
pub fn chain() -> Arc<Mutex<Chain>> {
    Arc::new(Mutex::new(Chain::new().expect("a fresh chain")))
}

/// An on-chain session of `owner` (delegated here) for `session_key`, unused, valid for
/// [`EXPIRES`]; its grant record.
pub fn on_chain_session(
    chain: &Mutex<Chain>,
    owner: &PrivateKeySigner,
    session_key: Address,
) -> GrantRecord {
    let mut chain = chain.lock().expect("lock");
    // The account pays for its own UserOperations.
    let ether = U256::from(10).pow(U256::from(18));
    chain.set_balance(owner.address(), ether).expect("funds");
    let outcome = delegate_and_install_validator(&mut chain, owner).expect("delegates");
    assert!(
        matches!(outcome, leash_sim::BundleOutcome::Included { .. }),
        "{outcome:?}"
    );
    let validator = Deployment::session_key_validator().address();
    let grant = SessionGrantBuilder::new(owner.address(), session_key, validator)
        .valid_until(EXPIRES)
        .permission(Permission::NativeTokenTransfer {
            allowance: U256::from(1000),
            period: None,
        })
        .build(chain.timestamp())
        .expect("a valid grant");
    GrantRecord::new(&grant, None).expect("a known permission type")
}

/// The owner revokes `record`'s session on chain.
pub fn revoke(chain: &Mutex<Chain>, owner: &PrivateKeySigner, record: &GrantRecord) {
    let mut chain = chain.lock().expect("lock");
    let revoke = Call {
        to: Deployment::session_key_validator().address(),
        value: U256::ZERO,
        data: SessionKeyValidator::revokeSessionCall {
            grant: (&record.grant()).into(),
        }
        .abi_encode()
        .into(),
    };
    let calldata = execute_calldata(&[revoke]).expect("calldata");
    let outcome = SimSender::new(&mut chain)
        .owner_operation(owner, calldata, None)
        .expect("revokes");
    assert!(
        matches!(outcome, leash_sim::BundleOutcome::Included { .. }),
        "{outcome:?}"
    );
}

/// Deploys the test smart-account factory through the CREATE2 deployer; its address.
pub fn deploy_factory(chain: &Mutex<Chain>) -> Address {
    let mut chain = chain.lock().expect("lock");
    let code = TestSmartOwnerFactory::BYTECODE.clone();
    let address = leash_bindings::create2_address(B256::ZERO, &code);
    let mut input = B256::ZERO.to_vec();
    input.extend_from_slice(&code);
    let bundler = chain.bundler();
    chain
        .transact(
            bundler,
            leash_bindings::CREATE2_DEPLOYER,
            input.into(),
            U256::ZERO,
        )
        .expect("deploys");
    address
}

/// The `deploy(owner, salt)` calldata of the factory, and the address it deploys to.
pub fn smart_owner(chain: &Mutex<Chain>, factory: Address, owner: Address) -> (Bytes, Address) {
    let mut chain = chain.lock().expect("lock");
    let salt = B256::repeat_byte(9);
    let predicted = chain
        .call(factory, TestSmartOwnerFactory::predictCall { owner, salt })
        .expect("predicts");
    let deploy = TestSmartOwnerFactory::deployCall { owner, salt };
    (deploy.abi_encode().into(), predicted)
}

/// Deploys the smart owner with the factory.
pub fn deploy_smart_owner(chain: &Mutex<Chain>, factory: Address, calldata: Bytes) {
    let mut chain = chain.lock().expect("lock");
    let bundler = chain.bundler();
    chain
        .transact(bundler, factory, calldata, U256::ZERO)
        .expect("deploys");
}
