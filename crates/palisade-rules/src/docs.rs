//! The rule reference, generated from rule metadata: `docs/rules.md` and
//! `palisade explain`. Never written by hand; a test fails when the
//! committed `docs/rules.md` is stale.

use crate::rules;
use palisade_core::RuleMeta;
use std::fmt::Write as _;

fn peer_lines(m: &RuleMeta) -> Vec<String> {
    m.references
        .peers()
        .into_iter()
        .map(|(peer, ids)| format!("{peer}: {}", ids.join(", ")))
        .collect()
}

/// The text `palisade explain` prints for a rule.
pub fn explain_text(m: &RuleMeta) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} — {}", m.id, m.title);
    let _ = writeln!(s, "severity: {}    category: {}\n", m.severity, m.category);
    let _ = writeln!(s, "Why it matters\n  {}\n", m.rationale);
    let _ = writeln!(s, "How to fix\n  {}\n", m.remediation);
    let refs = peer_lines(m);
    if !refs.is_empty() {
        let _ = writeln!(s, "Equivalent checks and standards");
        for r in refs {
            let _ = writeln!(s, "  {r}");
        }
        s.push('\n');
    }
    if !m.references.links.is_empty() {
        let _ = writeln!(s, "Read more");
        for l in m.references.links {
            let _ = writeln!(s, "  {l}");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Suppress one object with the annotation\n  palisade.dev/ignore: \"{} reason=<why> [expires=YYYY-MM-DD]\"",
        m.id
    );
    s
}

/// `docs/rules.md`.
pub fn reference_markdown() -> String {
    let all: Vec<RuleMeta> = rules::all().iter().map(|r| *r.meta()).collect();
    let mut s = String::new();
    let _ = writeln!(s, "# Rule reference\n");
    let _ = writeln!(
        s,
        "Generated from the rules' metadata by `palisade rules --format markdown`; do not edit by hand \
         (a test fails when this file is stale: regenerate it with \
         `cargo run -q -- rules --format markdown > docs/rules.md`).\n"
    );
    let _ = writeln!(s, "{} rules.\n", all.len());
    let _ = writeln!(
        s,
        "| ID | Severity | Category | Title | Trivy | Kubescape | Checkov | Polaris | kube-linter |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for m in &all {
        let r = &m.references;
        let j = |ids: &[&str]| ids.join(", ");
        let _ = writeln!(
            s,
            "| [{id}](#{anchor}) | {sev} | {cat} | {title} | {} | {} | {} | {} | {} |",
            j(r.trivy),
            j(r.kubescape),
            j(r.checkov),
            j(r.polaris),
            j(r.kube_linter),
            id = m.id,
            anchor = m.id.to_ascii_lowercase(),
            sev = m.severity,
            cat = m.category,
            title = m.title.replace('|', "\\|"),
        );
    }
    for m in &all {
        let _ = writeln!(s, "\n## {}\n", m.id);
        let _ = writeln!(
            s,
            "**{}** — severity **{}**, category `{}`\n",
            m.title, m.severity, m.category
        );
        let _ = writeln!(s, "{}\n", m.rationale);
        let _ = writeln!(s, "**Fix.** {}\n", m.remediation);
        let refs = peer_lines(m);
        if !refs.is_empty() {
            let _ = writeln!(s, "**Equivalent checks and standards.**\n");
            for r in refs {
                let _ = writeln!(s, "- {r}");
            }
            s.push('\n');
        }
        if !m.references.links.is_empty() {
            let _ = writeln!(s, "**References.**\n");
            for l in m.references.links {
                let _ = writeln!(s, "- <{l}>");
            }
            s.push('\n');
        }
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
}
