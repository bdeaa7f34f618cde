//! One behavioural suite for every `State`: each test is written once over `impl State` and run
//! against `MemoryState`, `SqliteState` (a fresh database file per test) and `PostgresState` (a
//! PostgreSQL cluster of the test's own). What only a file can do, keep everything across a
//! reopen, and what only a shared database does, claims between replicas and surviving a
//! database restart, are tested beneath.

use alloy_primitives::{Address, B128, B256, Bytes, U256, address};
use alloy_signer_local::PrivateKeySigner;
use leash_bindings::{Deployment, PackedUserOperation};
use leash_core::{
    calls::Call,
    eip7702::{EIP7702_INIT_CODE_MARKER, sign_authorization},
    grant::GrantDomain,
    permission::Permission,
    prepare::PreparedOperation,
    rpc_types::UserOperationReceipt,
    sender::SignedUserOperation,
    session_signer::{P256PublicKey, P256Verification, SessionKeyType},
    session_state::{OnChainStatus, SessionState},
    webauthn::RpId,
};
use leash_sdk::service::{GrantTerms, StoredSession, grant_session};
use leash_server::state::{
    ApiKey, CallStatus, Claimant, KeyLimits, MESSAGE_LIFETIME, MESSAGE_PRUNE_LIMIT,
    MESSAGES_PER_SESSION, PostgresState, PreparedCall, PreparedSigner, Rate, SentCall, SqliteState,
    State, StateError, WaitingMessage, wire_session_id,
};
use serde_json::json;
use std::{num::NonZeroU32, time::Duration};

const ACCOUNT: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const NOW: u64 = 1_767_225_600;

/// Each test of the suite, run once per backend.
macro_rules! for_each_state {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $test() -> eyre::Result<()> {
                    super::$test(&leash_server::state::MemoryState::new()).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $test() -> eyre::Result<()> {
                    let dir = tempfile::tempdir()?;
                    let state = super::open_sqlite(dir.path()).await?;
                    super::$test(&state).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $test() -> eyre::Result<()> {
                    let cluster = leash_testkit::Postgres::start();
                    let url = cluster.database("leash");
                    let state = super::open_postgres(&url, "replica-a", super::LEASE).await?;
                    super::$test(&state).await
                }
            )*
        }
    };
}

for_each_state!(
    sessions_are_kept_and_replaced_by_wire_id,
    sessions_keep_how_their_key_signs,
    sessions_are_listed_by_account,
    prepared_calls_round_trip_with_their_signer,
    a_send_starts_once_even_when_concurrent,
    statuses_round_trip_and_need_a_started_call,
    a_bundles_statuses_are_set_all_or_none,
    pending_calls_come_back_in_the_order_sent,
    an_open_store_answers_a_ping,
    what_a_key_creates_only_that_key_reads,
    api_keys_are_added_found_by_hash_and_revoked,
    a_days_sends_are_counted_up_to_the_quota,
    an_accounts_pending_calls_are_found_by_its_address,
    a_nonce_is_fresh_once_until_it_expires,
    expired_nonces_are_pruned_a_batch_at_a_time,
    execution_permissions_are_listed_with_their_session_under_its_key,
    a_session_keeps_its_newest_messages_until_they_expire,
    expired_messages_are_pruned_by_later_writes,
);

async fn an_open_store_answers_a_ping(state: &impl State) -> eyre::Result<()> {
    state.ping().await?;
    Ok(())
}

async fn what_a_key_creates_only_that_key_reads(state: &impl State) -> eyre::Result<()> {
    let (a, b) = (Some("app-a"), Some("app-b"));
    let session = session()?;
    let id = wire_session_id(session.session_id);
    state.put_session(session.clone(), a).await?;
    for other in [b, None] {
        assert_eq!(state.session(id, other).await?, None, "{other:?}");
        assert_eq!(state.sessions_of(ACCOUNT, other).await?, vec![]);
    }
    // The owner's signature arriving keeps the session its creator's.
    let mut signed = session;
    signed.grant.owner_signature = Some(Bytes::from(vec![7; 65]));
    state.put_session(signed.clone(), b).await?;
    assert_eq!(state.session(id, b).await?, None);
    assert_eq!(state.session(id, a).await?, Some(signed.clone()));
    assert_eq!(state.sessions_of(ACCOUNT, a).await?, vec![signed]);

    let prepared = prepared(1, PreparedSigner::Owner(ACCOUNT))?;
    let hash = prepared.user_op_hash;
    state.put_prepared(prepared.clone(), a).await?;
    assert_eq!(state.prepared(hash, b).await?, None);
    assert_eq!(state.prepared(hash, None).await?, None);
    assert_eq!(state.prepared(hash, a).await?, Some(prepared));

    let call = sent(1, None)?;
    assert!(state.start_call(&call, a).await?);
    assert!(
        !state.start_call(&call, b).await?,
        "started once, by its key"
    );
    assert_eq!(state.status(hash, b).await?, None);
    assert_eq!(state.status(hash, None).await?, None);
    assert_eq!(state.status(hash, a).await?, Some(CallStatus::Pending));
    // Submission sees every call, whoever sent it.
    assert_eq!(state.pending_calls().await?, vec![call]);
    Ok(())
}

