//! What a backend pays per session operation, next to the floor: one secp256k1 signature.
//! One thread. Run: `cargo bench -p leash-sdk --bench signing`.

use alloy_primitives::{Address, B256, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leash_bindings::{Deployment, IERC20};
use leash_core::{
    calls::Call,
    grant::{GrantDomain, SessionGrantBuilder},
    permission::Permission,
    session_signature::{SessionAuth, session_nonce_key},
    user_operation::UserOperationBuilder,
};
use std::hint::black_box;

const CHAIN_ID: u64 = 31337;
const TOKEN: Address = address!("0x00000000000000000000000000000000000000dd");

fn signing(c: &mut Criterion) {
    let owner = PrivateKeySigner::from_bytes(&[0x11; 32].into()).expect("key");
    let session_key = PrivateKeySigner::from_bytes(&[0x22; 32].into()).expect("key");
    let domain = GrantDomain {
        chain_id: CHAIN_ID,
        validator: Deployment::session_key_validator().address(),
    };
    let grant = SessionGrantBuilder::new(owner.address(), session_key.address(), domain.validator)
        .valid_until(2_000_000_000)
        .permission(Permission::Erc20TokenTransfer {
            address: TOKEN,
            allowance: U256::from(1_000_000),
            period: None,
        })
        .permission(Permission::FunctionsOnContract {
            address: TOKEN,
            functions: vec![IERC20::balanceOfCall::SELECTOR.into()],
            rules: vec![],
        })
        .build(1_000_000_000)
        .expect("grant");
    let session_id = domain.session_id(&grant);
    let auth = SessionAuth::Enabled {
        session_id,
        root: false,
    };
    let nonce = session_nonce_key(domain.validator, session_id) << 64;
    let transfer = IERC20::transferCall {
        to: Address::repeat_byte(0xbe),
        amount: U256::from(1),
    };
    let calls = [Call {
        to: TOKEN,
        value: U256::ZERO,
        data: transfer.abi_encode().into(),
    }];

    let mut group = c.benchmark_group("sdk");
    group.throughput(Throughput::Elements(1));
    group.bench_function("secp256k1 sign (floor)", |b| {
        let hash = B256::repeat_byte(0x42);
        b.iter(|| session_key.sign_hash_sync(black_box(&hash)).expect("sign"))
    });
    group.bench_function("grant digest + owner signature", |b| {
        b.iter(|| domain.sign(&owner, black_box(&grant)).expect("sign grant"))
    });
    group.bench_function("UserOperation build + hash + session signature", |b| {
        b.iter(|| {
            UserOperationBuilder::new(owner.address())
                .nonce(black_box(nonce))
                .calls(black_box(&calls))
                .expect("calls")
                .sign_as_session(&session_key, &auth, CHAIN_ID)
                .expect("sign op")
        })
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
