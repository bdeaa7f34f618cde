//! `Chain::save_to` / `Chain::load_from`: a loaded chain is the saved one — accounts, code,
//! storage (a session enabled, its spend accounted), the clock, nonces and the receipts of
//! committed bundles — and goes on from there exactly as the original does.

mod support;

use alloy_primitives::U256;
use leash_core::{grant::GrantDomain, sender::UserOperationSender, session_state::GrantRecord};
use leash_sim::{Chain, Execution, SimError, SimSender, ready};
use support::{RECIPIENT, Setup, executed};

#[test]
fn a_loaded_chain_is_the_saved_one_and_goes_on_alike() -> eyre::Result<()> {
    let mut setup = Setup::new();
    let grant = setup.grant([leash_core::permission::Permission::Erc20TokenTransfer {
        address: setup.token,
        allowance: U256::from(100),
        period: None,
    }]);
    let transfer = setup.transfer_tokens(RECIPIENT, U256::from(30));
    let first = setup.send_lazily(&grant, std::slice::from_ref(&transfer));
    assert_eq!(executed(&first).execution, Execution::Succeeded);
    let first_hash = executed(&first).user_op_hash;
    setup.chain.advance_time(600);

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("chain.json");
    setup.chain.save_to(&file)?;
    let mut loaded = Chain::load_from(&file)?;

    assert_eq!(loaded.chain_id(), setup.chain.chain_id());
    assert_eq!(loaded.timestamp(), setup.chain.timestamp());
    assert_eq!(loaded.block_number(), setup.chain.block_number());
    assert_eq!(loaded.bundler(), setup.chain.bundler());
    for address in [
        setup.account,
        setup.chain.bundler(),
        RECIPIENT,
        setup.validator,
    ] {
        assert_eq!(loaded.balance(address)?, setup.chain.balance(address)?);
        assert_eq!(loaded.nonce(address)?, setup.chain.nonce(address)?);
        assert_eq!(loaded.code(address)?, setup.chain.code(address)?);
    }
    assert_eq!(
        loaded.erc20_balance(setup.token, RECIPIENT)?,
        U256::from(30)
    );
    let domain = GrantDomain {
        chain_id: loaded.chain_id(),
        validator: setup.validator,
    };
    let record = GrantRecord::new(&grant, None).ok_or_else(|| eyre::eyre!("grant record"))?;
    assert_eq!(
        loaded.session_state(&domain, &record)?,
        setup.chain.session_state(&domain, &record)?
    );
    let receipt = |chain: &mut Chain| ready(SimSender::new(chain).receipt(first_hash));
    assert_eq!(receipt(&mut loaded)?, receipt(&mut setup.chain)?);
    assert!(receipt(&mut loaded)?.is_some());

    // The same next operation, on each: the same outcome, to the gas (storage warm or cold
    // alike, the spend accounted alike), and the remaining allowance enforced.
    let next = setup.prepare(&setup.enabled(&grant), std::slice::from_ref(&transfer));
    let on_saved = setup.send_prepared(&next);
    let on_loaded = SimSender::new(&mut loaded).send_operation(&next)?;
    assert_eq!(executed(&on_loaded).execution, Execution::Succeeded);
    assert_eq!(executed(&on_loaded).gas_used, executed(&on_saved).gas_used);
    assert_eq!(
        loaded.erc20_balance(setup.token, RECIPIENT)?,
        U256::from(60)
    );
    Ok(())
}

#[test]
fn a_file_of_another_format_or_garbage_is_refused() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("chain.json");
    Chain::new()?.save_to(&file)?;
    let saved = std::fs::read_to_string(&file)?;
    std::fs::write(&file, saved.replacen("\"format\":1", "\"format\":2", 1))?;
    let refused = Chain::load_from(&file).map(|_| ());
    assert!(
        matches!(&refused, Err(SimError::Persist { reason, .. }) if reason.contains("format 2")),
        "{refused:?}"
    );
    std::fs::write(&file, &saved[..saved.len() / 2])?;
    assert!(matches!(
        Chain::load_from(&file),
        Err(SimError::Persist { .. })
    ));
    // The save was atomic: no temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
    Ok(())
}
