use super::*;
use leash_core::{account_message::AccountMessage, grant::GrantDomain, permission::Permission};
use leash_sdk::service::{GrantTerms, StoredSession, grant_session, prepare_message};

const ACCOUNT: Address = Address::repeat_byte(0xa1);

/// A session of [`ACCOUNT`] that may sign personal messages.
fn session() -> StoredSession {
    let terms = GrantTerms {
        account: ACCOUNT,
        session_key: Address::repeat_byte(0x5e),
        permissions: vec![Permission::PersonalSign],
        valid_after: 0,
        valid_until: 2_000_000_000,
        label: String::new(),
    };
    let domain = GrantDomain {
        chain_id: 31337,
        validator: Address::repeat_byte(0xf0),
    };
    grant_session(domain, 1_000, terms).expect("a valid grant")
}

/// `session`'s `n`th login.
fn login(session: &StoredSession, n: usize) -> PreparedMessage {
    prepare_message(session, AccountMessage::personal(format!("login {n}"))).expect("allowed")
}

fn digests(messages: &[PreparedMessage]) -> Vec<B256> {
    messages.iter().map(|message| message.digest).collect()
}

#[test]
fn a_session_keeps_its_latest_messages_newest_first() {
    let pending = PendingMessages::default();
    let start = Instant::now();
    let stored = session();
    let session = stored.session_id;
    let messages: Vec<PreparedMessage> = (0..=PER_SESSION).map(|n| login(&stored, n)).collect();
    for (n, message) in messages.iter().enumerate() {
        pending.put_at(
            ACCOUNT,
            message.clone(),
            start + Duration::from_secs(n as u64),
        );
    }
    let kept = pending.of_at(ACCOUNT, session, start + Duration::from_secs(20));
    let expected: Vec<B256> = messages[1..].iter().rev().map(|m| m.digest).collect();
    assert_eq!(digests(&kept), expected, "the oldest made room");
    assert_eq!(
        pending.of_at(Address::ZERO, session, start),
        Vec::new(),
        "another account's session"
    );
}

#[test]
fn messages_expire_and_a_message_prepared_again_starts_over() {
    let pending = PendingMessages::default();
    let start = Instant::now();
    let stored = session();
    let (first, second) = (login(&stored, 1), login(&stored, 2));
    let session = first.session_id;
    pending.put_at(ACCOUNT, first.clone(), start);
    pending.put_at(ACCOUNT, second.clone(), start + Duration::from_secs(60));
    let before_first_expires = start + LIFETIME - Duration::from_secs(1);
    assert_eq!(
        digests(&pending.of_at(ACCOUNT, session, before_first_expires)),
        vec![second.digest, first.digest]
    );
    assert_eq!(
        digests(&pending.of_at(ACCOUNT, session, start + LIFETIME)),
        vec![second.digest]
    );
    pending.put_at(ACCOUNT, first.clone(), start + LIFETIME);
    pending.put_at(ACCOUNT, first.clone(), start + LIFETIME);
    assert_eq!(
        digests(&pending.of_at(ACCOUNT, session, start + LIFETIME + Duration::from_secs(61))),
        vec![first.digest],
        "once, and alive after the second expired"
    );
    assert_eq!(
        pending.of_at(ACCOUNT, session, start + LIFETIME * 3),
        Vec::new()
    );
    assert!(pending.lock().is_empty(), "an expired session is forgotten");
}

#[test]
fn the_session_whose_latest_message_is_oldest_makes_room_for_a_new_one() {
    let pending = PendingMessages::default();
    let start = Instant::now();
    let message = login(&session(), 0);
    let session = |n: usize| B256::from(alloy_primitives::U256::from(n));
    for n in 0..SESSIONS {
        let mut message = message.clone();
        message.session_id = session(n);
        pending.put_at(ACCOUNT, message, start + Duration::from_millis(n as u64));
    }
    // Session 0 signs again: session 1's latest message is now the oldest.
    let mut again = message.clone();
    again.session_id = session(0);
    pending.put_at(ACCOUNT, again, start + Duration::from_secs(60));
    let mut newcomer = message.clone();
    newcomer.session_id = session(SESSIONS);
    pending.put_at(ACCOUNT, newcomer, start + Duration::from_secs(61));
    let now = start + Duration::from_secs(62);
    assert_eq!(pending.lock().len(), SESSIONS);
    assert!(pending.of_at(ACCOUNT, session(1), now).is_empty());
    for n in [0, 2, SESSIONS] {
        assert_eq!(pending.of_at(ACCOUNT, session(n), now).len(), 1, "{n}");
    }
}
