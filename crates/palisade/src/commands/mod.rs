//! One module per subcommand.

pub(crate) mod audit;
pub(crate) mod completions;
pub(crate) mod detect;
pub(crate) mod explain;
pub(crate) mod gateway;
pub(crate) mod guard;
pub(crate) mod model;
pub(crate) mod rules;
pub(crate) mod scan;
pub(crate) mod secrets;
pub(crate) mod sinks;

use std::io::{IsTerminal, Write};
use std::path::Path;

/// Whether an error is a closed pipe (`palisade scan . | head`), which is not a failure.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether to colour output written to stdout: only on a terminal, never
/// with `NO_COLOR` set.
pub(crate) fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Writes `text` to `path`, or to stdout when `path` is `None` or `-`.
pub(crate) fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    match path {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Streams output through `write` to `path`, or to stdout when `path` is
/// `None` or `-`, buffered.
pub(crate) fn emit_with(
    path: Option<&Path>,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot write {}", p.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
            write(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("cannot write {}", p.display()))
        }
        _ => {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            write(&mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

/// Parses a severity name for clap.
pub(crate) fn scan_severity(s: &str) -> Result<palisade_core::Severity, String> {
    s.parse::<palisade_core::Severity>()
        .map_err(|e| e.to_string())
}