async fn an_accounts_pending_calls_are_found_by_its_address(
    state: &impl State,
) -> eyre::Result<()> {
    let other = Address::repeat_byte(0xee);
    let mut theirs = sent(2, None)?;
    theirs.operation.op.operation.sender = other;
    let calls = [
        sent(3, Some(session_state()))?,
        theirs.clone(),
        sent(1, None)?,
    ];
    for call in &calls {
        assert!(state.start_call(call, None).await?);
    }
    let confirmed = CallStatus::Confirmed(Box::new(receipt(true)?));
    state
        .set_status(calls[2].operation.user_op_hash, confirmed)
        .await?;
    assert_eq!(
        state.pending_calls_of(ACCOUNT).await?,
        vec![calls[0].clone()]
    );
    assert_eq!(state.pending_calls_of(other).await?, vec![theirs]);
    assert_eq!(state.pending_calls_of(Address::ZERO).await?, vec![]);
    Ok(())
}

fn api_key(name: &str, byte: u8, limits: KeyLimits) -> ApiKey {
    ApiKey {
        name: name.to_owned(),
        key_hash: B256::repeat_byte(byte),
        created_at: NOW,
        revoked_at: None,
        limits,
    }
}

async fn api_keys_are_added_found_by_hash_and_revoked(state: &impl State) -> eyre::Result<()> {
    assert_eq!(state.api_keys().await?, vec![]);
    let limited = KeyLimits {
        rate: Some("600/min".parse::<Rate>().map_err(eyre::Error::msg)?),
        burst: NonZeroU32::new(5),
        daily_quota: Some(1_000),
    };
    let (web, cron) = (
        api_key("web", 1, limited),
        api_key("cron", 2, KeyLimits::default()),
    );
    assert!(state.add_api_key(&web).await?);
    assert!(state.add_api_key(&cron).await?);
    // A name is never given twice.
    assert!(
        !state
            .add_api_key(&api_key("web", 3, KeyLimits::default()))
            .await?
    );
    assert_eq!(state.api_keys().await?, vec![cron.clone(), web.clone()]);
    assert_eq!(state.api_key(web.key_hash).await?, Some(web.clone()));
    assert_eq!(state.api_key(B256::repeat_byte(3)).await?, None);

    assert!(state.revoke_api_key("web", NOW + 60).await?);
    assert!(
        !state.revoke_api_key("web", NOW + 120).await?,
        "revoked already"
    );
    assert!(!state.revoke_api_key("nobody", NOW).await?);
    let revoked = ApiKey {
        revoked_at: Some(NOW + 60),
        ..web
    };
    assert_eq!(
        state.api_key(revoked.key_hash).await?,
        Some(revoked.clone())
    );
    // Revoked keys stay listed, and keep their name.
    assert_eq!(state.api_keys().await?, vec![cron, revoked]);
    Ok(())
}

async fn a_days_sends_are_counted_up_to_the_quota(state: &impl State) -> eyre::Result<()> {
    const DAY: u64 = 20_454;
    let counted = tokio::join!(
        state.count_send("web", DAY, 3),
        state.count_send("web", DAY, 3),
        state.count_send("web", DAY, 3),
        state.count_send("web", DAY, 3),
        state.count_send("web", DAY, 3),
    );
    let mut counted = [counted.0?, counted.1?, counted.2?, counted.3?, counted.4?];
    counted.sort();
    assert_eq!(counted, [None, None, Some(1), Some(2), Some(3)]);
    // Other keys and other days count apart; a quota of 0 allows nothing.
    assert_eq!(state.count_send("cron", DAY, 3).await?, Some(1));
    assert_eq!(state.count_send("web", DAY + 1, 3).await?, Some(1));
    assert_eq!(state.count_send("none", DAY, 0).await?, None);
    // A larger quota (the key's changed) counts on from the day's count.
    assert_eq!(state.count_send("web", DAY, 4).await?, Some(4));
    Ok(())
}

