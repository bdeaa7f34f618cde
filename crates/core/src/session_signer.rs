//! Session keys that are not secp256k1 EOAs (issue 15): the signer kind a signature's mode byte
//! names, the signer id a grant's `sessionKey` holds, the key signatures `SessionSigners` checks,
//! and the placeholders to estimate with (docs/architecture.md, "Session signers that are not
//! EOAs").

use crate::{
    error::OperationError,
    prepare::FinalizeError,
    signing::{EIP191_PLACEHOLDER_SIGNATURE, sign_hash_raw},
    webauthn::{MIN_AUTHENTICATOR_DATA, RpId, WEBAUTHN_HEADER, WebAuthnAssertion},
};
use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_signer::SignerSync;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The mode byte holds the signer kind above the form: `rules flag | kind << SIG_SIGNER_SHIFT |
/// form`.
pub const SIG_SIGNER_SHIFT: u8 = 2;
/// Signer kind: a secp256k1 EOA; the key signature is `r ‖ s ‖ v`, the id recovered.
pub const SIGNER_SECP256K1: u8 = 0;
/// Signer kind: an ERC-1271 contract; the key signature is `signer ‖ its signature`.
pub const SIGNER_CONTRACT: u8 = 1;
/// Signer kind: a P-256 key checked by the P256VERIFY precompile; `x ‖ y ‖ r ‖ s`.
pub const SIGNER_P256: u8 = 2;
/// Signer kind: a P-256 key checked by leash's Solidity verifier.
pub const SIGNER_P256_FALLBACK: u8 = 3;
/// Signer kind: a passkey's WebAuthn assertion checked by the precompile.
pub const SIGNER_WEBAUTHN: u8 = 4;
/// Signer kind: a WebAuthn assertion checked by leash's Solidity verifier.
pub const SIGNER_WEBAUTHN_FALLBACK: u8 = 5;

/// A word for the `r` and `s` of a P-256 placeholder: non-zero and below half the curve order,
/// so a verifier runs its whole check before it fails, as it does for a real signature.
const PLACEHOLDER_WORD: B256 = B256::repeat_byte(0x11);

/// Who checks a P-256 signature. Both verify the same curve: the choice costs gas, never security
/// (the precompile named on a chain without it finds no code, and the signature fails).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum P256Verification {
    /// The P256VERIFY precompile at `0x100` (EIP-7951 on Osaka, RIP-7212 on rollups).
    Precompile,
    /// `P256Verifier`, leash's Solidity verifier, for chains without the precompile.
    Fallback,
}

/// How the validator checks a session key's signature: the kind in the signature's mode byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignerKind {
    /// A secp256k1 EOA (the original session key).
    Secp256k1,
    /// An ERC-1271 contract.
    Contract,
    /// A raw P-256 key, which signs the UserOperation hash as its digest.
    P256(P256Verification),
    /// A P-256 passkey, which signs WebAuthn assertions.
    WebAuthn(P256Verification),
}

impl SignerKind {
    /// The kind's number, as `SessionTypes.sol` names it (`SIGNER_…`).
    pub const fn code(self) -> u8 {
        match self {
            Self::Secp256k1 => SIGNER_SECP256K1,
            Self::Contract => SIGNER_CONTRACT,
            Self::P256(P256Verification::Precompile) => SIGNER_P256,
            Self::P256(P256Verification::Fallback) => SIGNER_P256_FALLBACK,
            Self::WebAuthn(P256Verification::Precompile) => SIGNER_WEBAUTHN,
            Self::WebAuthn(P256Verification::Fallback) => SIGNER_WEBAUTHN_FALLBACK,
        }
    }

    /// The kind's bits in the mode byte.
    pub const fn mode_bits(self) -> u8 {
        self.code() << SIG_SIGNER_SHIFT
    }

    /// The signer id a key signature of this kind speaks for, read as `SessionSigners` reads it;
    /// `None` for a shape it refuses. A secp256k1 signature names its signer only by recovery over
    /// the hash, so it names none here.
    pub fn named_signer(self, key_signature: &[u8]) -> Option<Address> {
        match self {
            Self::Secp256k1 => None,
            Self::Contract => key_signature.get(..20).map(Address::from_slice),
            Self::P256(_) => (key_signature.len() == 128)
                .then(|| Address::from_word(keccak256(&key_signature[..64]))),
            Self::WebAuthn(_) => webauthn_signer(key_signature),
        }
    }
}

impl fmt::Display for SignerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, verification) = match self {
            Self::Secp256k1 => return f.write_str("secp256k1"),
            Self::Contract => return f.write_str("contract"),
            Self::P256(verification) => ("P-256", verification),
            Self::WebAuthn(verification) => ("WebAuthn", verification),
        };
        match verification {
            P256Verification::Precompile => write!(f, "{name} (precompile)"),
            P256Verification::Fallback => write!(f, "{name} (Solidity verifier)"),
        }
    }
}

