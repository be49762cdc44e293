//! `palisade model scan PATH...`: code execution and malformed structure in model files.

use crate::{EXIT_FINDINGS, EXIT_INPUT, EXIT_OK};
use anyhow::Result;
use palisade_core::Severity;
use palisade_core::output::{Format, RenderOptions, write};
use palisade_model::scan::{Options, scan_paths};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model scan ./llama-3-8b
  palisade model scan pytorch_model.bin model.safetensors --format json
  palisade model scan ./models --format sarif --output model-scan.sarif
  palisade model scan ./models --severity-threshold critical

Formats are recognised by content, not by name: pickle, PyTorch (zip, legacy tar
and raw), NumPy .npy/.npz, joblib (plain, gzip, zlib), Keras .keras and .h5,
safetensors, GGUF, ONNX. Other files are counted and skipped.

Exit codes: 0 nothing at or above the threshold, 1 findings at or above it,
2 usage or input errors (a file that could not be read).")]
pub(crate) struct Args {
    /// Model files or folders (folders recursively).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, default_value = "table", env = "PALISADE_FORMAT", value_parser = ["table", "json", "sarif"])]
    format: String,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Exit 1 when a finding at or above this severity remains. The default,
    /// low, lets the info note on clean pickle checkpoints pass.
    #[arg(long, value_name = "LEVEL", default_value = "low", value_parser = super::super::scan_severity)]
    severity_threshold: Severity,

    /// Report only findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = super::super::scan_severity)]
    min_severity: Option<Severity>,

    /// Never colour the table output.
    #[arg(long)]
    no_color: bool,

    #[command(flatten)]
    sinks: super::super::sinks::SinkOptions,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let mut report = scan_paths(&args.paths, &Options::default());
    if let Some(min) = args.min_severity {
        report.findings.retain(|f| f.severity >= min);
    }
    let format: Format = args.format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    let opts = RenderOptions {
        color: format == Format::Table
            && to_stdout
            && !args.no_color
            && super::super::stdout_color(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    super::super::emit_with(args.output.as_deref(), &mut |w| {
        write(&report, format, &opts, w)
    })?;
    args.sinks.deliver(&report.findings)?;
    if !report.diagnostics.is_empty() {
        for d in &report.diagnostics {
            eprintln!("palisade: input error: {d}");
        }
        return Ok(EXIT_INPUT);
    }
    Ok(if report.fails(args.severity_threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
