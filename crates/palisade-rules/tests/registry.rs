//! The rule registry: IDs unique and well-formed, metadata complete, and the
//! generated reference in `docs/rules.md` up to date.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_macros)] // tests fail loudly and print what they checked

use palisade_rules::{docs, rules};
use std::collections::BTreeSet;

#[test]
fn rule_ids_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for r in rules::all() {
        let m = r.meta();
        assert!(seen.insert(m.id), "duplicate rule ID {}", m.id);
        let parts: Vec<&str> = m.id.split('-').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "PLS"
                && parts[2].len() == 3
                && parts[2].bytes().all(|b| b.is_ascii_digit()),
            "malformed rule ID {}",
            m.id
        );
    }
}

#[test]
fn rule_metadata_is_complete() {
    for r in rules::all() {
        let m = r.meta();
        assert!(
            !m.title.is_empty() && m.title.len() <= 80,
            "{}: title",
            m.id
        );
        assert!(m.rationale.len() >= 40, "{}: rationale too short", m.id);
        assert!(m.remediation.len() >= 20, "{}: remediation too short", m.id);
        assert!(!m.category.is_empty(), "{}: category", m.id);
        let has_refs = !m.references.peers().is_empty() || !m.references.links.is_empty();
        assert!(has_refs, "{}: no references", m.id);
        for id in m.references.trivy {
            assert!(
                id.starts_with("KSV-") || id.starts_with("KCV-"),
                "{}: odd Trivy ID {id}",
                m.id
            );
        }
        for id in m.references.kubescape {
            assert!(id.starts_with("C-"), "{}: odd Kubescape ID {id}", m.id);
        }
        for id in m.references.checkov {
            assert!(
                id.starts_with("CKV_K8S_") || id.starts_with("CKV2_K8S_"),
                "{}: odd Checkov ID {id}",
                m.id
            );
        }
    }
}

#[test]
fn docs_rules_md_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let want = docs::reference_markdown();
    if std::env::var_os("PALISADE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is stale: run `PALISADE_UPDATE_DOCS=1 cargo test -p palisade-rules --test registry` \
         or `cargo run -q -- rules --format markdown > docs/rules.md`"
    );
}