async fn a_nonce_is_fresh_once_until_it_expires(state: &impl State) -> eyre::Result<()> {
    let (key, nonce) = (Address::repeat_byte(0x5e), B128::repeat_byte(1));
    let until = NOW + 60;
    let spent = tokio::join!(
        state.spend_nonce(key, nonce, until, NOW),
        state.spend_nonce(key, nonce, until, NOW),
        state.spend_nonce(key, nonce, until, NOW),
    );
    let mut spent = [spent.0?, spent.1?, spent.2?];
    spent.sort();
    assert_eq!(
        spent,
        [false, false, true],
        "one of concurrent spends is fresh"
    );
    assert!(!state.spend_nonce(key, nonce, until + 5, NOW + 5).await?);
    // Live through its expiry (the request it guards is stale only after it).
    assert!(!state.spend_nonce(key, nonce, until + 60, until).await?);
    // Another key's nonce, another nonce of the key: fresh.
    let other_key = Address::repeat_byte(0x5f);
    assert!(state.spend_nonce(other_key, nonce, until, NOW).await?);
    assert!(
        state
            .spend_nonce(key, B128::repeat_byte(2), until, NOW)
            .await?
    );
    // Expired: fresh again, and remembered anew.
    assert!(state.spend_nonce(key, nonce, until + 61, until + 1).await?);
    assert!(!state.spend_nonce(key, nonce, until + 62, until + 2).await?);
    Ok(())
}

/// A message of `session` under `digest` (its request names it), waiting from `at` for ten
/// minutes.
fn waiting(session: B256, digest: u8, at: u64) -> WaitingMessage {
    WaitingMessage {
        account: ACCOUNT,
        session_id: session,
        digest: B256::repeat_byte(digest),
        request: format!("login {digest}"),
        expires_at: at + MESSAGE_LIFETIME.as_secs(),
    }
}

fn requests(digests: impl IntoIterator<Item = u8>) -> Vec<String> {
    digests.into_iter().map(|n| format!("login {n}")).collect()
}

async fn a_session_keeps_its_newest_messages_until_they_expire(
    state: &impl State,
) -> eyre::Result<()> {
    let (session, other) = (B256::repeat_byte(0xa), B256::repeat_byte(0xb));
    let keep = u8::try_from(MESSAGES_PER_SESSION)?;
    for n in 1..=keep + 1 {
        state
            .put_message(waiting(session, n, NOW + u64::from(n)), NOW + u64::from(n))
            .await?;
    }
    state.put_message(waiting(other, 1, NOW), NOW).await?;
    let now = NOW + 100;
    assert_eq!(
        state.waiting_messages(ACCOUNT, session, now).await?,
        requests((2..=keep + 1).rev()),
        "the newest first; the oldest made room"
    );
    // Asked again: the newest, once.
    state.put_message(waiting(session, 5, now), now).await?;
    let kept = state.waiting_messages(ACCOUNT, session, now).await?;
    assert_eq!(kept.len(), usize::from(keep));
    assert_eq!(kept[0], "login 5");
    assert_eq!(kept.iter().filter(|r| *r == "login 5").count(), 1);
    // Another session's, another account's.
    assert_eq!(
        state.waiting_messages(ACCOUNT, other, now).await?,
        requests([1])
    );
    assert!(
        state
            .waiting_messages(Address::repeat_byte(1), session, now)
            .await?
            .is_empty()
    );
    // Each waits ten minutes: gone at its expiry, the later ones still there.
    let expiry_of_2 = NOW + 2 + MESSAGE_LIFETIME.as_secs();
    let left = state
        .waiting_messages(ACCOUNT, session, expiry_of_2)
        .await?;
    assert!(!left.contains(&"login 2".to_owned()), "{left:?}");
    assert!(left.contains(&"login 3".to_owned()), "{left:?}");
    assert!(
        state
            .waiting_messages(ACCOUNT, other, NOW + MESSAGE_LIFETIME.as_secs())
            .await?
            .is_empty()
    );
    Ok(())
}

