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

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends SIGTERM to `child` and waits up to a minute for it to exit 0.
pub(crate) fn terminate(child: &mut std::process::Child) {
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "exited with {s}");
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
