//! Builds the contract artifacts that `leash-bindings` embeds, and checks that the committed ones
//! are what a fresh compile produces.
//!
//! Artifacts are committed so that a backend depending on `leash-bindings` builds with plain
//! `cargo build`, with no solc and no node. Every contract under `contracts/account`,
//! `contracts/modules`, `contracts/offchain` and `contracts/test` with deployable bytecode gets
//! one; the canonical ERC-4337 contracts are taken verbatim from the official npm artifacts, never
//! recompiled, so that their CREATE2 addresses match every other chain.

mod foundry_toml;

use eyre::{WrapErr, bail, eyre};
use foundry_compilers::{
    Artifact, ProjectBuilder, ProjectPathsConfig,
    artifacts::Severity,
    solc::{Solc, SolcCompiler, SolcLanguage, SolcSettings},
};
use foundry_toml::Profile;
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// Folders below `contracts/` whose contracts are deployed, or run as creation code by a
/// deployless `eth_call` (`offchain`), and therefore get an artifact.
const DEPLOYABLE_DIRS: [&str; 5] = ["account", "modules", "offchain", "policies", "test"];

/// Official ERC-4337 v0.8 artifacts shipped as they are.
const CANONICAL_ARTIFACTS: [&str; 2] = ["EntryPoint", "Simple7702Account"];
const CANONICAL_ARTIFACTS_DIR: &str = "node_modules/@account-abstraction/contracts/artifacts";

/// Where the committed artifacts live, relative to the workspace root.
pub const ARTIFACTS_DIR: &str = "crates/bindings/artifacts";

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Compiles the contracts and returns every artifact file: name (`Name.json`) to its contents.
pub fn build_artifacts(root: &Path) -> eyre::Result<BTreeMap<String, String>> {
    let mut files = compile_deployable(root)?;
    for name in CANONICAL_ARTIFACTS {
        let path = root
            .join(CANONICAL_ARTIFACTS_DIR)
            .join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path)
            .wrap_err_with(|| format!("reading {} (run `npm ci` first)", path.display()))?;
        let official: Value = serde_json::from_str(&text)?;
        let artifact = artifact_json(
            name,
            official["abi"].clone(),
            official["bytecode"].clone(),
            official["deployedBytecode"].clone(),
        );
        files.insert(format!("{name}.json"), artifact);
    }
    Ok(files)
}

/// Writes the artifacts, removing stale files of contracts that no longer exist.
pub fn write_artifacts(root: &Path, files: &BTreeMap<String, String>) -> eyre::Result<()> {
    let dir = root.join(ARTIFACTS_DIR);
    std::fs::create_dir_all(&dir)?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".json") && !files.contains_key(name) {
            std::fs::remove_file(&path)?;
        }
    }
    for (name, contents) in files {
        std::fs::write(dir.join(name), contents)?;
    }
    Ok(())
}

/// The artifact files that differ from, are missing from, or are extra to `files`.
pub fn stale_artifacts(root: &Path, files: &BTreeMap<String, String>) -> eyre::Result<Vec<String>> {
    let dir = root.join(ARTIFACTS_DIR);
    let mut stale = Vec::new();
    for (name, contents) in files {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(committed) if &committed == contents => {}
            Ok(_) => stale.push(format!("{name}: differs from a fresh compile")),
            Err(_) => stale.push(format!("{name}: missing")),
        }
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !files.contains_key(&name) {
                stale.push(format!("{name}: no such contract any more"));
            }
        }
    }
    Ok(stale)
}

fn compile_deployable(root: &Path) -> eyre::Result<BTreeMap<String, String>> {
    let profile = Profile::load(root)?;
    let solc_path = std::env::var_os("FOUNDRY_SOLC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(&profile.solc));
    let solc = Solc::new(&solc_path)
        .wrap_err_with(|| format!("starting solc at {}", solc_path.display()))?;

    let paths = ProjectPathsConfig::builder()
        .root(root)
        .sources(root.join(&profile.src))
        .libs([root.join("node_modules")])
        .remappings(profile.remappings()?)
        .build_with_root::<SolcLanguage>(root);
    let project = ProjectBuilder::<SolcCompiler>::default()
        .paths(paths)
        .settings(SolcSettings {
            settings: profile.settings()?,
            ..Default::default()
        })
        .ephemeral()
        .no_artifacts()
        .offline()
        .set_compiler_severity_filter(Severity::Error)
        .build(SolcCompiler::Specific(solc))?;
    let output = project.compile()?;
    if output.has_compiler_errors() {
        bail!("solc failed:\n{output}");
    }

    let sources = root.join(&profile.src);
    let mut files = BTreeMap::new();
    for (id, artifact) in output.into_artifacts() {
        let relative = id.source.strip_prefix(&sources).unwrap_or(&id.source);
        let deployable = relative
            .components()
            .next()
            .is_some_and(|dir| DEPLOYABLE_DIRS.iter().any(|d| dir.as_os_str() == *d));
        let Some(bytecode) = artifact.get_bytecode_bytes().filter(|b| !b.is_empty()) else {
            continue;
        };
        if !deployable {
            continue;
        }
        let deployed = artifact
            .get_deployed_bytecode_bytes()
            .ok_or_else(|| eyre!("{} has no deployed bytecode", id.name))?;
        let abi = serde_json::to_value(
            artifact
                .abi
                .as_ref()
                .ok_or_else(|| eyre!("{} has no ABI", id.name))?,
        )?;
        let json = artifact_json(
            &id.name,
            abi,
            Value::String(format!("0x{}", hex(&bytecode))),
            Value::String(format!("0x{}", hex(&deployed))),
        );
        if files.insert(format!("{}.json", id.name), json).is_some() {
            bail!("two deployable contracts are named {}", id.name);
        }
    }
    Ok(files)
}

fn artifact_json(name: &str, abi: Value, bytecode: Value, deployed_bytecode: Value) -> String {
    let value = json!({
        "contractName": name,
        "abi": abi,
        "bytecode": bytecode,
        "deployedBytecode": deployed_bytecode,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