async fn expired_messages_are_pruned_by_later_writes(state: &impl State) -> eyre::Result<()> {
    let (session, other) = (B256::repeat_byte(0xa), B256::repeat_byte(0xb));
    let batch = u8::try_from(MESSAGE_PRUNE_LIMIT)?;
    for n in 0..batch {
        let session = B256::left_padding_from(&[n]);
        state.put_message(waiting(session, 1, NOW), NOW).await?;
    }
    state
        .put_message(waiting(session, 1, NOW + 1), NOW + 1)
        .await?;
    // A write once they have all expired deletes the first batch of them, soonest expired first:
    // read as of an earlier time, they are gone.
    let later = NOW + 1 + MESSAGE_LIFETIME.as_secs();
    state.put_message(waiting(other, 1, later), later).await?;
    let first = B256::left_padding_from(&[0]);
    assert!(
        state
            .waiting_messages(ACCOUNT, first, NOW)
            .await?
            .is_empty()
    );
    assert_eq!(
        state.waiting_messages(ACCOUNT, session, NOW + 1).await?,
        requests([1]),
        "past the batch, kept for a later write"
    );
    state.put_message(waiting(other, 2, later), later).await?;
    assert!(
        state
            .waiting_messages(ACCOUNT, session, NOW + 1)
            .await?
            .is_empty()
    );
    assert_eq!(
        state.waiting_messages(ACCOUNT, other, later).await?,
        requests([2, 1])
    );
    Ok(())
}

