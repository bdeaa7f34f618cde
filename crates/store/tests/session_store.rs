//! The session key store on a real directory, and its keystores read by `cast`.

use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use leash_store::{
    keystore::{KeystoreError, P256Secret, ScryptParams},
    session_store::{SessionMetadata, SessionStore, SessionStoreError},
};
use leash_testkit::toolchain_binary;
use serde_json::{Value, json};
use std::process::Command;

fn store(dir: &tempfile::TempDir) -> SessionStore {
    SessionStore::open(dir.path().join("sessions"))
        .expect("opens")
        .with_scrypt_params(ScryptParams::LIGHT)
}

fn metadata(id: u8, key: &PrivateKeySigner) -> SessionMetadata {
    SessionMetadata {
        session_id: B256::repeat_byte(id),
        session_key: key.address(),
        key_type: json!({"type": "secp256k1"}),
        account: Address::repeat_byte(0xaa),
        chain_id: 31337,
        validator: Address::repeat_byte(0x55),
        grant: json!({"permissions": [{"type": "root"}]}),
        created_at: 1_700_000_000,
        expires_at: 1_700_086_400,
        label: format!("session {id}"),
    }
}

#[test]
fn create_list_load_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let first_key = PrivateKeySigner::random();
    let second_key = PrivateKeySigner::random();
    store
        .create(&second_key, &metadata(2, &second_key), "pw")
        .expect("creates");
    store
        .create(&first_key, &metadata(1, &first_key), "pw")
        .expect("creates");

    let listed = store.list::<Value, Value>().expect("lists");
    assert_eq!(
        listed,
        vec![metadata(1, &first_key), metadata(2, &second_key)]
    );

    let (key, loaded) = store
        .load::<Value, Value>(B256::repeat_byte(1), "pw")
        .expect("loads");
    assert_eq!(key.address(), first_key.address());
    assert_eq!(loaded, metadata(1, &first_key));

    store.delete(B256::repeat_byte(1)).expect("deletes");
    assert_eq!(store.list::<Value, Value>().expect("lists").len(), 1);
    assert!(matches!(
        store.delete(B256::repeat_byte(1)),
        Err(SessionStoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.load::<Value, Value>(B256::repeat_byte(1), "pw"),
        Err(SessionStoreError::NotFound { .. })
    ));
}

#[test]
fn never_overwrites_a_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let key = PrivateKeySigner::random();
    store
        .create(&key, &metadata(1, &key), "pw")
        .expect("creates");
    let other = PrivateKeySigner::random();
    let error = store
        .create(&other, &metadata(1, &other), "pw")
        .expect_err("exists");
    assert!(
        matches!(error, SessionStoreError::AlreadyExists { .. }),
        "{error}"
    );
    let (loaded, _) = store
        .load::<Value, Value>(B256::repeat_byte(1), "pw")
        .expect("loads");
    assert_eq!(loaded.address(), key.address(), "the first key is kept");
}

#[test]
fn refuses_wrong_password_and_mismatched_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let key = PrivateKeySigner::random();
    store
        .create(&key, &metadata(1, &key), "pw")
        .expect("creates");
    let error = store
        .load::<Value, Value>(B256::repeat_byte(1), "not the password")
        .expect_err("wrong password");
    assert!(
        matches!(error, SessionStoreError::Keystore { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains(".json"),
        "names the file: {error}"
    );

    let stranger = PrivateKeySigner::random();
    let error = store
        .create(&stranger, &metadata(2, &key), "pw")
        .expect_err("metadata names another key");
    assert!(matches!(error, SessionStoreError::KeyMismatch { .. }));
    assert_eq!(store.list::<Value, Value>().expect("lists").len(), 1);
}

#[test]
fn typed_grants_round_trip() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Grant {
        allowance: u64,
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let key = PrivateKeySigner::random();
    let untyped = metadata(1, &key);
    let metadata = SessionMetadata {
        session_id: untyped.session_id,
        session_key: untyped.session_key,
        key_type: untyped.key_type,
        account: untyped.account,
        chain_id: untyped.chain_id,
        validator: untyped.validator,
        grant: Grant { allowance: 7 },
        created_at: untyped.created_at,
        expires_at: untyped.expires_at,
        label: untyped.label,
    };
    store.create(&key, &metadata, "pw").expect("creates");
    let read = store
        .metadata::<Grant, Value>(B256::repeat_byte(1))
        .expect("reads");
    assert_eq!(read.grant, Grant { allowance: 7 });
}

#[cfg(unix)]
#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let key = PrivateKeySigner::random();
    store
        .create(&key, &metadata(1, &key), "pw")
        .expect("creates");
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(store.dir()), 0o700);
    for entry in std::fs::read_dir(store.dir()).expect("lists") {
        assert_eq!(mode(&entry.expect("entry").path()), 0o600);
    }
}

