//! What a backend pays per session-signed request, next to the floor: one secp256k1 recovery.
//! The capability's owner signature and the on-chain session's status are cached (the steady
//! state: one capability, many requests). One thread. Run: `cargo bench -p leash-auth`.

#[path = "../tests/support/mod.rs"]
mod support;

use alloy_primitives::{B128, Signature, eip191_hash_message};
use alloy_signer::SignerSync;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use leash_auth::{SessionCapability, Verifier, VerifierConfig};
use leash_sim::ready;
use std::hint::black_box;
use support::*;

fn verify(c: &mut Criterion) {
    let (owner, session) = (key(1), key(2));
    let chain = chain();
    let record = on_chain_session(&chain, &owner, session.address());
    let domain = chain.lock().expect("lock").grant_domain();
    let capability = SessionCapability::from_record(DOMAIN, &domain, &record, off_chain(), ISSUED);
    let signed = sign_capability(&capability, &owner);
    let config = VerifierConfig {
        session_check_ttl: Some(u64::MAX),
        ..VerifierConfig::new(DOMAIN)
    };
    let verifier = Verifier::with_chain(config, chain);
    let now = ISSUED + 10;
    let body = br#"{"qty":1}"#;
    let scope = scope("POST", "/orders/1");
    // Every request carries a fresh nonce; signing is the client's work, outside the timing.
    let mut nonce = 0u128;
    let mut next = || {
        nonce += 1;
        let mut request = request(&signed, &session, "POST", "/orders/1", body, now, 0);
        request.nonce = B128::from(nonce);
        let hash = request.signing_hash();
        request.signature = session
            .sign_hash_sync(&hash)
            .expect("signs")
            .as_bytes()
            .into();
        request
    };
    let warm = next();
    ready(verifier.verify_at(&warm, received(&warm, body), &scope, now)).expect("accepted");

    let mut group = c.benchmark_group("session-request");
    let floor_hash = eip191_hash_message(b"a session request");
    let floor_signature: Signature = session.sign_hash_sync(&floor_hash).expect("signs");
    group.bench_function("secp256k1 recovery (floor)", |b| {
        b.iter(|| {
            black_box(&floor_signature)
                .recover_address_from_prehash(black_box(&floor_hash))
                .expect("recovers")
        })
    });
    group.bench_function("verify, capability and on-chain status cached", |b| {
        b.iter_batched(
            &mut next,
            |request| {
                ready(verifier.verify_at(&request, received(&request, body), &scope, now))
                    .expect("accepted")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
