//! The Ethereum encrypted JSON keystore, version 3 (Web3 Secret Storage), with scrypt.
//!
//! Written here rather than through `eth-keystore` because that crate fixes the scrypt cost
//! (`n = 2^13`), which is neither geth's standard nor its light setting: a session key store must
//! choose its cost deliberately. Files are readable by geth, `cast wallet decrypt-keystore` and
//! every other v3 implementation.
//!
//! A P-256 session key (issue 15) is kept in the same format with `"curve": "P-256"` beside the
//! version: other tools ignore the field and would read its scalar as a secp256k1 key, so leash
//! checks it both ways.

use aes::Aes128;
use alloy_primitives::{Address, B256, FixedBytes, hex, keccak256};
use alloy_signer_local::PrivateKeySigner;
use ctr::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// scrypt cost parameters of a keystore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptParams {
    /// `log2(N)`: the CPU and memory cost.
    pub log_n: u8,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

impl ScryptParams {
    /// geth's standard cost (`N = 2^18, r = 8, p = 1`: 256 MiB, about a second per key). What
    /// a session store uses unless told otherwise.
    pub const STANDARD: Self = Self {
        log_n: 18,
        r: 8,
        p: 1,
    };

    /// geth's light cost (`N = 2^12, r = 8, p = 6`: 4 MiB). For tests and for keys that are
    /// short-lived and protected by other means; it resists brute force far less.
    pub const LIGHT: Self = Self {
        log_n: 12,
        r: 8,
        p: 6,
    };

    fn derive_key(&self, password: &[u8], salt: &[u8]) -> Result<[u8; 32], KeystoreError> {
        let params = scrypt::Params::new(self.log_n, self.r, self.p, DERIVED_KEY_LEN)
            .map_err(|_| KeystoreError::InvalidScryptParams(*self))?;
        let mut derived = [0u8; DERIVED_KEY_LEN];
        scrypt::scrypt(password, salt, &params, &mut derived)
            .map_err(|_| KeystoreError::InvalidScryptParams(*self))?;
        Ok(derived)
    }
}

const DERIVED_KEY_LEN: usize = 32;
const CIPHER: &str = "aes-128-ctr";
const KDF: &str = "scrypt";

/// Why a keystore could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The file is not a version 3 keystore this crate can read.
    #[error("not a readable v3 keystore: {0}")]
    Format(String),
    /// The scrypt parameters are out of range.
    #[error("invalid scrypt parameters {0:?}")]
    InvalidScryptParams(ScryptParams),
    /// The MAC did not match: the password is wrong or the file was altered.
    #[error("wrong password or corrupted keystore")]
    WrongPassword,
    /// The decrypted bytes are not a valid secp256k1 private key.
    #[error("the decrypted key is not a valid secp256k1 private key")]
    InvalidKey,
    /// The keystore holds a key of another curve than the one asked for.
    #[error("the keystore holds a {found} key, not a {expected} key")]
    Curve {
        /// The curve asked for.
        expected: &'static str,
        /// The keystore's curve.
        found: &'static str,
    },
}

/// The `curve` of a P-256 key's keystore.
const P256_CURVE: &str = "P-256";
/// What a keystore without `curve` holds, as every v3 keystore does.
const SECP256K1_CURVE: &str = "secp256k1";

/// A P-256 private key's scalar, big-endian, as a keystore holds it (whether it is a valid scalar
/// is for its user to check). Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct P256Secret(B256);

impl P256Secret {
    /// The scalar `bytes`.
    pub fn new(bytes: B256) -> Self {
        Self(bytes)
    }

    /// The scalar's bytes.
    pub fn to_bytes(&self) -> B256 {
        self.0
    }
}

impl std::fmt::Debug for P256Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P256Secret(..)")
    }
}

