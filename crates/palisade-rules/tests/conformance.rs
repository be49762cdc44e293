//! Holds every rule to the peer scanners' own fixtures in
//! `../shared/conformance/`: for each peer check that a rule claims in its
//! `references`, every bad/failure case must raise one of the claiming rules
//! and every good/success case must raise none. Deliberate differences are
//! listed, with reasons, in `docs/conformance-exceptions.md` and skipped by name.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_macros)] // tests fail loudly and print what they checked

use palisade_core::config::Config;
use palisade_k8s::load::load_str;
use palisade_rules::{Engine, rules};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn conformance_dir() -> Option<PathBuf> {
    let d = root().join("../shared/conformance");
    d.is_dir().then_some(d)
}

fn exceptions() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(root().join("docs/conformance-exceptions.md")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells.len() >= 4 && cells[1].contains('/') && !cells[1].starts_with('-'))
                .then(|| (cells[1].trim_matches('`').to_owned(), cells[2].to_owned()))
        })
        .collect()
}

#[derive(Debug, PartialEq)]
enum Expect {
    Fire,
    Silent,
}

fn case_kind(peer: &str, file: &str) -> Option<Expect> {
    match peer {
        "trivy" if file.starts_with("bad") => Some(Expect::Fire),
        "trivy" if file.starts_with("good") => Some(Expect::Silent),
        "polaris" if file.starts_with("failure") => Some(Expect::Fire),
        "polaris" if file.starts_with("success") => Some(Expect::Silent),
        _ => None,
    }
}

fn claims(peer: &str, check: &str) -> Vec<usize> {
    rules::all()
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let refs = &r.meta().references;
            let list = match peer {
                "trivy" => refs.trivy,
                "polaris" => refs.polaris,
                _ => &[],
            };
            list.contains(&check)
        })
        .map(|(i, _)| i)
        .collect()
}

fn fires(rule_idx: &[usize], file: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let load = load_str(&file.display().to_string(), &text);
    if !load.diagnostics.is_empty() && load.objects.is_empty() {
        return Err(format!("does not load: {:?}", load.diagnostics));
    }
    let picked: Vec<_> = rules::all()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| rule_idx.contains(i))
        .map(|(_, r)| r)
        .collect();
    let engine = Engine::with_rules(picked, Config::default());
    Ok(engine
        .check(&load.objects)
        .iter()
        .map(|f| format!("{} {} {}", f.meta.id, f.path, f.message))
        .collect())
}

#[test]
fn peer_fixtures_agree_with_claiming_rules() {
    let Some(dir) = conformance_dir() else {
        // CI always has the peers' fixtures beside the checkout: a missing
        // folder there is a broken set-up, not a reason to pass.
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/conformance not found beside the checkout, and CI is set"
        );
        eprintln!("SKIPPED: ../shared/conformance not found beside the checkout");
        return;
    };
    let skip = exceptions();
    let mut used_skips = Vec::new();
    let mut failures = Vec::new();
    let mut stats: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for peer in ["trivy", "polaris"] {
        let mut checks: Vec<_> = std::fs::read_dir(dir.join(peer))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        checks.sort();
        for check_dir in checks {
            let check = check_dir.file_name().unwrap().to_string_lossy().to_string();
            let idx = claims(peer, &check);
            if idx.is_empty() {
                continue;
            }
            let mut files: Vec<_> = std::fs::read_dir(&check_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for f in files {
                let name = f.file_name().unwrap().to_string_lossy().to_string();
                let Some(expect) = case_kind(peer, &name) else {
                    continue;
                };
                let key = format!("{peer}/{check}/{name}");
                let s = stats.entry(peer).or_default();
                if skip.contains_key(&key) {
                    used_skips.push(key);
                    s.2 += 1;
                    continue;
                }
                match fires(&idx, &f) {
                    Err(e) => {
                        failures.push(format!("{key}: {e}"));
                    }
                    Ok(found) => match expect {
                        Expect::Fire if found.is_empty() => {
                            failures.push(format!("{key}: expected a finding, got none"));
                        }
                        Expect::Silent if !found.is_empty() => {
                            failures.push(format!("{key}: expected silence, got {found:?}"));
                        }
                        _ => s.0 += 1,
                    },
                }
                s.1 += 1;
            }
        }
    }
    for (peer, (pass, total, skipped)) in &stats {
        eprintln!(
            "conformance {peer}: {pass}/{total} cases agree, {skipped} documented exceptions"
        );
    }
    let unused: Vec<_> = skip.keys().filter(|k| !used_skips.contains(k)).collect();
    assert!(
        unused.is_empty(),
        "exceptions in docs/conformance-exceptions.md that match no case: {unused:?}"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
