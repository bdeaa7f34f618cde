//! `cargo xtask artifacts [--check]`: regenerate (or check) the committed contract artifacts.

use eyre::bail;

fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = xtask::workspace_root();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["artifacts"] => {
            let files = xtask::build_artifacts(&root)?;
            xtask::write_artifacts(&root, &files)?;
            println!(
                "wrote {} artifacts to {}",
                files.len(),
                xtask::ARTIFACTS_DIR
            );
            Ok(())
        }
        ["artifacts", "--check"] => {
            let stale = xtask::stale_artifacts(&root, &xtask::build_artifacts(&root)?)?;
            if stale.is_empty() {
                println!("artifacts are fresh");
                return Ok(());
            }
            bail!(
                "stale artifacts (run `cargo xtask artifacts`):\n  {}",
                stale.join("\n  ")
            )
        }
        _ => bail!("usage: cargo xtask artifacts [--check]"),
    }
}