#[test]
fn cast_decrypts_the_stored_keystore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let key = PrivateKeySigner::random();
    let meta = metadata(1, &key);
    store.create(&key, &meta, "pw").expect("creates");
    let output = Command::new(toolchain_binary("cast"))
        .args(["wallet", "decrypt-keystore", "--keystore-dir"])
        .arg(store.dir())
        .arg(format!("{}.json", meta.session_id))
        .args(["--unsafe-password", "pw"])
        .output()
        .expect("cast runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&key.to_bytes().to_string()),
        "cast printed {stdout}"
    );
}

#[test]
fn metadata_updates_replace_the_sidecar_but_never_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let key = PrivateKeySigner::random();
    let mut session = metadata(1, &key);
    store.create(&key, &session, "pw").expect("creates");

    session.label = "signed".into();
    session.grant = json!({"ownerSignature": "0x01"});
    store.update_metadata(&session).expect("updates");
    let (loaded, stored) = store
        .load::<Value, Value>(session.session_id, "pw")
        .expect("loads");
    assert_eq!(loaded.address(), key.address());
    assert_eq!(stored, session);
    assert_eq!(store.list::<Value, Value>().expect("lists").len(), 1);

    let other_key = metadata(1, &PrivateKeySigner::random());
    assert!(matches!(
        store.update_metadata(&other_key),
        Err(SessionStoreError::KeyMismatch { .. })
    ));
    let unknown = metadata(9, &key);
    assert!(matches!(
        store.update_metadata(&unknown),
        Err(SessionStoreError::NotFound { .. })
    ));
}

#[test]
fn p256_keys_are_stored_and_loaded_as_p256_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let secret = P256Secret::new(B256::repeat_byte(0x42));
    let mut session = metadata(1, &PrivateKeySigner::random());
    session.session_key = Address::repeat_byte(0x1d);
    session.key_type = json!({"type": "p256"});
    store.create_p256(&secret, &session, "pw").expect("creates");
    let (loaded, stored) = store
        .load_p256::<Value, Value>(session.session_id, "pw")
        .expect("loads");
    assert_eq!((loaded, stored), (secret.clone(), session.clone()));
    let error = store
        .load::<Value, Value>(session.session_id, "pw")
        .expect_err("not a secp256k1 key");
    assert!(
        matches!(
            &error,
            SessionStoreError::Keystore {
                source: KeystoreError::Curve {
                    expected: "secp256k1",
                    found: "P-256"
                },
                ..
            }
        ),
        "{error}"
    );
    assert!(matches!(
        store.create_p256(&secret, &session, "pw"),
        Err(SessionStoreError::AlreadyExists { .. })
    ));
}

#[test]
fn a_sidecar_without_a_key_type_reads_as_the_default() {
    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    enum KeyType {
        #[default]
        Secp256k1,
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir);
    let key = PrivateKeySigner::random();
    let session = metadata(1, &key);
    store.create(&key, &session, "pw").expect("creates");
    let path = store
        .dir()
        .join(format!("{}.session.json", session.session_id));
    let mut sidecar: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("reads")).expect("JSON");
    sidecar
        .as_object_mut()
        .expect("an object")
        .remove("keyType");
    std::fs::write(&path, sidecar.to_string()).expect("writes");
    let read = store
        .metadata::<Value, KeyType>(session.session_id)
        .expect("reads");
    assert_eq!(read.key_type, KeyType::Secp256k1);
}
