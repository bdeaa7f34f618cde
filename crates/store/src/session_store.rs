//! Session keys at rest: each session is an encrypted v3 keystore plus a JSON sidecar with what
//! the session is for.
//!
//! A directory holds, per session id `0x…`, the keystore `0x….json` (readable by any Ethereum
//! tool, when the key is secp256k1) and the sidecar `0x….session.json`. Both are created with `create_new`, so an existing
//! session is never overwritten, and with mode `0600` on unix (the directory `0700`).

use crate::keystore::{EncryptedKey, KeystoreError, P256Secret, ScryptParams};
use alloy_primitives::{Address, B256};
use alloy_signer_local::PrivateKeySigner;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

/// The environment variable naming leash's home directory; sessions live in its `sessions`.
pub const LEASH_HOME_ENV: &str = "LEASH_HOME";

const KEYSTORE_SUFFIX: &str = ".json";
const METADATA_SUFFIX: &str = ".session.json";

/// What a stored session is for: everything but the key.
///
/// `G` is the grant as it was signed, `K` how the key signs (leash-core's `SessionKeyType`). Both
/// default to untyped JSON so stores written by other versions stay readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMetadata<G = serde_json::Value, K = serde_json::Value> {
    /// The session id, as the validator computes it from the grant.
    pub session_id: B256,
    /// The session key's address, or the signer id of a key that has none (checked against the
    /// decrypted secp256k1 key on load; leash-sdk checks a P-256 key's).
    pub session_key: Address,
    /// How the key signs; absent in sessions stored before keys other than secp256k1 were.
    #[serde(default)]
    pub key_type: K,
    /// The account the session acts for.
    pub account: Address,
    /// The chain the grant is bound to.
    pub chain_id: u64,
    /// The session validator the grant is bound to.
    pub validator: Address,
    /// The grant.
    pub grant: G,
    /// When the session was stored, in seconds since the Unix epoch.
    pub created_at: u64,
    /// When the grant expires, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// A name for people.
    pub label: String,
}

/// Why a session store operation failed; every variant names the file or directory involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionStoreError {
    /// Neither `$LEASH_HOME` nor a home directory is known.
    #[error("no session directory: set {LEASH_HOME_ENV} or HOME")]
    NoHomeDirectory,
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A session with this id is already stored.
    #[error("session {id} already exists at {path}")]
    AlreadyExists {
        /// The session id.
        id: B256,
        /// The existing file.
        path: PathBuf,
    },
    /// No session with this id is stored.
    #[error("session {id} not found in {dir}")]
    NotFound {
        /// The session id.
        id: B256,
        /// The store's directory.
        dir: PathBuf,
    },
    /// A file is not valid JSON of the expected shape.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// The keystore could not be encrypted or decrypted.
    #[error("{path}: {source}")]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// The cause.
        source: KeystoreError,
    },
    /// The metadata's session key is not the key being stored, or not the key that was decrypted.
    #[error("{path}: the key's address {actual} is not the session key {expected}")]
    KeyMismatch {
        /// The file whose key disagrees.
        path: PathBuf,
        /// The session key the metadata names.
        expected: Address,
        /// The address of the actual key.
        actual: Address,
    },
}

/// A directory of stored session keys.
#[derive(Clone, Debug)]
pub struct SessionStore {
    dir: PathBuf,
    scrypt: ScryptParams,
}