/// The WebAuthn key signature's signer, `keccak256(x ‖ y ‖ rpIdHash)[12:]`, once its header and
/// the indexes fit, as `SessionSigners._checkWebAuthn` requires.
fn webauthn_signer(key_signature: &[u8]) -> Option<Address> {
    if key_signature.len() < WEBAUTHN_HEADER {
        return None;
    }
    let word = |at: usize| {
        usize::from(u16::from_be_bytes([
            key_signature[at],
            key_signature[at + 1],
        ]))
    };
    let (challenge_index, type_index, data_len) = (word(128), word(130), word(132));
    let client_data_len = key_signature
        .len()
        .checked_sub(WEBAUTHN_HEADER + data_len)
        .filter(|_| data_len >= MIN_AUTHENTICATOR_DATA)?;
    let fits = type_index + 21 <= client_data_len && challenge_index + 57 <= client_data_len;
    let rp_id_hash = &key_signature[WEBAUTHN_HEADER..WEBAUTHN_HEADER + 32];
    fits.then(|| Address::from_word(keccak256([&key_signature[..64], rp_id_hash].concat())))
}

/// A P-256 public key, the affine point's coordinates big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct P256PublicKey {
    /// x.
    pub x: B256,
    /// y.
    pub y: B256,
}

impl P256PublicKey {
    /// A raw P-256 key's signer id: `keccak256(x ‖ y)[12:]`.
    pub fn signer_id(&self) -> Address {
        Address::from_word(keccak256([self.x, self.y].concat()))
    }

    /// A passkey's signer id for the relying party of `rp_id_hash`: `keccak256(x ‖ y ‖
    /// rpIdHash)[12:]`, so an assertion for another relying party names another signer.
    pub fn webauthn_signer_id(&self, rp_id_hash: B256) -> Address {
        Address::from_word(keccak256([self.x, self.y, rp_id_hash].concat()))
    }

    /// The key signature of kinds 2 and 3: `x ‖ y ‖ r ‖ s`.
    pub fn key_signature(&self, r: B256, s: B256) -> Bytes {
        [self.x, self.y, r, s].concat().into()
    }
}

/// How a session key signs, without its secret: what a session's record keeps beside its signer
/// id, so an operation can be estimated and its signature checked where the key is not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum SessionKeyType {
    /// A secp256k1 key; the signer id is its address.
    #[default]
    #[serde(rename = "secp256k1")]
    Secp256k1,
    /// An ERC-1271 contract; the signer id is its address.
    #[serde(rename = "contract")]
    Contract {
        /// A signature of the contract's shape that it refuses (a garbage ECDSA signature for
        /// an ECDSA-owned contract): what an estimate carries in its place.
        placeholder: Bytes,
    },
    /// A raw P-256 key.
    #[serde(rename = "p256")]
    P256 {
        /// The key.
        public_key: P256PublicKey,
        /// Who checks its signatures.
        verification: P256Verification,
    },
    /// A passkey, bound to one relying party.
    #[serde(rename = "webauthn")]
    WebAuthn {
        /// The key.
        public_key: P256PublicKey,
        /// The relying party it signs for.
        rp_id: RpId,
        /// Who checks its signatures.
        verification: P256Verification,
    },
}

impl SessionKeyType {
    /// The kind the signature's mode byte names.
    pub fn kind(&self) -> SignerKind {
        match self {
            Self::Secp256k1 => SignerKind::Secp256k1,
            Self::Contract { .. } => SignerKind::Contract,
            Self::P256 { verification, .. } => SignerKind::P256(*verification),
            Self::WebAuthn { verification, .. } => SignerKind::WebAuthn(*verification),
        }
    }

    /// The signer id when the key determines it (P-256 and WebAuthn); an address otherwise.
    pub fn derived_id(&self) -> Option<Address> {
        match self {
            Self::Secp256k1 | Self::Contract { .. } => None,
            Self::P256 { public_key, .. } => Some(public_key.signer_id()),
            Self::WebAuthn {
                public_key, rp_id, ..
            } => Some(public_key.webauthn_signer_id(rp_id.hash())),
        }
    }
}

/// A session's signer as the validator sees it: its id (the grant's `sessionKey`) and how it
/// signs. No secret: enough to estimate an operation and to check a signature made elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicSigner {
    /// The signer id.
    pub id: Address,
    /// How it signs.
    pub key_type: SessionKeyType,
}

impl PublicSigner {
    /// The kind the signature's mode byte names.
    pub fn kind(&self) -> SignerKind {
        self.key_type.kind()
    }

