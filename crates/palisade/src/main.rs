//! `palisade`: the command line. Parses arguments, calls the libraries, maps
//! results to exit codes. No logic lives here.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod commands;

/// mimalloc instead of the system allocator: scanning builds millions of
/// small nodes and strings, and glibc malloc spent a fifth of the run in
/// malloc/free (see bench/README.md). mimalloc asks the kernel for
/// transparent huge pages (`MADV_HUGEPAGE`); see [`page_size_for_command`].
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code: success, nothing at or above the threshold.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code: findings at or above the severity threshold remain.
pub(crate) const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage, configuration or input errors.
pub(crate) const EXIT_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "palisade",
    version,
    about = "Security for AI workloads on Kubernetes",
    long_about = "Palisade finds, blocks and watches what puts AI workloads on Kubernetes at risk: \
                  misconfigured pods and RBAC, leaked secrets, exposed inference servers.",
    after_help = "Examples:\n  palisade scan examples/vulnerable-ai-cluster\n  helm template my-chart | palisade scan -\n  palisade rules --category rbac\n  palisade explain PLS-POD-001"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing buys nothing
enum Command {
    /// Scan Kubernetes manifests for security and reliability problems.
    Scan(commands::scan::Args),
    /// List the built-in rules.
    Rules(commands::rules::Args),
    /// Show a rule's documentation.
    Explain(commands::explain::Args),
    /// Hash, sign, verify, inventory and encrypt model weights.
    Model(commands::model::Args),
    /// Run the inference security proxy (auth, token budgets, filters, audit).
    Gateway(commands::gateway::Args),
    /// Detect prompt injection; redact secrets, PII and canaries in model output.
    Guard(commands::guard::Args),
    /// Print a shell completion script.
    Completions(commands::completions::Args),
    /// Tamper-evident audit log: append, verify, prove, checkpoint, tail.
    Audit(commands::audit::Args),
    /// Threat detection on Kubernetes audit events (files, stdin, the audit webhook).
    Detect(commands::detect::Args),
    /// Secrets lifecycle: inventory of Secrets, consumers, readers and findings.
    Secrets(commands::secrets::Args),
}

/// Huge pages only where fresh memory is the cost. A scan builds tens of
/// megabytes of trees and findings and exits: with 2 MiB pages it takes a
/// twelfth of the page faults (11,931 to 880 at 4,000 resources) and 10
/// to 20% less time. Servers and the streaming model commands have resident
/// memory targets (a gateway with 1,000 streams, hashing a 4 GiB model, both
/// under 64 MB), and a huge page is resident whole, so every other command
/// turns them off for the process. This runs first in `main`, before
/// argument parsing allocates (the first word is the subcommand: the CLI has
/// no options before it): each huge page touched before it stays resident.
fn page_size_for_command() {
    #[cfg(target_os = "linux")]
    if std::env::args_os().nth(1).is_none_or(|c| c != "scan") {
        // Best effort: without it the command only uses more memory.
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
}

fn main() -> ExitCode {
    page_size_for_command();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(&args),
        Command::Rules(args) => commands::rules::run(&args),
        Command::Explain(args) => commands::explain::run(&args),
        Command::Model(args) => commands::model::run(&args),
        Command::Gateway(args) => commands::gateway::run(&args),
        Command::Guard(args) => commands::guard::run(&args),
        Command::Completions(args) => commands::completions::run(&args),
        Command::Audit(args) => commands::audit::run(&args),
        Command::Detect(args) => commands::detect::run(&args),
        Command::Secrets(args) => commands::secrets::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if commands::is_broken_pipe(&e) {
                return ExitCode::from(EXIT_OK);
            }
            eprintln!("palisade: error: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