impl SessionStore {
    /// The store in `dir`, created (mode `0700` on unix) if missing. New keys are encrypted with
    /// [`ScryptParams::STANDARD`].
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SessionStoreError> {
        let dir = dir.into();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|source| SessionStoreError::Io {
                path: dir.clone(),
                source,
            })?;
        Ok(Self {
            dir,
            scrypt: ScryptParams::STANDARD,
        })
    }

    /// The store in [`Self::default_dir`].
    pub fn open_default() -> Result<Self, SessionStoreError> {
        Self::open(Self::default_dir()?)
    }

    /// `$LEASH_HOME/sessions`, or `~/.leash/sessions` when `LEASH_HOME` is not set.
    pub fn default_dir() -> Result<PathBuf, SessionStoreError> {
        match std::env::var_os(LEASH_HOME_ENV) {
            Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join("sessions")),
            _ => std::env::home_dir()
                .map(|home| home.join(".leash").join("sessions"))
                .ok_or(SessionStoreError::NoHomeDirectory),
        }
    }

    /// Encrypts new keys with `scrypt` instead of [`ScryptParams::STANDARD`] (existing keystores
    /// carry their own parameters).
    pub fn with_scrypt_params(mut self, scrypt: ScryptParams) -> Self {
        self.scrypt = scrypt;
        self
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores `key` encrypted under `password`, with `metadata`. Fails if the session id is
    /// already stored or if `metadata.session_key` is not `key`'s address.
    pub fn create<G: Serialize, K: Serialize>(
        &self,
        key: &PrivateKeySigner,
        metadata: &SessionMetadata<G, K>,
        password: impl AsRef<[u8]>,
    ) -> Result<(), SessionStoreError> {
        if key.address() != metadata.session_key {
            return Err(SessionStoreError::KeyMismatch {
                path: self.metadata_path(metadata.session_id),
                expected: metadata.session_key,
                actual: key.address(),
            });
        }
        self.write_session(metadata, |path| {
            EncryptedKey::encrypt(key, password.as_ref(), self.scrypt)
                .map_err(|source| SessionStoreError::Keystore { path, source })
        })
    }

    /// Stores a P-256 key's `secret` encrypted under `password`, with `metadata`. Fails if the
    /// session id is already stored. The signer id in `metadata.session_key` is not checked here:
    /// it depends on how the key signs (`key_type`), which leash-sdk knows.
    pub fn create_p256<G: Serialize, K: Serialize>(
        &self,
        secret: &P256Secret,
        metadata: &SessionMetadata<G, K>,
        password: impl AsRef<[u8]>,
    ) -> Result<(), SessionStoreError> {
        self.write_session(metadata, |path| {
            EncryptedKey::encrypt_p256(secret, password.as_ref(), self.scrypt)
                .map_err(|source| SessionStoreError::Keystore { path, source })
        })
    }

    /// Writes `metadata`, then the keystore `encrypt` makes (given its path).
    fn write_session<G: Serialize, K: Serialize>(
        &self,
        metadata: &SessionMetadata<G, K>,
        encrypt: impl FnOnce(PathBuf) -> Result<EncryptedKey, SessionStoreError>,
    ) -> Result<(), SessionStoreError> {
        let id = metadata.session_id;
        let keystore_path = self.keystore_path(id);
        let metadata_path = self.metadata_path(id);
        let encrypted = encrypt(keystore_path.clone())?;
        let keystore_json = to_json(&keystore_path, &encrypted)?;
        let metadata_json = to_json(&metadata_path, metadata)?;
        // The metadata goes first: `list` reads it, so a session is listed only once its key is
        // also written (a failed key write removes the metadata again).
        write_new(id, &metadata_path, &metadata_json)?;
        if let Err(error) = write_new(id, &keystore_path, &keystore_json) {
            // Best effort: the metadata file is ours, created just above.
            let _ = fs::remove_file(&metadata_path);
            return Err(error);
        }
        Ok(())
    }

    /// Replaces the metadata of stored session `id` (to attach an owner signature obtained later,
    /// say). The session id and key cannot change. The new file is written beside the old one and
    /// renamed over it, so a crash leaves one or the other, never half of each.
    pub fn update_metadata<G: Serialize, K: Serialize>(
        &self,
        metadata: &SessionMetadata<G, K>,
    ) -> Result<(), SessionStoreError> {
        let id = metadata.session_id;
        let path = self.metadata_path(id);
        let current = self.metadata::<serde_json::Value, serde_json::Value>(id)?;
        if current.session_key != metadata.session_key {
            return Err(SessionStoreError::KeyMismatch {
                path,
                expected: current.session_key,
                actual: metadata.session_key,
            });
        }
        let staging = self.dir.join(format!("{id}{METADATA_SUFFIX}.new"));
        // A leftover from an interrupted update is ours and stale.
        let _ = fs::remove_file(&staging);
        write_new(id, &staging, &to_json(&path, metadata)?)?;
        fs::rename(&staging, &path).map_err(|source| SessionStoreError::Io { path, source })
    }

    /// The metadata of every stored session, ordered by session id.
    pub fn list<G: DeserializeOwned, K: DeserializeOwned + Default>(
        &self,
    ) -> Result<Vec<SessionMetadata<G, K>>, SessionStoreError> {
        let entries = fs::read_dir(&self.dir).map_err(|source| self.io_error(source))?;
        let mut sessions = Vec::new();
        for entry in entries {
            let path = entry.map_err(|source| self.io_error(source))?.path();
            let is_metadata = path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(METADATA_SUFFIX));
            if is_metadata {
                sessions.push(read_json::<SessionMetadata<G, K>>(&path)?);
            }
        }
        sessions.sort_by_key(|session| session.session_id);
        Ok(sessions)
    }

    /// The metadata of session `id`, without decrypting its key.
    pub fn metadata<G: DeserializeOwned, K: DeserializeOwned + Default>(
        &self,
        id: B256,
    ) -> Result<SessionMetadata<G, K>, SessionStoreError> {
        let path = self.metadata_path(id);
        if !path.exists() {
            return Err(self.not_found(id));
        }
        read_json(&path)
    }

    /// The secp256k1 session key and metadata of session `id`, decrypted with `password`.
    pub fn load<G: DeserializeOwned, K: DeserializeOwned + Default>(
        &self,
        id: B256,
        password: impl AsRef<[u8]>,
    ) -> Result<(PrivateKeySigner, SessionMetadata<G, K>), SessionStoreError> {
        let metadata = self.metadata::<G, K>(id)?;
        let (key, path) = self.decrypt(id, |key| key.decrypt(password.as_ref()))?;
        if key.address() != metadata.session_key {
            return Err(SessionStoreError::KeyMismatch {
                path,
                expected: metadata.session_key,
                actual: key.address(),
            });
        }
        Ok((key, metadata))
    }

    /// The P-256 session key and metadata of session `id`, decrypted with `password` (the signer
    /// id is leash-sdk's to check, as for [`Self::create_p256`]).
    pub fn load_p256<G: DeserializeOwned, K: DeserializeOwned + Default>(
        &self,
        id: B256,
        password: impl AsRef<[u8]>,
    ) -> Result<(P256Secret, SessionMetadata<G, K>), SessionStoreError> {
        let metadata = self.metadata::<G, K>(id)?;
        let (secret, _) = self.decrypt(id, |key| key.decrypt_p256(password.as_ref()))?;
        Ok((secret, metadata))
    }

    /// The keystore of session `id` decrypted by `decrypt`, and its path.
    fn decrypt<T>(
        &self,
        id: B256,
        decrypt: impl FnOnce(&EncryptedKey) -> Result<T, KeystoreError>,
    ) -> Result<(T, PathBuf), SessionStoreError> {
        let path = self.keystore_path(id);
        let encrypted: EncryptedKey = read_json(&path)?;
        match decrypt(&encrypted) {
            Ok(key) => Ok((key, path)),
            Err(source) => Err(SessionStoreError::Keystore { path, source }),
        }
    }

    /// Deletes session `id`: its key and its metadata.
    pub fn delete(&self, id: B256) -> Result<(), SessionStoreError> {
        let mut found = false;
        // The key first: a session whose metadata outlives its key is listed but unusable, which
        // is visible; the reverse would leave an encrypted key nobody lists.
        for path in [self.keystore_path(id), self.metadata_path(id)] {
            match fs::remove_file(&path) {
                Ok(()) => found = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(SessionStoreError::Io { path, source }),
            }
        }
        if found {
            Ok(())
        } else {
            Err(self.not_found(id))
        }
    }

    fn keystore_path(&self, id: B256) -> PathBuf {
        self.dir.join(format!("{id}{KEYSTORE_SUFFIX}"))
    }

    fn metadata_path(&self, id: B256) -> PathBuf {
        self.dir.join(format!("{id}{METADATA_SUFFIX}"))
    }

    fn io_error(&self, source: io::Error) -> SessionStoreError {
        SessionStoreError::Io {
            path: self.dir.clone(),
            source,
        }
    }

    fn not_found(&self, id: B256) -> SessionStoreError {
        SessionStoreError::NotFound {
            id,
            dir: self.dir.clone(),
        }
    }
}

fn to_json(path: &Path, value: &impl Serialize) -> Result<Vec<u8>, SessionStoreError> {
    serde_json::to_vec_pretty(value).map_err(|source| SessionStoreError::Json {
        path: path.to_owned(),
        source,
    })
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, SessionStoreError> {
    let bytes = fs::read(path).map_err(|source| SessionStoreError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| SessionStoreError::Json {
        path: path.to_owned(),
        source,
    })
}

/// Writes a file that must not exist yet, readable by its owner only.
fn write_new(id: B256, path: &Path, contents: &[u8]) -> Result<(), SessionStoreError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io_error = |source| SessionStoreError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            SessionStoreError::AlreadyExists {
                id,
                path: path.to_owned(),
            }
        } else {
            io_error(source)
        }
    })?;
    if let Err(source) = file.write_all(contents).and_then(|()| file.sync_all()) {
        // Best effort: the file is ours, created just above, and is incomplete.
        let _ = fs::remove_file(path);
        return Err(io_error(source));
    }
    Ok(())
}
