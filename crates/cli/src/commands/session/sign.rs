//! `leash session sign`: a stored session signs a message as its account (ERC-1271, nested as
//! ERC-7739 nests it), printing the account's signature for any verifier's `isValidSignature`.

use crate::{
    args::{StoreArgs, open_store},
    failure::{Failure, UsageContext},
    output::Output,
};
use clap::Args;
use leash_core::{
    abi_call::parse_hex_data,
    account_message::{AccountMessage, TypedData},
};
use leash_sdk::service::{SignedMessage, resolve_session, session_signer, sign_message};
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// Session id (or a unique prefix of it); it needs `personal-sign` for a message,
    /// `typed-data-signing` of the app for typed data.
    session: String,
    /// A personal message (EIP-191, as `personal_sign` signs it), e.g. a SIWE login.
    #[arg(long, value_name = "TEXT", group = "what")]
    message: Option<String>,
    /// A personal message given as bytes.
    #[arg(long, value_name = "0xHEX", group = "what")]
    message_hex: Option<String>,
    /// EIP-712 typed data as `eth_signTypedData_v4` takes it (`-` reads stdin); its domain must
    /// name the app's verifyingContract. Its signature holds only during one of the session's own
    /// operations (the app redeems it there).
    #[arg(long, value_name = "FILE", group = "what")]
    typed_data: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

impl SignArgs {
    fn message(&self) -> eyre::Result<AccountMessage> {
        if let Some(text) = &self.message {
            return Ok(AccountMessage::personal(text));
        }
        if let Some(hex) = &self.message_hex {
            return Ok(AccountMessage::personal(
                parse_hex_data(hex).usage("--message-hex")?,
            ));
        }
        let Some(path) = &self.typed_data else {
            return Err(Failure::usage(
                "what to sign: --message TEXT, --message-hex 0xHEX or --typed-data FILE",
            ));
        };
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).usage("--typed-data -")?
        } else {
            std::fs::read_to_string(path).usage(format_args!("--typed-data {}", path.display()))?
        };
        let data: TypedData =
            serde_json::from_str(&text).usage(format_args!("--typed-data {}", path.display()))?;
        AccountMessage::typed_data(&data).usage(format_args!("--typed-data {}", path.display()))
    }
}

pub(super) fn run(out: &Output, args: &SignArgs) -> eyre::Result<()> {
    let message = args.message()?;
    let store = open_store()?;
    let session = resolve_session(&store, &args.session)?;
    let key = session_signer(&store, &session, &args.store.password()?)?;
    let SignedMessage { hash, signature } = sign_message(&session, &key, message)?;
    out.line(signature.to_string());
    out.document(json!({
        "sessionId": session.session_id,
        "account": session.account,
        "hash": hash,
        "signature": signature,
    }));
    Ok(())
}
