//! `leash demo`: the session story on the embedded chain, printed step by step.

use crate::output::Output;
use alloy_primitives::{Address, U256, address, utils::format_ether};
use alloy_signer_local::PrivateKeySigner;
use eyre::WrapErr;
use leash_core::{denial::explain_rejection, expiry::format_utc, permission::Permission};
use leash_sdk::deploy::Deployment;
use leash_sim::{
    BundleOutcome, Chain, Execution,
    walkthrough::{self, EstimatedSpend, SessionSpend},
};
use serde_json::json;

/// anvil's second dev key: a well-known throwaway key, so the demo is the same on every run.
const DEMO_OWNER_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// anvil's third dev key, as the session key: deterministic output, and never worth anything.
const DEMO_SESSION_KEY: &str = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const DEMO_RECIPIENT: Address = address!("0x000000000000000000000000000000000000bEEF");
const ETH: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

pub(crate) fn run(out: &Output) -> eyre::Result<()> {
    let mut chain = Chain::new().wrap_err("starting the embedded chain")?;
    out.line("1. Embedded chain (revm, Osaka rules), contracts at their deterministic addresses");
    out.line(format!("   chain id             {}", chain.chain_id()));
    for deployment in Deployment::all()
        .iter()
        .chain(&Deployment::test_contracts())
    {
        out.line(format!(
            "   {:<20} {}",
            deployment.name,
            deployment.address()
        ));
    }

    let owner: PrivateKeySigner = DEMO_OWNER_KEY.parse()?;
    let session_key: PrivateKeySigner = DEMO_SESSION_KEY.parse()?;
    chain.set_balance(owner.address(), ETH * U256::from(10))?;
    let story = walkthrough::session_story(&mut chain, &owner, &session_key, DEMO_RECIPIENT)?;

    out.line(format!(
        "\n2. Delegate: EOA {} signs an EIP-7702 authorization to LeashAccount; its first \
         UserOperation installs SessionKeyValidator (one type-4 bundle)",
        story.account
    ));
    expect_executed(out, &story.delegation, "delegation")?;
    out.line(format!(
        "   then the account receives {} test tokens (TestToken {})",
        format_tokens(walkthrough::STORY_MINTED),
        story.token
    ));

    out.line(format!(
        "\n3. Grant: the owner signs an EIP-712 SessionGrant for session key {}",
        story.session_key
    ));
    out.line(format!("   session id           {}", story.session_id));
    out.line(format!(
        "   expires              {}",
        format_utc(story.grant.validUntil.to())
    ));
    for permission in story
        .grant
        .permissions
        .iter()
        .filter_map(Permission::from_sol)
    {
        match permission {
            Permission::Erc20TokenTransfer {
                address, allowance, ..
            } => out.line(format!(
                "   permission           erc20-token-transfer: {} tokens of {address}",
                format_tokens(allowance)
            )),
            Permission::GasLimit { limit } => out.line(format!(
                "   permission           gas-limit: {} ETH (added by default: the account pays                  this session's gas only up to it)",
                format_ether(limit)
            )),
            _ => {}
        }
    }

    out.line(format!(
        "\n4. Spend within the allowance: the session key sends {} tokens to {} (the grant and \
         the owner's signature ride along: lazy enable)",
        format_tokens(story.within.amount),
        story.recipient
    ));
    expect_executed(out, &story.within.outcome, "spend within the allowance")?;
    out.line(format!(
        "   remaining            {} of {} tokens",
        format_tokens(story.remaining_after_within),
        format_tokens(walkthrough::STORY_ALLOWANCE)
    ));

    out.line(format!(
        "\n5. Spend beyond it: {} tokens",
        format_tokens(story.beyond.amount)
    ));
    expect_denied(out, &story.beyond)?;

    out.line("\n6. Revoke: the owner's UserOperation calls revokeSession(grant)");
    expect_executed(out, &story.revocation, "revocation")?;

    out.line(format!(
        "\n7. Spend after revocation: {} tokens, within what was left",
        format_tokens(story.after_revocation.amount)
    ));
    expect_denied(out, &story.after_revocation)?;

    out.line(format!(
        "\nThe recipient holds {} tokens: exactly what the session was allowed to spend before \
         it was revoked.",
        format_tokens(story.recipient_tokens)
    ));

    let daily = walkthrough::recurring_story(&mut chain, &owner, &session_key, DEMO_RECIPIENT)?;
    out.line(format!(
        "\n8. A recurring allowance: the owner grants the same key {} tokens a day (the amount \
         renews at 00:00 UTC; what a day leaves unspent is gone)",
        format_tokens(walkthrough::STORY_ALLOWANCE)
    ));
    out.line(format!("   session id           {}", daily.session_id));
    out.line(format!(
        "\n9. Spend {} tokens today: the account measures what left it and the validator \
         charges today's allowance (the balance-checked form, executeUserOp)",
        format_tokens(daily.within.amount)
    ));
    expect_executed(out, &daily.within.outcome, "spend within the day's amount")?;
    out.line(format!(
        "   remaining today      {} of {} tokens, until {}",
        format_tokens(daily.remaining_after_within),
        format_tokens(walkthrough::STORY_ALLOWANCE),
        format_utc(daily.resets_at)
    ));

    out.line(format!(
        "\n10. Spend {} more the same day: within the day's amount, so validation passes; the \
         execution phase, which reads the clock, refuses it. The estimate runs both phases, so \
         leash refuses before signing: nothing is sent, nothing paid, nothing moves",
        format_tokens(daily.beyond.amount)
    ));
    let refused = expect_refused_in_estimate(out, &daily.beyond)?;

    out.line(format!(
        "\n11. The embedded chain's clock moves to {}: a new day, a whole allowance; the same {} \
         tokens go through",
        format_utc(daily.resets_at),
        format_tokens(daily.after_reset.amount)
    ));
    expect_executed(out, &daily.after_reset.outcome, "spend after the reset")?;
    out.line(format!(
        "   remaining today      {} of {} tokens",
        format_tokens(daily.remaining_after_reset),
        format_tokens(walkthrough::STORY_ALLOWANCE)
    ));
    out.document(json!({
        "account": story.account,
        "sessionKey": story.session_key,
        "sessionId": story.session_id,
        "token": story.token,
        "remainingAfterWithin": story.remaining_after_within,
        "beyondDenied": denial_text(&story.beyond),
        "afterRevocationDenied": denial_text(&story.after_revocation),
        "recipientTokens": story.recipient_tokens,
        "recurring": {
            "sessionId": daily.session_id,
            "remainingAfterWithin": daily.remaining_after_within,
            "resetsAt": daily.resets_at,
            "beyondRefused": refused,
            "remainingAfterReset": daily.remaining_after_reset,
            "recipientTokens": daily.recipient_tokens,
        },
    }));
    Ok(())
}

