//! Session-key UserOperation signatures and nonce keys for `SessionKeyValidator`.

use crate::{
    error::OperationError,
    rules::RuleAttachments,
    session_signer::{PublicSigner, SessionSigner, SignerKind},
    signing::EIP191_PLACEHOLDER_SIGNATURE,
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolValue;
use leash_bindings::SessionGrant;

/// Signature form: a scoped session's key signs. The mode byte is `rules flag | signer kind |
/// form` ([`SignerKind::mode_bits`]).
pub const SIG_MODE_USE: u8 = 0x00;
/// Signature form: a root session's key signs.
pub const SIG_MODE_USE_ROOT: u8 = 0x01;
/// Signature form: the grant and the owner's signature travel along, enabling the session in the
/// same validation (lazy enable).
pub const SIG_MODE_ENABLE: u8 = 0x02;

/// Set in the use or lazy mode byte when the signature ends with rule attachments
/// ([`RuleAttachments::trailer`]): the compact rules of the calls only a ruled permission allows.
pub const SIG_FLAG_RULES: u8 = 0x80;

/// Length of a secp256k1 key's use-mode signature: mode, session id, `r ‖ s ‖ v`.
pub const USE_SIGNATURE_LEN: usize = 1 + 32 + 65;

/// The nonce key that routes a UserOperation to `validator` on the session's own nonce lane:
/// `validator << 32 | uint32(bytes4(sessionId))`. Sessions on different lanes never contend for
/// one nonce sequence.
pub fn session_nonce_key(validator: Address, session_id: B256) -> U256 {
    let lane = u32::from_be_bytes([session_id[0], session_id[1], session_id[2], session_id[3]]);
    crate::user_operation::nonce_key_for_validator(validator, lane)
}

/// How a session-key UserOperation proves itself.
#[derive(Clone, Debug)]
pub enum SessionAuth<'a> {
    /// The session is enabled: only its id travels.
    Enabled {
        /// The session id.
        session_id: B256,
        /// Whether the session holds `root`.
        root: bool,
    },
    /// First use (or not yet confirmed enabled): the grant and the owner's signature travel along.
    Lazy {
        /// The grant.
        grant: &'a SessionGrant,
        /// The owner's signature of the session id.
        owner_signature: &'a [u8],
    },
}

impl SessionAuth<'_> {
    /// Signs `user_op_hash` with the session key and encodes the validator's signature, for calls
    /// that need no rule attachments.
    pub fn sign(
        &self,
        session_key: &(impl SessionSigner + ?Sized),
        user_op_hash: B256,
    ) -> Result<Bytes, OperationError> {
        let signer = session_key.public_signer();
        let key_signature = session_key.key_signature(user_op_hash)?;
        Ok(self.encode_signed(signer.kind(), &key_signature, &RuleAttachments::none()))
    }

    /// The signature a secp256k1 key's operation is estimated with: this form around
    /// [`EIP191_PLACEHOLDER_SIGNATURE`] (in the lazy form, beside the owner's real grant
    /// signature). Validation does all the work of the signed operation, reverts with the rule on
    /// a scope violation, and otherwise returns `SIG_VALIDATION_FAILED`. The EIP-191 form costs at
    /// least what either form of a real key signature costs, so one estimate serves a raw signer
    /// and a `personal_sign` one alike.
    pub fn dummy(&self) -> Bytes {
        self.dummy_with_rules(&RuleAttachments::none())
    }

    /// [`Self::dummy`] carrying `rules`, as the signed operation will: the validator's work on
    /// them (finding the ruled scopes, evaluating the rules) is part of the estimate.
    pub fn dummy_with_rules(&self, rules: &RuleAttachments) -> Bytes {
        self.encode_with_rules(&EIP191_PLACEHOLDER_SIGNATURE, rules)
    }

    /// The signature an operation of `signer` is estimated with, carrying `rules`: this form
    /// around [`PublicSigner::dummy_key_signature`], which does the work of a real signature of
    /// its kind.
    pub fn dummy_for(&self, signer: &PublicSigner, rules: &RuleAttachments) -> Bytes {
        self.encode_signed(signer.kind(), &signer.dummy_key_signature(), rules)
    }

    /// The encoding around a secp256k1 session key's `r ‖ s ‖ v` signature, without rule
    /// attachments.
    pub fn encode(&self, key_signature: &[u8]) -> Bytes {
        self.encode_with_rules(key_signature, &RuleAttachments::none())
    }

    /// The encoding around a secp256k1 session key's `r ‖ s ‖ v` signature, with `rules`
    /// ([`Self::encode_signed`]).
    pub fn encode_with_rules(&self, key_signature: &[u8], rules: &RuleAttachments) -> Bytes {
        self.encode_signed(SignerKind::Secp256k1, key_signature, rules)
    }

    /// The encoding around the key signature of a signer of `kind`, followed by `rules` when there
    /// are any: the mode then has [`SIG_FLAG_RULES`] set and the signature ends with
    /// `attachments ‖ uint16 attachmentsLength`. (A root session has no ruled permission, so its
    /// mode never takes the flag.)
    pub fn encode_signed(
        &self,
        kind: SignerKind,
        key_signature: &[u8],
        rules: &RuleAttachments,
    ) -> Bytes {
        let flags = kind.mode_bits() | if rules.is_empty() { 0 } else { SIG_FLAG_RULES };
        let trailer = rules.trailer();
        match self {
            Self::Enabled { session_id, root } => {
                let form = if *root {
                    SIG_MODE_USE_ROOT
                } else {
                    SIG_MODE_USE
                };
                [
                    &[form | flags],
                    session_id.as_slice(),
                    key_signature,
                    &trailer,
                ]
                .concat()
                .into()
            }
            Self::Lazy {
                grant,
                owner_signature,
            } => {
                let envelope = (
                    (*grant).clone(),
                    Bytes::copy_from_slice(owner_signature),
                    Bytes::copy_from_slice(key_signature),
                )
                    .abi_encode_params();
                [&[SIG_MODE_ENABLE | flags], envelope.as_slice(), &trailer]
                    .concat()
                    .into()
            }
        }
    }
}

