//! `palisade completions SHELL`: shell completion scripts.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade completions bash > /etc/bash_completion.d/palisade
  palisade completions zsh > \"${fpath[1]}/_palisade\"
  palisade completions fish > ~/.config/fish/completions/palisade.fish")]
pub(crate) struct Args {
    /// The shell.
    shell: Shell,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let mut cmd = crate::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "palisade", &mut buf);
    super::emit(&String::from_utf8_lossy(&buf), None)?;
    Ok(crate::EXIT_OK)
}
