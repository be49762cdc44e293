//! `palisade rules`: list the built-in rules.

use anyhow::Result;
use palisade_core::{RuleMeta, Severity};
use std::fmt::Write as _;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade rules
  palisade rules --category rbac
  palisade rules --severity high
  palisade rules --search KSV-0017        # find the rule that matches a Trivy check
  palisade rules --format markdown > docs/rules.md")]
pub(crate) struct Args {
    /// Only rules of this category (e.g. pod-security, rbac, secrets, network).
    #[arg(long)]
    category: Option<String>,
    /// Only rules at or above this severity.
    #[arg(long, value_parser = super::scan_severity)]
    severity: Option<Severity>,
    /// Only rules whose ID, title or peer IDs contain this text (case-insensitive).
    #[arg(long)]
    search: Option<String>,
    /// Output format.
    #[arg(short, long, default_value = "table", value_parser = ["table", "json", "markdown"])]
    format: String,
}

fn matches(m: &RuleMeta, args: &Args) -> bool {
    if args
        .category
        .as_deref()
        .is_some_and(|c| !m.category.eq_ignore_ascii_case(c))
    {
        return false;
    }
    if args.severity.is_some_and(|s| m.severity < s) {
        return false;
    }
    if let Some(q) = &args.search {
        let q = q.to_ascii_lowercase();
        let hay = std::iter::once(m.id).chain(std::iter::once(m.title)).chain(
            m.references
                .peers()
                .into_iter()
                .flat_map(|(_, ids)| ids.iter().copied()),
        );
        if !hay.into_iter().any(|h| h.to_ascii_lowercase().contains(&q)) {
            return false;
        }
    }
    true
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let all: Vec<RuleMeta> = palisade_rules::rules::all()
        .iter()
        .map(|r| *r.meta())
        .collect();
    let picked: Vec<&RuleMeta> = all.iter().filter(|m| matches(m, args)).collect();
    let text = match args.format.as_str() {
        "json" => {
            let mut s = serde_json::to_string_pretty(&picked)?;
            s.push('\n');
            s
        }
        "markdown" => palisade_rules::docs::reference_markdown(),
        _ => {
            let mut s = String::new();
            let w = picked
                .iter()
                .map(|m| m.title.len())
                .max()
                .unwrap_or(5)
                .min(60);
            for m in &picked {
                let peers: Vec<String> = m
                    .references
                    .peers()
                    .into_iter()
                    .filter(|(p, _)| {
                        matches!(
                            *p,
                            "trivy" | "kubescape" | "checkov" | "polaris" | "kube-linter"
                        )
                    })
                    .flat_map(|(_, ids)| ids.iter().map(|i| (*i).to_owned()))
                    .collect();
                let _ = writeln!(
                    s,
                    "{:<13} {:<8} {:<15} {:<w$}  {}",
                    m.id,
                    m.severity.as_str(),
                    m.category,
                    m.title,
                    peers.join(" ")
                );
            }
            let _ = writeln!(s, "\n{} of {} rules", picked.len(), all.len());
            s
        }
    };
    super::emit(&text, None)?;
    Ok(crate::EXIT_OK)
}