    /// The key signature an estimate carries: the shape and length of a real one, so that
    /// validation does all of its work and only then fails (`SIG_VALIDATION_FAILED`). A
    /// secp256k1 key's is [`EIP191_PLACEHOLDER_SIGNATURE`]; a P-256 key's has its real
    /// coordinates and a wrong `r, s`; a passkey's is [`WebAuthnAssertion::standard`] with a wrong
    /// `r, s`; a contract's is its address and its placeholder.
    pub fn dummy_key_signature(&self) -> Bytes {
        match &self.key_type {
            SessionKeyType::Secp256k1 => EIP191_PLACEHOLDER_SIGNATURE.into(),
            SessionKeyType::Contract { placeholder } => {
                [self.id.as_slice(), placeholder].concat().into()
            }
            SessionKeyType::P256 { public_key, .. } => {
                public_key.key_signature(PLACEHOLDER_WORD, PLACEHOLDER_WORD)
            }
            SessionKeyType::WebAuthn {
                public_key, rp_id, ..
            } => WebAuthnAssertion::standard(rp_id, B256::ZERO, 0).key_signature(
                public_key,
                PLACEHOLDER_WORD,
                PLACEHOLDER_WORD,
            ),
        }
    }

    /// Whether `key_signature`, made elsewhere, can stand for this signer: a secp256k1 one is 65
    /// bytes (whom it recovers to, validation decides), any other names this signer id. A
    /// signature by another key would fail validation only at the bundler (`AA24`).
    pub fn check(&self, key_signature: &[u8]) -> Result<(), FinalizeError> {
        let kind = self.kind();
        if kind == SignerKind::Secp256k1 {
            let len = key_signature.len();
            return if len == EIP191_PLACEHOLDER_SIGNATURE.len() {
                Ok(())
            } else {
                Err(FinalizeError::SignatureLength { len })
            };
        }
        match kind.named_signer(key_signature) {
            Some(named) if named == self.id => Ok(()),
            Some(named) => Err(FinalizeError::OtherSigner {
                expected: self.id,
                named,
            }),
            None => Err(FinalizeError::NamesNoSigner { kind }),
        }
    }
}

/// A session key that signs here: a secp256k1 key (any alloy signer), or one of leash-sdk's
/// P-256 keys, passkeys and contract signers.
pub trait SessionSigner {
    /// The signer as the validator sees it.
    fn public_signer(&self) -> PublicSigner;

    /// The key signature of `user_op_hash`: what follows the mode and the session id.
    fn key_signature(&self, user_op_hash: B256) -> Result<Bytes, OperationError>;
}

impl<S: SignerSync + alloy_signer::Signer> SessionSigner for S {
    fn public_signer(&self) -> PublicSigner {
        PublicSigner {
            id: self.address(),
            key_type: SessionKeyType::Secp256k1,
        }
    }

