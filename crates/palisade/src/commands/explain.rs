//! `palisade explain RULE`: a rule's documentation.

use anyhow::{Result, bail};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade explain PLS-POD-001
  palisade explain KSV-0017      # a peer ID finds the matching Palisade rule")]
pub(crate) struct Args {
    /// A rule ID (PLS-POD-001), or a peer's ID (KSV-0017, C-0057, CKV_K8S_16, runAsPrivileged).
    rule: String,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let q = args.rule.trim();
    let all = palisade_rules::rules::all();
    let mut hits: Vec<_> = all
        .iter()
        .map(|r| r.meta())
        .filter(|m| m.id.eq_ignore_ascii_case(q))
        .collect();
    if hits.is_empty() {
        hits = all
            .iter()
            .map(|r| r.meta())
            .filter(|m| {
                m.references
                    .peers()
                    .iter()
                    .any(|(_, ids)| ids.iter().any(|i| i.eq_ignore_ascii_case(q)))
            })
            .collect();
    }
    if hits.is_empty() {
        bail!("no rule {q:?}; `palisade rules --search TEXT` lists rules by ID, title or peer ID");
    }
    let text: String = hits
        .iter()
        .map(|m| palisade_rules::docs::explain_text(m))
        .collect::<Vec<_>>()
        .join("\n");
    super::emit(&text, None)?;
    Ok(crate::EXIT_OK)
}