impl SessionAuth<'_> {
    /// The session id this authorization speaks for.
    pub fn session_id(&self, domain: &crate::grant::GrantDomain) -> B256 {
        match self {
            Self::Enabled { session_id, .. } => *session_id,
            Self::Lazy { grant, .. } => domain.session_id(grant),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        grant::{GrantDomain, SessionGrantBuilder},
        permission::Permission,
        session_signer::SessionSigner,
    };
    use alloy_primitives::{Signature, address, b256};
    use alloy_signer_local::PrivateKeySigner;
    use alloy_sol_types::SolType;

    const VALIDATOR: Address = address!("0x00000000000000000000000000000000000000cc");
    const SESSION_ID: B256 =
        b256!("0xaabbccdd00000000000000000000000000000000000000000000000000000001");

    fn root_grant(key: &PrivateKeySigner) -> Result<SessionGrant, crate::grant::GrantError> {
        SessionGrantBuilder::new(Address::with_last_byte(0xaa), key.address(), VALIDATOR)
            .valid_until(2_000)
            .permission(Permission::Root)
            .build(1_000)
    }

    #[test]
    fn the_nonce_key_is_the_validator_then_the_ids_first_four_bytes() {
        assert_eq!(
            session_nonce_key(VALIDATOR, SESSION_ID),
            (U256::from(0xcc) << 32) | U256::from(0xaabb_ccdd_u32)
        );
    }

    #[test]
    fn use_forms_are_mode_session_id_and_key_signature() {
        let key_signature = [0x11; 65];
        for (root, mode) in [(false, SIG_MODE_USE), (true, SIG_MODE_USE_ROOT)] {
            let auth = SessionAuth::Enabled {
                session_id: SESSION_ID,
                root,
            };
            let encoded = auth.encode(&key_signature);
            assert_eq!(encoded.len(), USE_SIGNATURE_LEN);
            assert_eq!(USE_SIGNATURE_LEN, 98);
            assert_eq!(encoded[0], mode);
            assert_eq!(&encoded[1..33], SESSION_ID.as_slice());
            assert_eq!(&encoded[33..], key_signature.as_slice());
            assert_eq!(auth.dummy(), auth.encode(&EIP191_PLACEHOLDER_SIGNATURE));
        }
    }

    /// The attachments of a call allowed by a function permission with a call-value rule.
    fn call_value_attachments() -> Result<RuleAttachments, crate::rules::AttachmentError> {
        use crate::{calls::Call, rules::Rule};
        let permission = Permission::FunctionsOnAllContracts {
            functions: vec![[0x12, 0x34, 0x56, 0x78].into()],
            rules: vec![Rule::CallValue { max: U256::from(9) }],
        };
        let call = Call {
            to: VALIDATOR,
            value: U256::from(9),
            data: alloy_primitives::Bytes::from_static(&[0x12, 0x34, 0x56, 0x78]),
        };
        RuleAttachments::choose(SESSION_ID, Address::ZERO, &[permission], &[call])
    }

    #[test]
    fn rule_attachments_set_the_flag_and_end_the_signature()
    -> Result<(), Box<dyn std::error::Error>> {
        use crate::rules::{Rule, compact_rules};
        let attachments = call_value_attachments()?;
        let trailer = attachments.trailer();
        let rules = [Rule::CallValue { max: U256::from(9) }];
        assert_eq!(trailer.len(), 3 + compact_rules(&rules, 0).len() + 2);
        let key_signature = [0x11; 65];
        let enabled = SessionAuth::Enabled {
            session_id: SESSION_ID,
            root: false,
        };
        let signed = enabled.encode_with_rules(&key_signature, &attachments);
        assert_eq!(signed[0], SIG_MODE_USE | SIG_FLAG_RULES);
        assert_eq!(
            &signed[1..USE_SIGNATURE_LEN],
            &enabled.encode(&key_signature)[1..]
        );
        assert_eq!(&signed[USE_SIGNATURE_LEN..], trailer.as_slice());
        let dummy = enabled.dummy_with_rules(&attachments);
        assert_eq!(dummy.len(), signed.len());
        assert!(dummy.ends_with(&trailer));

        let key = PrivateKeySigner::random();
        let grant = root_grant(&key)?;
        let lazy = SessionAuth::Lazy {
            grant: &grant,
            owner_signature: &[0x22; 65],
        };
        let plain = lazy.encode(&key_signature);
        let ruled = lazy.encode_with_rules(&key_signature, &attachments);
        assert_eq!(ruled[0], SIG_MODE_ENABLE | SIG_FLAG_RULES);
        assert_eq!(&ruled[1..plain.len()], &plain[1..]);
        assert_eq!(&ruled[plain.len()..], trailer.as_slice());
        Ok(())
    }

    #[test]
    fn the_signer_kind_sits_between_the_rules_flag_and_the_form()
    -> Result<(), Box<dyn std::error::Error>> {
        use crate::session_signer::{P256Verification, SignerKind};
        let p256 = SignerKind::P256(P256Verification::Fallback);
        let root = SessionAuth::Enabled {
            session_id: SESSION_ID,
            root: true,
        };
        let signed = root.encode_signed(p256, &[0x44; 128], &RuleAttachments::none());
        assert_eq!(signed[0], 0x0c | SIG_MODE_USE_ROOT);
        assert_eq!(&signed[1..33], SESSION_ID.as_slice());
        assert_eq!(&signed[33..], [0x44; 128].as_slice());

        let key = PrivateKeySigner::random();
        let grant = root_grant(&key)?;
        let lazy = SessionAuth::Lazy {
            grant: &grant,
            owner_signature: &[0x22; 65],
        };
        let attachments = call_value_attachments()?;
        let passkey = SignerKind::WebAuthn(P256Verification::Precompile);
        let ruled = lazy.encode_signed(passkey, &[0x55; 200], &attachments);
        assert_eq!(ruled[0], SIG_FLAG_RULES | 0x10 | SIG_MODE_ENABLE);
        assert_eq!(
            &ruled[1..],
            &lazy.encode_with_rules(&[0x55; 200], &attachments)[1..]
        );

        let secp = key.public_signer();
        assert_eq!(
            lazy.dummy_for(&secp, &attachments),
            lazy.dummy_with_rules(&attachments)
        );
        assert_eq!(
            root.encode(&[0x11; 65]),
            root.encode_signed(SignerKind::Secp256k1, &[0x11; 65], &RuleAttachments::none())
        );
        Ok(())
    }

    #[test]
    fn the_lazy_form_carries_grant_owner_signature_and_key_signature()
    -> Result<(), Box<dyn std::error::Error>> {
        let key = PrivateKeySigner::random();
        let grant = root_grant(&key)?;
        let owner_signature = [0x22; 65];
        let auth = SessionAuth::Lazy {
            grant: &grant,
            owner_signature: &owner_signature,
        };
        let user_op_hash = B256::repeat_byte(0x33);
        let signature = auth.sign(&key, user_op_hash)?;
        assert_eq!(signature[0], SIG_MODE_ENABLE);
        let (decoded_grant, decoded_owner, decoded_key) =
            <(
                SessionGrant,
                alloy_sol_types::sol_data::Bytes,
                alloy_sol_types::sol_data::Bytes,
            )>::abi_decode_params(&signature[1..])?;
        assert_eq!(decoded_grant, grant);
        assert_eq!(decoded_owner.as_ref(), owner_signature.as_slice());
        let recovered = Signature::try_from(decoded_key.as_ref())?
            .recover_address_from_prehash(&user_op_hash)?;
        assert_eq!(recovered, key.address());

        let dummy = auth.dummy();
        assert_eq!(
            &dummy[dummy.len() - 96..dummy.len() - 31],
            EIP191_PLACEHOLDER_SIGNATURE.as_slice()
        );

        let domain = GrantDomain {
            chain_id: 31337,
            validator: VALIDATOR,
        };
        assert_eq!(auth.session_id(&domain), domain.session_id(&grant));
        let enabled = SessionAuth::Enabled {
            session_id: SESSION_ID,
            root: false,
        };
        assert_eq!(enabled.session_id(&domain), SESSION_ID);
        Ok(())
    }
}