/// An encrypted key in the v3 JSON shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EncryptedKey {
    version: u8,
    id: String,
    /// Lowercase hex without `0x`, as geth writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    /// `P-256` for a P-256 key; absent for secp256k1, as other tools write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    curve: Option<String>,
    crypto: Crypto,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Crypto {
    cipher: String,
    cipherparams: CipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: ScryptKdfParams,
    mac: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ScryptKdfParams {
    dklen: usize,
    n: u64,
    r: u32,
    p: u32,
    salt: String,
}

impl EncryptedKey {
    /// Encrypts `signer`'s private key under `password` with fresh random salt and IV.
    pub fn encrypt(
        signer: &PrivateKeySigner,
        password: &[u8],
        params: ScryptParams,
    ) -> Result<Self, KeystoreError> {
        Self::seal(
            signer.to_bytes(),
            Some(signer.address()),
            None,
            password,
            params,
        )
    }

    /// Encrypts a P-256 key's `secret` under `password`, marked `"curve": "P-256"`.
    pub fn encrypt_p256(
        secret: &P256Secret,
        password: &[u8],
        params: ScryptParams,
    ) -> Result<Self, KeystoreError> {
        Self::seal(secret.0, None, Some(P256_CURVE), password, params)
    }

    fn seal(
        secret: B256,
        address: Option<Address>,
        curve: Option<&str>,
        password: &[u8],
        params: ScryptParams,
    ) -> Result<Self, KeystoreError> {
        let salt = B256::random();
        let iv = FixedBytes::<16>::random();
        let derived = params.derive_key(password, salt.as_slice())?;
        let mut ciphertext = secret.0;
        Aes128Ctr::new(derived[..16].into(), iv.as_slice().into()).apply_keystream(&mut ciphertext);
        let mac = keccak256([&derived[16..], ciphertext.as_slice()].concat());
        Ok(Self {
            version: 3,
            id: uuid_v4(FixedBytes::<16>::random()),
            address: address.map(hex::encode),
            curve: curve.map(str::to_owned),
            crypto: Crypto {
                cipher: CIPHER.to_owned(),
                cipherparams: CipherParams {
                    iv: hex::encode(iv),
                },
                ciphertext: hex::encode(ciphertext),
                kdf: KDF.to_owned(),
                kdfparams: ScryptKdfParams {
                    dklen: DERIVED_KEY_LEN,
                    n: 1 << params.log_n,
                    r: params.r,
                    p: params.p,
                    salt: hex::encode(salt),
                },
                mac: hex::encode(mac),
            },
        })
    }

    /// Decrypts the secp256k1 key with `password`, checking the MAC first.
    pub fn decrypt(&self, password: &[u8]) -> Result<PrivateKeySigner, KeystoreError> {
        self.require_curve(SECP256K1_CURVE)?;
        PrivateKeySigner::from_slice(&self.open(password)?).map_err(|_| KeystoreError::InvalidKey)
    }

    /// Decrypts the P-256 key with `password`, checking the MAC first.
    pub fn decrypt_p256(&self, password: &[u8]) -> Result<P256Secret, KeystoreError> {
        self.require_curve(P256_CURVE)?;
        let key = self.open(password)?;
        B256::try_from(key.as_slice())
            .map(P256Secret)
            .map_err(|_| KeystoreError::Format(format!("a P-256 key of {} bytes", key.len())))
    }

    fn require_curve(&self, expected: &'static str) -> Result<(), KeystoreError> {
        let found = match self.curve.as_deref() {
            None => SECP256K1_CURVE,
            Some(P256_CURVE) => P256_CURVE,
            Some(other) => return Err(KeystoreError::Format(format!("curve {other}"))),
        };
        if found == expected {
            Ok(())
        } else {
            Err(KeystoreError::Curve { expected, found })
        }
    }

    /// The decrypted bytes.
    fn open(&self, password: &[u8]) -> Result<Vec<u8>, KeystoreError> {
        if self.version != 3 {
            return Err(KeystoreError::Format(format!("version {}", self.version)));
        }
        let crypto = &self.crypto;
        if crypto.cipher != CIPHER || crypto.kdf != KDF {
            return Err(KeystoreError::Format(format!(
                "cipher {} with kdf {} (only {CIPHER} with {KDF})",
                crypto.cipher, crypto.kdf
            )));
        }
        let kdf = &crypto.kdfparams;
        if kdf.dklen != DERIVED_KEY_LEN || !kdf.n.is_power_of_two() {
            return Err(KeystoreError::Format(format!(
                "scrypt dklen {} and n {}",
                kdf.dklen, kdf.n
            )));
        }
        let params = ScryptParams {
            // `n` is a power of two no larger than 2^63, so its log fits a u8.
            log_n: kdf.n.trailing_zeros() as u8,
            r: kdf.r,
            p: kdf.p,
        };
        let derived = params.derive_key(password, &decode_hex("salt", &kdf.salt)?)?;
        let mut key = decode_hex("ciphertext", &crypto.ciphertext)?;
        let mac = keccak256([&derived[16..], key.as_slice()].concat());
        if mac.as_slice() != decode_hex("mac", &crypto.mac)? {
            return Err(KeystoreError::WrongPassword);
        }
        let iv: [u8; 16] = decode_hex("iv", &crypto.cipherparams.iv)?
            .try_into()
            .map_err(|_| KeystoreError::Format("iv is not 16 bytes".to_owned()))?;
        Aes128Ctr::new(derived[..16].into(), (&iv).into()).apply_keystream(&mut key);
        Ok(key)
    }

    /// The address the file declares, if it declares one (it is not authenticated).
    pub fn address(&self) -> Option<Address> {
        self.address.as_deref().and_then(|a| a.parse().ok())
    }
}

fn decode_hex(field: &str, value: &str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(value).map_err(|e| KeystoreError::Format(format!("{field}: {e}")))
}

/// A random (version 4) UUID in its hyphenated form, the v3 keystore `id`.
fn uuid_v4(mut bytes: FixedBytes<16>) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    /// A keystore written by `cast wallet new` (eth-keystore, `n = 2^13`), password
    /// `testpassword`.
    const CAST_KEYSTORE: &str = r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": "f3cb3f7d525117de95fa84f8f4cdc359"},
            "ciphertext": "f4f6b41dd16f71b1fb411cbaa90b8ad8dfb48f7036df71584f69af001b87c00a",
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32, "n": 8192, "p": 1, "r": 8,
                "salt": "a6096d4d1c0fdad7647a63fc3c26df7d183bee8b3119a9ed0d309e4e50d9f1c3"
            },
            "mac": "84d9b2693e89118cf1f13e0214803b2077df0b6b1cf38cad074a4eb29edd9e60"
        },
        "id": "14bd5a6e-2894-4223-88a7-16a650292ab9",
        "version": 3
    }"#;

    #[test]
    fn decrypts_a_cast_keystore() {
        let key: EncryptedKey = serde_json::from_str(CAST_KEYSTORE).expect("parses");
        let signer = key.decrypt(b"testpassword").expect("decrypts");
        assert_eq!(
            signer.to_bytes(),
            b256!("0xb98c84487535a5856ffa8735f34775b3e61e0325027e44887d56163c8978a6cb")
        );
        assert!(matches!(
            key.decrypt(b"wrong"),
            Err(KeystoreError::WrongPassword)
        ));
    }

    #[test]
    fn round_trips_with_the_chosen_cost() {
        let signer = PrivateKeySigner::random();
        let key = EncryptedKey::encrypt(&signer, b"pw", ScryptParams::LIGHT).expect("encrypts");
        assert_eq!(key.crypto.kdfparams.n, 4096);
        assert_eq!(key.crypto.kdfparams.p, 6);
        assert_eq!(key.address(), Some(signer.address()));
        let json = serde_json::to_string(&key).expect("serializes");
        let read: EncryptedKey = serde_json::from_str(&json).expect("parses");
        assert_eq!(
            read.decrypt(b"pw").expect("decrypts").address(),
            signer.address()
        );
    }

    #[test]
    fn a_p256_key_round_trips_marked_with_its_curve_and_is_not_read_as_secp256k1() {
        let secret = P256Secret::new(B256::repeat_byte(0x42));
        let key =
            EncryptedKey::encrypt_p256(&secret, b"pw", ScryptParams::LIGHT).expect("encrypts");
        let json = serde_json::to_value(&key).expect("serializes");
        assert_eq!(json["curve"], "P-256");
        assert_eq!(json.get("address"), None);
        let read: EncryptedKey = serde_json::from_value(json).expect("parses");
        assert_eq!(read.decrypt_p256(b"pw").expect("decrypts"), secret);
        assert!(matches!(
            read.decrypt_p256(b"wrong"),
            Err(KeystoreError::WrongPassword)
        ));
        assert_eq!(
            read.decrypt(b"pw").map(|_| ()).map_err(|e| e.to_string()),
            Err("the keystore holds a P-256 key, not a secp256k1 key".to_owned())
        );
        let ethereum: EncryptedKey = serde_json::from_str(CAST_KEYSTORE).expect("parses");
        assert!(matches!(
            ethereum.decrypt_p256(b"testpassword"),
            Err(KeystoreError::Curve {
                expected: "P-256",
                found: "secp256k1"
            })
        ));
        assert_eq!(format!("{secret:?}"), "P256Secret(..)");
    }

    #[test]
    fn an_unknown_curve_is_refused() {
        let mut value: serde_json::Value = serde_json::from_str(CAST_KEYSTORE).expect("parses");
        value["curve"] = "ed25519".into();
        let key: EncryptedKey = serde_json::from_value(value).expect("still a keystore");
        assert_eq!(format_error(key.decrypt(b"testpassword")), "curve ed25519");
    }

    /// `CAST_KEYSTORE` with `edit` applied to its JSON, read and decrypted with its password.
    fn decrypt_edited(
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Result<PrivateKeySigner, KeystoreError> {
        let mut value: serde_json::Value = serde_json::from_str(CAST_KEYSTORE).expect("parses");
        edit(&mut value);
        let key: EncryptedKey = serde_json::from_value(value).expect("still a keystore");
        key.decrypt(b"testpassword")
    }

    fn format_error(result: Result<PrivateKeySigner, KeystoreError>) -> String {
        match result {
            Err(KeystoreError::Format(message)) => message,
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(
            format_error(decrypt_edited(|v| v["version"] = 4.into())),
            "version 4"
        );
        assert_eq!(
            format_error(decrypt_edited(
                |v| v["crypto"]["cipher"] = "aes-128-cbc".into()
            )),
            "cipher aes-128-cbc with kdf scrypt (only aes-128-ctr with scrypt)"
        );
        assert_eq!(
            format_error(decrypt_edited(|v| v["crypto"]["kdf"] = "pbkdf2".into())),
            "cipher aes-128-ctr with kdf pbkdf2 (only aes-128-ctr with scrypt)"
        );
        assert_eq!(
            format_error(decrypt_edited(
                |v| v["crypto"]["kdfparams"]["dklen"] = 16.into()
            )),
            "scrypt dklen 16 and n 8192"
        );
        assert_eq!(
            format_error(decrypt_edited(
                |v| v["crypto"]["kdfparams"]["n"] = 8191.into()
            )),
            "scrypt dklen 32 and n 8191"
        );
        assert_eq!(
            format_error(decrypt_edited(|v| v["crypto"]["mac"] = "zz".into())),
            "mac: invalid character 'z' at position 0"
        );
        assert!(matches!(
            decrypt_edited(|v| v["crypto"]["kdfparams"]["r"] = 0.into()),
            Err(KeystoreError::InvalidScryptParams(ScryptParams {
                log_n: 13,
                r: 0,
                p: 1
            }))
        ));
    }

    #[test]
    fn an_altered_ciphertext_fails_the_mac() {
        let altered = decrypt_edited(|v| {
            v["crypto"]["ciphertext"] =
                "04f6b41dd16f71b1fb411cbaa90b8ad8dfb48f7036df71584f69af001b87c00a".into();
        });
        assert!(matches!(altered, Err(KeystoreError::WrongPassword)));
    }

    #[test]
    fn the_declared_address_is_read_when_present() {
        let key: EncryptedKey = serde_json::from_str(CAST_KEYSTORE).expect("parses");
        assert_eq!(key.address(), None);
        let mut value: serde_json::Value = serde_json::from_str(CAST_KEYSTORE).expect("parses");
        value["address"] = "00000000000000000000000000000000000000aa".into();
        let key: EncryptedKey = serde_json::from_value(value).expect("parses");
        assert_eq!(key.address(), Some(Address::with_last_byte(0xaa)));
    }

    #[test]
    fn id_is_a_version_4_uuid() {
        let id = uuid_v4(FixedBytes::repeat_byte(0xff));
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4(FixedBytes::ZERO);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
    }
}