fn expect_executed(out: &Output, outcome: &BundleOutcome, step: &str) -> eyre::Result<()> {
    match outcome {
        BundleOutcome::Included { ops, .. } => {
            for op in ops {
                match &op.execution {
                    Execution::Succeeded => out.line(format!(
                        "   executed             userOpHash {}, gas {}, cost {} ETH",
                        op.user_op_hash,
                        op.gas_used,
                        format_ether(op.gas_cost)
                    )),
                    Execution::Reverted(reason) => {
                        return Err(eyre::eyre!("{step}: execution reverted: {reason}"));
                    }
                }
                for (token, holders) in &op.balance_changes.erc20 {
                    for (holder, change) in holders {
                        let sign = if change.is_negative() { "-" } else { "+" };
                        let tokens = format_tokens(change.unsigned_abs());
                        out.line(format!(
                            "   balance change       {holder} {sign}{tokens} of {token}"
                        ));
                    }
                }
            }
            Ok(())
        }
        BundleOutcome::Rejected(rejection) => Err(eyre::eyre!(
            "{step}: {}",
            explain_rejection(rejection, None)
        )),
        BundleOutcome::Failed(reason) => Err(eyre::eyre!("{step}: handleOps failed: {reason}")),
    }
}

fn expect_denied(out: &Output, spend: &SessionSpend) -> eyre::Result<()> {
    match denial_text(spend) {
        Some(text) => {
            out.line(format!("   denied               {text}"));
            Ok(())
        }
        None => Err(eyre::eyre!(
            "the demo expected a denial, but the operation went through"
        )),
    }
}

/// Prints why the estimate refused `spend`, which the demo expects, and returns the sentence.
fn expect_refused_in_estimate(out: &Output, spend: &EstimatedSpend) -> eyre::Result<String> {
    let reason = spend.refusal.as_ref().ok_or_else(|| {
        eyre::eyre!("the demo expected the estimate to refuse the spend, but it would go through")
    })?;
    let sentence = reason.to_string();
    out.line(format!("   refused              {sentence}"));
    Ok(sentence)
}

fn denial_text(spend: &SessionSpend) -> Option<String> {
    spend
        .outcome
        .rejection()
        .map(|rejection| explain_rejection(rejection, None))
}

/// Test-token amounts (18 decimals) in tokens, without trailing zeros: `60`, `2.5`.
fn format_tokens(amount: U256) -> String {
    let text = format_ether(amount);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
