//! WebAuthn assertions as `SessionSigners` checks them (signer kinds 4 and 5): the authenticator
//! data and client data a passkey signs over a UserOperation hash, and their place in the key
//! signature (docs/architecture.md, "Session signers that are not EOAs").

use crate::session_signer::P256PublicKey;
use alloy_primitives::{B256, Bytes};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The authenticator data flag the validator requires: the user was present.
pub const USER_PRESENT: u8 = 0x01;
/// The authenticator data flag of a user verified by the authenticator (not required on chain).
pub const USER_VERIFIED: u8 = 0x04;

/// The shortest authenticator data: `rpIdHash (32) ‖ flags (1) ‖ signCount (4)`.
pub const MIN_AUTHENTICATOR_DATA: usize = 37;

/// Where the validator looks for the client data's type, at `typeIndex`.
const TYPE_FIELD: &str = r#""type":"webauthn.get""#;
/// Where the validator looks for the challenge, at `challengeIndex`: this, then the 43 base64url
/// characters of the UserOperation hash and a closing quote.
const CHALLENGE_FIELD: &str = r#""challenge":""#;

/// The bytes before the authenticator data in a WebAuthn key signature: `x ‖ y ‖ r ‖ s` and three
/// `uint16` (challenge index, type index, authenticator data length).
pub const WEBAUTHN_HEADER: usize = 128 + 6;

/// Why authenticator data and client data cannot make an assertion the validator accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebAuthnError {
    /// A relying party id is a host name.
    #[error("{0:?} is not a relying party id (a host name: 1 to 253 letters, digits, '-' and '.')")]
    RpId(String),
    /// Shorter than `rpIdHash ‖ flags ‖ signCount`.
    #[error("authenticator data is at least {MIN_AUTHENTICATOR_DATA} bytes, not {0}")]
    AuthenticatorDataLength(usize),
    /// The validator requires the user-present flag.
    #[error("the authenticator data's flags {0:#04x} lack user presence (0x01)")]
    UserNotPresent(u8),
    /// The client data has no `"type":"webauthn.get"`.
    #[error("the client data has no \"type\":\"webauthn.get\"")]
    NoType,
    /// The client data has no `"challenge":"`.
    #[error("the client data has no \"challenge\"")]
    NoChallenge,
    /// The key signature's header holds lengths and indexes as `uint16`.
    #[error("authenticator data and client data are at most 65,535 bytes each")]
    TooLong,
}

/// A relying party id: the host name a passkey is bound to, whose SHA-256 begins the
/// authenticator data. Checked on construction, so the standard client data it makes is JSON.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RpId(String);

impl RpId {
    /// `id` when it is a host name (letters, digits, `-` and `.`, at most 253 characters).
    pub fn new(id: impl Into<String>) -> Result<Self, WebAuthnError> {
        let id = id.into();
        let host = (1..=253).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if host {
            Ok(Self(id))
        } else {
            Err(WebAuthnError::RpId(id))
        }
    }

    /// `sha256(rpId)`: the first 32 bytes of the authenticator data, part of the signer id.
    pub fn hash(&self) -> B256 {
        B256::from(<[u8; 32]>::from(Sha256::digest(self.0.as_bytes())))
    }

    /// The id itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RpId {
    type Error = WebAuthnError;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl From<RpId> for String {
    fn from(id: RpId) -> Self {
        id.0
    }
}

impl fmt::Display for RpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The challenge of a UserOperation hash: its base64url, without padding (43 characters).
pub fn challenge(user_op_hash: B256) -> String {
    URL_SAFE_NO_PAD.encode(user_op_hash)
}

/// An assertion's signed parts and where the validator finds the type and the challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebAuthnAssertion {
    authenticator_data: Bytes,
    client_data_json: String,
    challenge_index: u16,
    type_index: u16,
}

impl WebAuthnAssertion {
    /// The assertion of `authenticator_data` and `client_data_json` as an authenticator returned
    /// them; the indexes are found in the client data.
    pub fn new(authenticator_data: Bytes, client_data_json: String) -> Result<Self, WebAuthnError> {
        let len = authenticator_data.len();
        let flags = *authenticator_data
            .get(32)
            .filter(|_| len >= MIN_AUTHENTICATOR_DATA)
            .ok_or(WebAuthnError::AuthenticatorDataLength(len))?;
        if flags & USER_PRESENT == 0 {
            return Err(WebAuthnError::UserNotPresent(flags));
        }
        let type_index = client_data_json
            .find(TYPE_FIELD)
            .ok_or(WebAuthnError::NoType)?;
        let challenge_index = client_data_json
            .find(CHALLENGE_FIELD)
            .ok_or(WebAuthnError::NoChallenge)?;
        let fits = |n: usize| u16::try_from(n).map_err(|_| WebAuthnError::TooLong);
        fits(len)?;
        fits(client_data_json.len())?;
        Ok(Self {
            authenticator_data,
            challenge_index: fits(challenge_index)?,
            type_index: fits(type_index)?,
            client_data_json,
        })
    }