    fn key_signature(&self, user_op_hash: B256) -> Result<Bytes, OperationError> {
        sign_hash_raw(self, user_op_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;
    use alloy_signer_local::PrivateKeySigner;

    const KEY: P256PublicKey = P256PublicKey {
        x: B256::repeat_byte(0x0a),
        y: B256::repeat_byte(0x0b),
    };

    fn rp_id() -> RpId {
        RpId::new("leash.example").expect("a host name")
    }

    fn webauthn() -> PublicSigner {
        let rp_id = rp_id();
        PublicSigner {
            id: KEY.webauthn_signer_id(rp_id.hash()),
            key_type: SessionKeyType::WebAuthn {
                public_key: KEY,
                rp_id,
                verification: P256Verification::Fallback,
            },
        }
    }

    #[test]
    fn kinds_number_as_the_solidity_does_and_sit_above_the_form() {
        use P256Verification::{Fallback, Precompile};
        let kinds = [
            (SignerKind::Secp256k1, 0, "secp256k1"),
            (SignerKind::Contract, 1, "contract"),
            (SignerKind::P256(Precompile), 2, "P-256 (precompile)"),
            (SignerKind::P256(Fallback), 3, "P-256 (Solidity verifier)"),
            (SignerKind::WebAuthn(Precompile), 4, "WebAuthn (precompile)"),
            (
                SignerKind::WebAuthn(Fallback),
                5,
                "WebAuthn (Solidity verifier)",
            ),
        ];
        for (kind, code, name) in kinds {
            assert_eq!(kind.code(), code);
            assert_eq!(kind.mode_bits(), code << 2);
            assert_eq!(kind.to_string(), name);
        }
    }

    #[test]
    fn signer_ids_hash_the_key_and_for_a_passkey_its_relying_party() {
        let id = Address::from_word(keccak256([[0x0a; 32], [0x0b; 32]].concat()));
        assert_eq!(KEY.signer_id(), id);
        let rp_id_hash = rp_id().hash();
        let passkey =
            Address::from_word(keccak256([[0x0a; 32], [0x0b; 32], rp_id_hash.0].concat()));
        assert_eq!(KEY.webauthn_signer_id(rp_id_hash), passkey);
        assert_ne!(KEY.webauthn_signer_id(B256::ZERO), passkey);
        assert_eq!(webauthn().key_type.derived_id(), Some(passkey));
        assert_eq!(SessionKeyType::Secp256k1.derived_id(), None);
    }

    #[test]
    fn placeholders_have_the_shape_of_real_signatures_and_name_the_signer() {
        let p256 = PublicSigner {
            id: KEY.signer_id(),
            key_type: SessionKeyType::P256 {
                public_key: KEY,
                verification: P256Verification::Precompile,
            },
        };
        let dummy = p256.dummy_key_signature();
        assert_eq!(dummy, KEY.key_signature(PLACEHOLDER_WORD, PLACEHOLDER_WORD));
        assert_eq!(dummy.len(), 128);
        assert_eq!(p256.check(&dummy), Ok(()));

        let passkey = webauthn();
        let dummy = passkey.dummy_key_signature();
        let real = WebAuthnAssertion::standard(&rp_id(), B256::repeat_byte(9), 3).key_signature(
            &KEY,
            B256::repeat_byte(1),
            B256::repeat_byte(2),
        );
        assert_eq!(dummy.len(), real.len());
        assert_eq!(dummy[..64], real[..64]);
        assert_eq!(
            dummy[128..WEBAUTHN_HEADER + 32],
            real[128..WEBAUTHN_HEADER + 32]
        );
        assert_eq!(passkey.check(&dummy), Ok(()));

        let contract = PublicSigner {
            id: address!("0x00000000000000000000000000000000000000c1"),
            key_type: SessionKeyType::Contract {
                placeholder: Bytes::from_static(&[0xee; 65]),
            },
        };
        let dummy = contract.dummy_key_signature();
        assert_eq!(&dummy[..20], contract.id.as_slice());
        assert_eq!(&dummy[20..], [0xee; 65].as_slice());
        assert_eq!(contract.check(&dummy), Ok(()));

        let key = PrivateKeySigner::random();
        let secp = key.public_signer();
        assert_eq!(secp.id, key.address());
        assert_eq!(secp.dummy_key_signature()[..], EIP191_PLACEHOLDER_SIGNATURE);
        assert_eq!(secp.check(&EIP191_PLACEHOLDER_SIGNATURE), Ok(()));
    }

    #[test]
    fn a_signature_by_another_signer_or_of_no_shape_is_refused_before_sending() {
        let passkey = webauthn();
        let signature = passkey.dummy_key_signature();
        let mut other_key = signature.to_vec();
        other_key[0] ^= 1;
        let named = SignerKind::WebAuthn(P256Verification::Fallback)
            .named_signer(&other_key)
            .expect("well formed");
        assert_eq!(
            passkey.check(&other_key),
            Err(FinalizeError::OtherSigner {
                expected: passkey.id,
                named
            })
        );
        assert_eq!(
            passkey.check(&signature[..WEBAUTHN_HEADER + 37 + 21]),
            Err(FinalizeError::NamesNoSigner {
                kind: SignerKind::WebAuthn(P256Verification::Fallback)
            })
        );
        let mut short_data = signature.to_vec();
        short_data[133] = 36;
        assert_eq!(
            SignerKind::WebAuthn(P256Verification::Precompile).named_signer(&short_data),
            None
        );
        let p256 = SignerKind::P256(P256Verification::Precompile);
        assert_eq!(p256.named_signer(&[0; 127]), None);
        assert_eq!(p256.named_signer(&[0; 129]), None);
        assert_eq!(SignerKind::Contract.named_signer(&[0x33; 19]), None);
        assert_eq!(
            SignerKind::Contract.named_signer(&[0x33; 20]),
            Some(Address::repeat_byte(0x33))
        );
        let secp = PrivateKeySigner::random().public_signer();
        assert_eq!(
            secp.check(&[0; 64]),
            Err(FinalizeError::SignatureLength { len: 64 })
        );
    }

    #[test]
    fn key_types_are_stored_as_tagged_json() {
        let json = serde_json::to_value(&webauthn().key_type).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "type": "webauthn",
                "publicKey": {"x": B256::repeat_byte(0x0a), "y": B256::repeat_byte(0x0b)},
                "rpId": "leash.example",
                "verification": "fallback",
            })
        );
        let read: SessionKeyType = serde_json::from_value(json).expect("parses");
        assert_eq!(read, webauthn().key_type);
        assert_eq!(
            serde_json::to_value(SessionKeyType::Secp256k1).expect("serializes"),
            serde_json::json!({"type": "secp256k1"})
        );
    }
}
