//! The compiler settings of `foundry.toml`, read so that the artifacts are built exactly as
//! `forge build` builds the contracts, from one place.

use eyre::{WrapErr, bail};
use foundry_compilers::artifacts::{
    BytecodeHash, EvmVersion, Optimizer, Remapping, Settings, SettingsMetadata,
};
use serde::Deserialize;
use std::{path::Path, str::FromStr};

#[derive(Debug, Deserialize)]
struct FoundryToml {
    profile: Profiles,
}

#[derive(Debug, Deserialize)]
struct Profiles {
    default: Profile,
}

/// The subset of a Foundry profile that changes the bytecode solc emits.
#[derive(Debug, Deserialize)]
pub(crate) struct Profile {
    pub(crate) src: String,
    pub(crate) solc: String,
    pub(crate) evm_version: String,
    pub(crate) optimizer: bool,
    pub(crate) optimizer_runs: usize,
    pub(crate) via_ir: Option<bool>,
    pub(crate) bytecode_hash: String,
    pub(crate) cbor_metadata: bool,
    pub(crate) remappings: Vec<String>,
}

impl Profile {
    pub(crate) fn load(root: &Path) -> eyre::Result<Self> {
        let path = root.join("foundry.toml");
        let text = std::fs::read_to_string(&path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let parsed: FoundryToml =
            toml::from_str(&text).wrap_err_with(|| format!("parsing {}", path.display()))?;
        Ok(parsed.profile.default)
    }

    pub(crate) fn remappings(&self) -> eyre::Result<Vec<Remapping>> {
        self.remappings
            .iter()
            .map(|r| Remapping::from_str(r).map_err(|e| eyre::eyre!("remapping {r:?}: {e}")))
            .collect()
    }

    pub(crate) fn settings(&self) -> eyre::Result<Settings> {
        let Ok(evm_version) = EvmVersion::from_str(&self.evm_version) else {
            bail!("unknown evm_version {:?} in foundry.toml", self.evm_version);
        };
        let bytecode_hash = match self.bytecode_hash.as_str() {
            "none" => BytecodeHash::None,
            "ipfs" => BytecodeHash::Ipfs,
            "bzzr1" => BytecodeHash::Bzzr1,
            other => bail!("unknown bytecode_hash {other:?} in foundry.toml"),
        };
        Ok(Settings {
            optimizer: Optimizer {
                enabled: Some(self.optimizer),
                runs: Some(self.optimizer_runs),
                ..Default::default()
            },
            evm_version: Some(evm_version),
            via_ir: self.via_ir,
            metadata: Some(SettingsMetadata::new(bytecode_hash, self.cbor_metadata)),
            remappings: self.remappings()?,
            ..Default::default()
        })
    }
}