async fn expired_nonces_are_pruned_a_batch_at_a_time(state: &impl State) -> eyre::Result<()> {
    let key = Address::repeat_byte(0x5e);
    for byte in 1..=5 {
        // Nonce n expires at NOW + n.
        let nonce = B128::repeat_byte(byte);
        assert!(
            state
                .spend_nonce(key, nonce, NOW + u64::from(byte), NOW)
                .await?
        );
    }
    assert_eq!(state.prune_nonces(NOW + 4, 2).await?, 2);
    assert_eq!(state.prune_nonces(NOW + 4, 2).await?, 1);
    assert_eq!(state.prune_nonces(NOW + 4, 2).await?, 0);
    // The live ones stay spent; the pruned ones are fresh again.
    assert!(
        !state
            .spend_nonce(key, B128::repeat_byte(4), NOW + 9, NOW + 4)
            .await?
    );
    assert!(
        !state
            .spend_nonce(key, B128::repeat_byte(5), NOW + 9, NOW + 4)
            .await?
    );
    assert!(
        state
            .spend_nonce(key, B128::repeat_byte(1), NOW + 9, NOW + 4)
            .await?
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_shared_store_has_claims_to_keep() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    assert_eq!(open_sqlite(dir.path()).await?.claim_lease(), None);
    assert_eq!(leash_server::state::MemoryState::new().claim_lease(), None);
    Ok(())
}

async fn open_sqlite(dir: &std::path::Path) -> eyre::Result<SqliteState> {
    Ok(SqliteState::open(&dir.join("state.sqlite")).await?)
}

/// The claim lease of the suite's replicas: short, so a lapse takes a moment.
const LEASE: Duration = Duration::from_secs(1);

async fn open_postgres(url: &str, id: &str, lease: Duration) -> eyre::Result<PostgresState> {
    let claimant = Claimant {
        id: id.to_owned(),
        lease,
    };
    Ok(PostgresState::open(url, claimant).await?)
}

fn session() -> eyre::Result<StoredSession> {
    let domain = GrantDomain {
        chain_id: 31337,
        validator: Deployment::session_key_validator().address(),
    };
    let terms = GrantTerms {
        account: ACCOUNT,
        session_key: Address::repeat_byte(0x5e),
        permissions: vec![Permission::Erc20TokenTransfer {
            address: Address::repeat_byte(0x70),
            allowance: U256::from(100),
            period: None,
        }],
        valid_after: 0,
        valid_until: NOW + 3_600,
        label: String::new(),
    };
    Ok(grant_session(domain, NOW, terms)?)
}

/// An operation with every optional part: an EIP-7702 authorization and a signature.
fn operation(nonce: u64) -> eyre::Result<SignedUserOperation> {
    let operation = PackedUserOperation {
        sender: ACCOUNT,
        nonce: U256::from(nonce),
        initCode: Bytes::copy_from_slice(&EIP7702_INIT_CODE_MARKER),
        callData: Bytes::from_static(&[0xe9, 0xae, 0x5c, 0x53, 1, 2, 3]),
        accountGasLimits: B256::repeat_byte(0x11),
        preVerificationGas: U256::from(50_000),
        gasFees: B256::repeat_byte(0x22),
        paymasterAndData: Bytes::new(),
        signature: Bytes::from(vec![0x1b; 65]),
    };
    let owner = PrivateKeySigner::random();
    let authorization =
        sign_authorization(&owner, 31337, Deployment::leash_account().address(), 0)?;
    Ok(SignedUserOperation::new(operation).with_authorization(authorization))
}

fn prepared(nonce: u64, signer: PreparedSigner) -> eyre::Result<PreparedCall> {
    let session_state = matches!(signer, PreparedSigner::Session(_)).then(session_state);
    Ok(PreparedCall {
        user_op_hash: B256::with_last_byte(u8::try_from(nonce)?),
        operation: operation(nonce)?,
        calls: vec![
            Call::transfer(Address::repeat_byte(0x77), U256::from(5)),
            Call {
                to: Address::repeat_byte(0x70),
                value: U256::ZERO,
                data: Bytes::from_static(&[0xa9, 0x05, 0x9c, 0xbb]),
            },
        ],
        signer,
        session_state,
    })
}

fn sent(nonce: u64, session_state: Option<SessionState>) -> eyre::Result<SentCall> {
    Ok(SentCall {
        operation: PreparedOperation {
            op: operation(nonce)?,
            user_op_hash: B256::with_last_byte(u8::try_from(nonce)?),
        },
        session_state,
    })
}

fn session_state() -> SessionState {
    SessionState {
        status: OnChainStatus::Unused,
        validator_installed: true,
        budgets: Vec::new(),
    }
}

/// A bundler's receipt as JSON, so the suite checks what a store keeps of every field.
fn receipt(success: bool) -> eyre::Result<UserOperationReceipt> {
    let transaction = json!({
        "type": "0x2", "status": "0x1", "cumulativeGasUsed": "0x1d4c0", "logs": [],
        "logsBloom": Bytes::from(vec![0; 256]), "transactionHash": B256::repeat_byte(0x33),
        "transactionIndex": "0x0", "blockHash": B256::repeat_byte(0x44), "blockNumber": "0x2",
        "gasUsed": "0x1d4c0", "effectiveGasPrice": "0x3b9aca00", "from": ACCOUNT,
        "to": Deployment::entry_point().address(), "contractAddress": null,
    });
    Ok(serde_json::from_value(json!({
        "userOpHash": B256::with_last_byte(1), "entryPoint": Deployment::entry_point().address(),
        "sender": ACCOUNT, "nonce": "0x1", "paymaster": Address::ZERO,
        "actualGasCost": "0x5af3107a4000", "actualGasUsed": "0x186a0", "success": success,
        "reason": if success { "0x" } else { "0x08c379a0" },
        "logs": [], "receipt": transaction,
    }))?)
}

async fn sessions_are_kept_and_replaced_by_wire_id(state: &impl State) -> eyre::Result<()> {
    let session = session()?;
    let id = wire_session_id(session.session_id);
    assert_eq!(state.session(id, None).await?, None);
    state.put_session(session.clone(), None).await?;
    assert_eq!(state.session(id, None).await?, Some(session.clone()));

    // The owner's signature arrives later: the same id, the new version.
    let mut signed = session;
    signed.grant.owner_signature = Some(Bytes::from(vec![7; 65]));
    state.put_session(signed.clone(), None).await?;
    assert_eq!(state.session(id, None).await?, Some(signed));
    Ok(())
}

/// A passkey's session comes back with its key, relying party and verifier: what a later
/// prepare estimates with and a later send checks against.
async fn sessions_keep_how_their_key_signs(state: &impl State) -> eyre::Result<()> {
    let mut session = session()?;
    session.key_type = SessionKeyType::WebAuthn {
        public_key: P256PublicKey {
            x: B256::repeat_byte(0x0a),
            y: B256::repeat_byte(0x0b),
        },
        rp_id: RpId::new("wallet.example")?,
        verification: P256Verification::Fallback,
    };
    state.put_session(session.clone(), None).await?;
    let id = wire_session_id(session.session_id);
    assert_eq!(state.session(id, None).await?, Some(session.clone()));
    assert_eq!(state.sessions_of(ACCOUNT, None).await?, vec![session]);
    Ok(())
}

async fn sessions_are_listed_by_account(state: &impl State) -> eyre::Result<()> {
    assert_eq!(state.sessions_of(ACCOUNT, None).await?, vec![]);
    let mut sessions = vec![session()?, session()?];
    for session in &sessions {
        state.put_session(session.clone(), None).await?;
    }
    let mut elsewhere = session()?;
    elsewhere.account = Address::repeat_byte(0xee);
    state.put_session(elsewhere.clone(), None).await?;

    sessions.sort_by_key(|session| wire_session_id(session.session_id));
    assert_eq!(state.sessions_of(ACCOUNT, None).await?, sessions);
    assert_eq!(
        state.sessions_of(elsewhere.account, None).await?,
        vec![elsewhere]
    );
    Ok(())
}

async fn execution_permissions_are_listed_with_their_session_under_its_key(
    state: &impl State,
) -> eyre::Result<()> {
    let key = Some("app-a");
    let (granted, plain, unknown) = (session()?, session()?, session()?);
    let id = wire_session_id(granted.session_id);
    let permission =
        json!({ "context": "0x00", "permission": { "type": "native-token-allowance" } });
    state.put_session(granted.clone(), key).await?;
    state.put_session(plain, key).await?;
    // A session never stored, or stored under another key, gets no permission.
    state
        .put_execution_permission(wire_session_id(unknown.session_id), &permission, key)
        .await?;
    state
        .put_execution_permission(id, &permission, None)
        .await?;
    assert_eq!(state.execution_permissions(key).await?, vec![]);

    state.put_execution_permission(id, &permission, key).await?;
    let mut signed = granted;
    signed.grant.owner_signature = Some(Bytes::from(vec![7; 65]));
    state.put_session(signed.clone(), key).await?;
    assert_eq!(
        state.execution_permissions(key).await?,
        vec![(signed, permission)],
        "the session as it is now, and only the one granted a permission"
    );
    assert_eq!(state.execution_permissions(None).await?, vec![]);
    Ok(())
}

/// With the session's state when it was prepared, for a session's operation.
async fn prepared_calls_round_trip_with_their_signer(state: &impl State) -> eyre::Result<()> {
    let by_session = prepared(
        1,
        PreparedSigner::Session(wire_session_id(B256::repeat_byte(9))),
    )?;
    let by_owner = prepared(2, PreparedSigner::Owner(ACCOUNT))?;
    assert_eq!(state.prepared(by_session.user_op_hash, None).await?, None);
    state.put_prepared(by_session.clone(), None).await?;
    state.put_prepared(by_owner.clone(), None).await?;
    // Preparing the same operation again keeps one.
    state.put_prepared(by_owner.clone(), None).await?;
    assert_eq!(
        state.prepared(by_session.user_op_hash, None).await?,
        Some(by_session)
    );
    assert_eq!(
        state.prepared(by_owner.user_op_hash, None).await?,
        Some(by_owner)
    );
    Ok(())
}

async fn a_send_starts_once_even_when_concurrent(state: &impl State) -> eyre::Result<()> {
    let call = sent(1, Some(session_state()))?;
    let hash = call.operation.user_op_hash;
    assert_eq!(state.status(hash, None).await?, None);
    let started = tokio::join!(
        state.start_call(&call, None),
        state.start_call(&call, None),
        state.start_call(&call, None),
        state.start_call(&call, None),
    );
    let started = [started.0?, started.1?, started.2?, started.3?];
    assert_eq!(started.iter().filter(|won| **won).count(), 1, "{started:?}");
    // A replay after the call is final starts nothing either.
    state
        .set_status(hash, CallStatus::Failed("refused".into()))
        .await?;
    assert!(!state.start_call(&call, None).await?);
    assert_eq!(
        state.status(hash, None).await?,
        Some(CallStatus::Failed("refused".into()))
    );
    Ok(())
}

async fn statuses_round_trip_and_need_a_started_call(state: &impl State) -> eyre::Result<()> {
    let hash = sent(1, None)?.operation.user_op_hash;
    let unknown = state.set_status(hash, CallStatus::Pending).await;
    assert!(
        matches!(unknown, Err(StateError::UnknownCall(h)) if h == hash),
        "{unknown:?}"
    );

    state.start_call(&sent(1, None)?, None).await?;
    assert_eq!(state.status(hash, None).await?, Some(CallStatus::Pending));
    for status in [
        CallStatus::Confirmed(Box::new(receipt(true)?)),
        CallStatus::Reverted(Box::new(receipt(false)?)),
        CallStatus::Failed("AA24 signature error".into()),
    ] {
        state.set_status(hash, status.clone()).await?;
        assert_eq!(state.status(hash, None).await?, Some(status));
    }
    Ok(())
}

async fn a_bundles_statuses_are_set_all_or_none(state: &impl State) -> eyre::Result<()> {
    let calls = [sent(1, Some(session_state()))?, sent(2, None)?];
    for call in &calls {
        state.start_call(call, None).await?;
    }
    let never_sent = sent(3, None)?.operation.user_op_hash;
    let statuses = [
        (
            calls[0].operation.user_op_hash,
            CallStatus::Confirmed(Box::new(receipt(true)?)),
        ),
        (
            calls[1].operation.user_op_hash,
            CallStatus::Failed("AA25 invalid account nonce".into()),
        ),
    ];
    let with_unknown = [statuses.as_slice(), &[(never_sent, CallStatus::Pending)]].concat();
    let refused = state.set_statuses(&with_unknown).await;
    assert!(
        matches!(refused, Err(StateError::UnknownCall(h)) if h == never_sent),
        "{refused:?}"
    );
    assert_eq!(state.pending_calls().await?, calls.to_vec(), "none was set");

    state.set_statuses(&statuses).await?;
    for (hash, status) in statuses {
        assert_eq!(state.status(hash, None).await?, Some(status));
    }
    assert!(state.pending_calls().await?.is_empty());
    Ok(())
}

async fn pending_calls_come_back_in_the_order_sent(state: &impl State) -> eyre::Result<()> {
    assert!(state.claim_pending_calls(true).await?.is_empty());
    // Hashes deliberately out of order, so only the order of sending can give this order.
    let calls = [
        sent(3, Some(session_state()))?,
        sent(1, None)?,
        sent(2, Some(session_state()))?,
    ];
    for call in &calls {
        assert!(state.start_call(call, None).await?);
    }
    let confirmed = CallStatus::Confirmed(Box::new(receipt(true)?));
    state
        .set_status(calls[1].operation.user_op_hash, confirmed)
        .await?;
    let pending = vec![calls[0].clone(), calls[2].clone()];
    assert_eq!(state.pending_calls().await?, pending);
    assert_eq!(state.claim_pending_calls(true).await?, pending);
    // This server's claims stand: none has lapsed for another to take over.
    state.renew_claims().await?;
    assert!(state.claim_pending_calls(false).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_keeps_everything_across_a_reopen() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let session = session()?;
    let prepared = prepared(1, PreparedSigner::Owner(ACCOUNT))?;
    let pending = sent(2, Some(session_state()))?;
    let done = sent(3, None)?;
    let confirmed = CallStatus::Confirmed(Box::new(receipt(true)?));
    {
        let state = open_sqlite(dir.path()).await?;
        state.put_session(session.clone(), None).await?;
        state.put_prepared(prepared.clone(), None).await?;
        state.start_call(&pending, None).await?;
        state.start_call(&done, None).await?;
        state
            .set_status(done.operation.user_op_hash, confirmed.clone())
            .await?;
    }
    // Opening again runs the migrations again: already applied, they change nothing.
    let state = open_sqlite(dir.path()).await?;
    let id = wire_session_id(session.session_id);
    assert_eq!(state.session(id, None).await?, Some(session));
    assert_eq!(
        state.prepared(prepared.user_op_hash, None).await?,
        Some(prepared)
    );
    assert_eq!(
        state.claim_pending_calls(true).await?,
        vec![pending.clone()]
    );
    assert!(
        !state.start_call(&pending, None).await?,
        "a replay after a restart"
    );
    assert_eq!(
        state.status(done.operation.user_op_hash, None).await?,
        Some(confirmed)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_share_calls_by_claims_that_lapse() -> eyre::Result<()> {
    let cluster = leash_testkit::Postgres::start();
    let url = cluster.database("leash");
    let a = open_postgres(&url, "replica-a", LEASE).await?;
    let b = open_postgres(&url, "replica-b", LEASE).await?;
    let call = sent(1, Some(session_state()))?;

    // The same send reaching both replicas at once starts once.
    let (on_a, on_b) = tokio::join!(a.start_call(&call, None), b.start_call(&call, None));
    assert!(on_a? ^ on_b?, "exactly one replica starts the call");
    let (starter, other) = if b.claim_pending_calls(true).await?.is_empty() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    // Claimed by the replica that started it: the other sees it pending but cannot take it
    // while the claim holds.
    assert_eq!(other.pending_calls().await?, vec![call.clone()]);
    assert_eq!(other.claim_lease(), Some(LEASE));
    assert!(other.claim_pending_calls(false).await?.is_empty());
    assert!(other.claim_pending_calls(true).await?.is_empty());

    // Renewed, the claim outlives its first lease.
    tokio::time::sleep(LEASE * 6 / 10).await;
    starter.renew_claims().await?;
    tokio::time::sleep(LEASE * 6 / 10).await;
    assert!(other.claim_pending_calls(false).await?.is_empty());

    // Not renewed, it lapses and the other replica takes the call over, once.
    tokio::time::sleep(LEASE * 3 / 2).await;
    assert_eq!(other.claim_pending_calls(false).await?, vec![call.clone()]);
    assert!(other.claim_pending_calls(false).await?.is_empty());
    assert!(starter.claim_pending_calls(false).await?.is_empty());

    // A final call is nobody's to take.
    let confirmed = CallStatus::Confirmed(Box::new(receipt(true)?));
    other
        .set_status(call.operation.user_op_hash, confirmed.clone())
        .await?;
    tokio::time::sleep(LEASE * 3 / 2).await;
    assert!(starter.claim_pending_calls(true).await?.is_empty());
    assert_eq!(
        starter.status(call.operation.user_op_hash, None).await?,
        Some(confirmed)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_replica_resumes_its_own_calls_at_once() -> eyre::Result<()> {
    let cluster = leash_testkit::Postgres::start();
    let url = cluster.database("leash");
    let call = sent(1, None)?;
    {
        let before = open_postgres(&url, "replica-a", Duration::from_secs(3_600)).await?;
        assert!(before.start_call(&call, None).await?);
    }
    let again = open_postgres(&url, "replica-a", LEASE).await?;
    let stranger = open_postgres(&url, "replica-b", LEASE).await?;
    assert!(stranger.claim_pending_calls(true).await?.is_empty());
    assert_eq!(again.claim_pending_calls(true).await?, vec![call]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restarting_fails_requests_then_serves_them_again() -> eyre::Result<()> {
    let cluster = leash_testkit::Postgres::start();
    let url = cluster.database("leash");
    let state = open_postgres(&url, "replica-a", LEASE).await?;
    let call = sent(1, None)?;
    assert!(state.start_call(&call, None).await?);

    cluster.halt();
    let down = state.ping().await;
    assert!(
        matches!(&down, Err(StateError::Backend(reason)) if reason.contains("checking the database answers")),
        "{down:?}"
    );
    assert!(state.start_call(&sent(2, None)?, None).await.is_err());

    cluster.resume();
    state.ping().await?;
    assert_eq!(
        state.status(call.operation.user_op_hash, None).await?,
        Some(CallStatus::Pending),
        "committed before the crash"
    );
    assert!(state.start_call(&sent(2, None)?, None).await?);
    Ok(())
}

/// The statement of `migration` that fills `calls.sender` for calls stored before it.
fn sender_backfill(migration: &str) -> eyre::Result<&str> {
    migration
        .lines()
        .find(|line| line.starts_with("UPDATE calls SET sender"))
        .ok_or_else(|| eyre::eyre!("no backfill in {migration}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_calls_from_before_the_sender_column_get_it_from_their_operation() -> eyre::Result<()>
{
    let dir = tempfile::tempdir()?;
    let state = open_sqlite(dir.path()).await?;
    let call = sent(1, None)?;
    state.start_call(&call, None).await?;
    let path = dir.path().join("state.sqlite");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await?;
    sqlx::query("UPDATE calls SET sender = NULL")
        .execute(&pool)
        .await?;
    assert_eq!(state.pending_calls_of(ACCOUNT).await?, vec![]);
    let migration = include_str!("../migrations/sqlite/0004_calls_by_sender.sql");
    sqlx::query(sender_backfill(migration)?)
        .execute(&pool)
        .await?;
    assert_eq!(state.pending_calls_of(ACCOUNT).await?, vec![call]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_calls_from_before_the_sender_column_get_it_from_their_operation()
-> eyre::Result<()> {
    let cluster = leash_testkit::Postgres::start();
    let url = cluster.database("leash");
    let state = open_postgres(&url, "replica-a", LEASE).await?;
    let call = sent(1, None)?;
    state.start_call(&call, None).await?;
    let pool = sqlx::PgPool::connect(&url).await?;
    sqlx::query("UPDATE calls SET sender = NULL")
        .execute(&pool)
        .await?;
    assert_eq!(state.pending_calls_of(ACCOUNT).await?, vec![]);
    let migration = include_str!("../migrations/postgres/0003_calls_by_sender.sql");
    sqlx::query(sender_backfill(migration)?)
        .execute(&pool)
        .await?;
    assert_eq!(state.pending_calls_of(ACCOUNT).await?, vec![call]);
    Ok(())
}
