//! `--key-type` and `--rp-id`: the kind of key `leash session create` generates and stores.

use crate::failure::{Failure, UsageContext};
use alloy_provider::Provider;
use clap::{Args, ValueEnum};
use leash_core::webauthn::RpId;
use leash_sdk::{service::p256_verification, signers::NewSessionKey};

/// A session key's kind, as `--key-type` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KeyType {
    /// A secp256k1 key.
    Secp256k1,
    /// A raw P-256 key.
    P256,
    /// A P-256 passkey of leash's software WebAuthn authenticator.
    Webauthn,
    /// An ERC-1271 contract (refused: see the help).
    Contract,
}

/// What signs for the session.
#[derive(Debug, Args)]
pub(crate) struct KeyTypeArgs {
    /// The session key's kind, generated and stored here: secp256k1, p256 (a raw P-256 key) or
    /// webauthn (a passkey of leash's software authenticator). P-256 signatures are checked by the
    /// chain's P256VERIFY precompile when it has one (probed now), else by leash's Solidity
    /// verifier. contract (an ERC-1271 signer) is refused: its signatures come from the
    /// contract's owners, which `leash send` cannot ask; leash-sdk's ContractSigner and the server
    /// take contract signers.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = KeyType::Secp256k1)]
    key_type: KeyType,
    /// The relying party (a host name) a webauthn key's passkey is bound to [default: localhost].
    #[arg(long, value_name = "HOST")]
    rp_id: Option<String>,
}

/// A checked `--key-type`, before the chain is asked how it verifies P-256.
#[derive(Debug)]
pub(super) enum KeyKind {
    Secp256k1,
    P256,
    WebAuthn(RpId),
}

impl KeyTypeArgs {
    /// The kind asked for, checked before any connection.
    pub(super) fn kind(&self) -> eyre::Result<KeyKind> {
        if self.rp_id.is_some() && self.key_type != KeyType::Webauthn {
            return Err(Failure::usage("--rp-id is for --key-type webauthn"));
        }
        match self.key_type {
            KeyType::Secp256k1 => Ok(KeyKind::Secp256k1),
            KeyType::P256 => Ok(KeyKind::P256),
            KeyType::Webauthn => {
                let rp_id = self.rp_id.as_deref().unwrap_or("localhost");
                Ok(KeyKind::WebAuthn(RpId::new(rp_id).usage("--rp-id")?))
            }
            KeyType::Contract => Err(Failure::usage(
                "--key-type contract: a contract signer's signatures come from the contract's \
                 owners, which `leash send` cannot ask for; use leash-sdk's ContractSigner or the \
                 server (wallet_createSession with key.type \"contract\")",
            )),
        }
    }
}

impl KeyKind {
    /// The key to generate, a P-256 one checked by whatever the node's chain has.
    pub(super) async fn new_key<P: Provider>(self, provider: &P) -> eyre::Result<NewSessionKey> {
        Ok(match self {
            Self::Secp256k1 => NewSessionKey::Secp256k1,
            Self::P256 => NewSessionKey::P256(p256_verification(provider).await?),
            Self::WebAuthn(rp_id) => NewSessionKey::WebAuthn {
                rp_id,
                verification: p256_verification(provider).await?,
            },
        })
    }
}
