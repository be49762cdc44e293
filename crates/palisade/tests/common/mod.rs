//! Set-up shared by the binary's integration tests (`mod common;` in each).
//! Each test file uses a part of it, hence the `dead_code` allowance.

#![allow(dead_code, clippy::unwrap_used)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository root (the examples, `deploy/` and `../shared` are found from it).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The binary, run from `dir`, with none of the caller's settings that
/// change what it does (`PALISADE_CONFIG`, `PALISADE_FORMAT`, `KUBECONFIG`)
/// and without colour.
pub(crate) fn palisade_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("palisade").unwrap();
    c.current_dir(dir)
        .env_remove("PALISADE_CONFIG")
        .env_remove("PALISADE_FORMAT")
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1");
    c
}

/// [`palisade_in`] the repository root.
pub(crate) fn palisade() -> Command {
    palisade_in(&root())
}