    /// What a browser's authenticator returns for `rp_id` over `user_op_hash`: authenticator data
    /// `sha256(rpId) ‖ flags (user present and verified) ‖ signCount`, client data
    /// `{"type":"webauthn.get","challenge":"…","origin":"https://<rpId>","crossOrigin":false}`.
    /// Its length does not depend on the hash or the count, so it is also the shape of an
    /// estimate's placeholder.
    pub fn standard(rp_id: &RpId, user_op_hash: B256, sign_count: u32) -> Self {
        let authenticator_data: Bytes = [
            rp_id.hash().as_slice(),
            &[USER_PRESENT | USER_VERIFIED],
            &sign_count.to_be_bytes(),
        ]
        .concat()
        .into();
        let client_data_json = format!(
            r#"{{{TYPE_FIELD},{CHALLENGE_FIELD}{}","origin":"https://{rp_id}","crossOrigin":false}}"#,
            challenge(user_op_hash)
        );
        // Infallible: the flags say user present, both fields are there, and a host name of at
        // most 253 characters keeps every length far below 65,536.
        Self::new(authenticator_data, client_data_json)
            .unwrap_or_else(|error| unreachable!("the standard assertion: {error}"))
    }

    /// Whether the client data's challenge, where the validator reads it, is `user_op_hash`'s:
    /// `"challenge":"<its base64url>"` at the challenge index. An assertion over another
    /// operation (or another ceremony's challenge) would fail validation.
    pub fn is_for(&self, user_op_hash: B256) -> bool {
        let expected = format!(r#"{CHALLENGE_FIELD}{}""#, challenge(user_op_hash));
        self.client_data_json[usize::from(self.challenge_index)..].starts_with(&expected)
    }

    /// The authenticator data.
    pub fn authenticator_data(&self) -> &Bytes {
        &self.authenticator_data
    }

    /// The client data JSON.
    pub fn client_data_json(&self) -> &str {
        &self.client_data_json
    }

    /// What the P-256 key signs with ECDSA over SHA-256: `authenticatorData ‖
    /// sha256(clientDataJSON)`, so the validator verifies `sha256` of it.
    pub fn signed_message(&self) -> Vec<u8> {
        let client_data_hash: [u8; 32] = Sha256::digest(self.client_data_json.as_bytes()).into();
        [self.authenticator_data.as_ref(), &client_data_hash].concat()
    }

    /// The key signature of kinds 4 and 5: `x ‖ y ‖ r ‖ s ‖ uint16 challengeIndex ‖ uint16
    /// typeIndex ‖ uint16 authenticatorDataLength ‖ authenticatorData ‖ clientDataJSON`.
    pub fn key_signature(&self, key: &P256PublicKey, r: B256, s: B256) -> Bytes {
        // `new` checked that the length fits.
        let authenticator_data_len = self.authenticator_data.len() as u16;
        [
            key.x.as_slice(),
            key.y.as_slice(),
            r.as_slice(),
            s.as_slice(),
            &self.challenge_index.to_be_bytes(),
            &self.type_index.to_be_bytes(),
            &authenticator_data_len.to_be_bytes(),
            &self.authenticator_data,
            self.client_data_json.as_bytes(),
        ]
        .concat()
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    fn rp_id() -> RpId {
        RpId::new("leash.example").expect("a host name")
    }

    #[test]
    fn the_challenge_is_base64url_without_padding() {
        let hash = b256!("fbff000000000000000000000000000000000000000000000000000000000001");
        assert_eq!(
            challenge(hash),
            "-_8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"
        );
        assert_eq!(challenge(B256::ZERO).len(), 43);
    }

    #[test]
    fn the_rp_id_hash_is_its_sha256() {
        // `printf localhost | sha256sum`
        assert_eq!(
            RpId::new("localhost").expect("a host name").hash(),
            b256!("49960de5880e8c687434170f6476605b8fe4aeb9a28632c7995cf3ba831d9763")
        );
    }

    #[test]
    fn relying_party_ids_are_host_names() {
        for bad in [
            "",
            "a\"b",
            "https://x.example",
            "x.example/",
            "x y",
            &"a".repeat(254),
        ] {
            assert_eq!(RpId::new(bad), Err(WebAuthnError::RpId(bad.to_owned())));
        }
        assert_eq!(rp_id().as_str(), "leash.example");
        assert_eq!(
            serde_json::from_str::<RpId>("\"x\\\"y\"")
                .map_err(|e| e.to_string())
                .expect_err("refused"),
            r#""x\"y" is not a relying party id (a host name: 1 to 253 letters, digits, '-' and '.')"#
        );
    }

    #[test]
    fn the_standard_assertion_names_type_and_challenge_at_its_indexes() {
        let hash = B256::repeat_byte(0x42);
        let assertion = WebAuthnAssertion::standard(&rp_id(), hash, 7);
        let json = assertion.client_data_json();
        assert_eq!(
            json,
            format!(
                r#"{{"type":"webauthn.get","challenge":"{}","origin":"https://leash.example","crossOrigin":false}}"#,
                challenge(hash)
            )
        );
        let at = |index: u16, len: usize| &json[usize::from(index)..usize::from(index) + len];
        assert_eq!(at(assertion.type_index, 21), r#""type":"webauthn.get""#);
        assert_eq!(
            at(assertion.challenge_index, 57),
            format!(r#""challenge":"{}""#, challenge(hash))
        );
        let data = assertion.authenticator_data();
        assert_eq!(data.len(), MIN_AUTHENTICATOR_DATA);
        assert_eq!(&data[..32], rp_id().hash().as_slice());
        assert_eq!(data[32], 0x05);
        assert_eq!(&data[33..], &[0, 0, 0, 7]);
        assert_eq!(
            WebAuthnAssertion::standard(&rp_id(), B256::ZERO, u32::MAX)
                .client_data_json()
                .len(),
            json.len()
        );
    }

    #[test]
    fn an_assertion_is_for_the_hash_its_challenge_encodes_where_the_validator_reads_it() {
        let hash = B256::repeat_byte(0x42);
        let assertion = WebAuthnAssertion::standard(&rp_id(), hash, 0);
        assert!(assertion.is_for(hash));
        assert!(!assertion.is_for(B256::repeat_byte(0x43)));
        // The validator reads the first "challenge": a later one with the hash does not count.
        let data = assertion.authenticator_data().clone();
        let json = format!(
            r#"{{"type":"webauthn.get","challenge":"{}","x":{{"challenge":"{}"}}}}"#,
            challenge(B256::ZERO),
            challenge(hash)
        );
        let decoy = WebAuthnAssertion::new(data.clone(), json).expect("well formed");
        assert!(!decoy.is_for(hash));
        assert!(decoy.is_for(B256::ZERO));
        let cut = r#"{"type":"webauthn.get","challenge":"abc"#;
        let short = WebAuthnAssertion::new(data, cut.to_owned()).expect("well formed");
        assert!(!short.is_for(hash));
    }

    #[test]
    fn the_key_signature_is_key_signature_header_and_both_parts() {
        let assertion = WebAuthnAssertion::standard(&rp_id(), B256::ZERO, 0);
        let key = P256PublicKey {
            x: B256::repeat_byte(1),
            y: B256::repeat_byte(2),
        };
        let (r, s) = (B256::repeat_byte(3), B256::repeat_byte(4));
        let signature = assertion.key_signature(&key, r, s);
        assert_eq!(
            &signature[..128],
            [[1; 32], [2; 32], [3; 32], [4; 32]].concat().as_slice()
        );
        assert_eq!(
            &signature[128..WEBAUTHN_HEADER],
            [0, assertion.challenge_index as u8, 0, 1, 0, 37].as_slice()
        );
        assert_eq!(
            &signature[WEBAUTHN_HEADER..WEBAUTHN_HEADER + 37],
            assertion.authenticator_data().as_ref()
        );
        assert_eq!(
            &signature[WEBAUTHN_HEADER + 37..],
            assertion.client_data_json().as_bytes()
        );
        let message = assertion.signed_message();
        assert_eq!(&message[..37], assertion.authenticator_data().as_ref());
        let client_data_hash: [u8; 32] =
            Sha256::digest(assertion.client_data_json().as_bytes()).into();
        assert_eq!(&message[37..], client_data_hash.as_slice());
    }

    #[test]
    fn an_assertion_the_validator_would_refuse_is_refused() {
        let json = || WebAuthnAssertion::standard(&rp_id(), B256::ZERO, 0).client_data_json;
        let data = |flags: u8| -> Bytes { [[0; 32].as_slice(), &[flags], &[0; 4]].concat().into() };
        assert_eq!(
            WebAuthnAssertion::new(Bytes::from(vec![0x05; 36]), json()),
            Err(WebAuthnError::AuthenticatorDataLength(36))
        );
        assert_eq!(
            WebAuthnAssertion::new(data(0x04), json()),
            Err(WebAuthnError::UserNotPresent(0x04))
        );
        assert_eq!(
            WebAuthnAssertion::new(
                data(0x01),
                json().replace("webauthn.get", "webauthn.create")
            ),
            Err(WebAuthnError::NoType)
        );
        assert_eq!(
            WebAuthnAssertion::new(data(0x01), json().replace("challenge", "nonce")),
            Err(WebAuthnError::NoChallenge)
        );
        let long = format!("{}{}", " ".repeat(65_536), json());
        assert_eq!(
            WebAuthnAssertion::new(data(0x01), long),
            Err(WebAuthnError::TooLong)
        );
        let assertion = WebAuthnAssertion::new(data(0x01), json()).expect("accepted");
        assert_eq!(assertion.authenticator_data(), &data(0x01));
    }
}
