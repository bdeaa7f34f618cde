//! The committed artifacts must be exactly what a fresh compile of `contracts/` produces.

#[test]
fn committed_artifacts_match_a_fresh_compile() -> eyre::Result<()> {
    let root = xtask::workspace_root();
    let stale = xtask::stale_artifacts(&root, &xtask::build_artifacts(&root)?)?;
    assert!(
        stale.is_empty(),
        "stale artifacts (run `cargo xtask artifacts`):\n  {}",
        stale.join("\n  ")
    );
    Ok(())
}
