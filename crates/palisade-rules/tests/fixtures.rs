//! Every rule has fixtures under `fixtures/<RULE-ID>/`: each `fail*.yaml`
//! must raise the rule (exactly `N` times when the file says `# expect: N`),
//! each `pass*.yaml` must not. One table-driven test runs them all. A
//! `palisade.yaml` beside the fixtures configures the run (for rules that
//! act on settings, such as an allowed-registry list).

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_macros)] // tests fail loudly and print what they checked

use palisade_core::config::Config;
use palisade_k8s::load::load_str;
use palisade_rules::{Engine, rules};
use std::path::PathBuf;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn expected_count(text: &str) -> Option<usize> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix("# expect:")
                .and_then(|n| n.trim().parse().ok())
        })
}

/// Runs one rule over one fixture; returns the number of findings.
fn run(index: usize, file: &std::path::Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    let load = load_str(&file.display().to_string(), &text);
    assert!(
        load.diagnostics.is_empty(),
        "{}: fixture does not load: {:?}",
        file.display(),
        load.diagnostics
    );
    let rule = rules::all().swap_remove(index);
    let cfg_path = file.with_file_name("palisade.yaml");
    let config = match std::fs::read_to_string(&cfg_path) {
        Ok(t) => Config::parse(&cfg_path.display().to_string(), &t, &|_| true).unwrap(),
        Err(_) => Config::default(),
    };
    let engine = Engine::with_rules(vec![rule], config);
    let found = engine.check(&load.objects);
    let msgs = found
        .iter()
        .map(|f| format!("{} {}", f.path, f.message))
        .collect();
    (found.len(), msgs)
}

#[test]
fn every_rule_passes_its_fixtures() {
    let all = rules::all();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, rule) in all.iter().enumerate() {
        let id = rule.meta().id;
        let dir = fixtures_dir().join(id);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            failures.push(format!("{id}: no fixtures directory {}", dir.display()));
            continue;
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        let (mut fails, mut passes) = (0, 0);
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&f).unwrap();
            if name.starts_with("fail") {
                fails += 1;
                let (n, msgs) = run(i, &f);
                match expected_count(&text) {
                    Some(want) if want != n => failures.push(format!(
                        "{id}/{name}: expected {want} findings, got {n}: {msgs:#?}"
                    )),
                    None if n == 0 => {
                        failures.push(format!("{id}/{name}: expected findings, got none"));
                    }
                    _ => {}
                }
                checked += 1;
            } else if name.starts_with("pass") {
                passes += 1;
                let (n, msgs) = run(i, &f);
                if n != 0 {
                    failures.push(format!("{id}/{name}: expected no findings, got {msgs:#?}"));
                }
                checked += 1;
            }
        }
        if fails == 0 || passes == 0 {
            failures.push(format!(
                "{id}: needs at least one fail*.yaml and one pass*.yaml (has {fails} and {passes})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= all.len() * 2);
}

#[test]
fn fixture_directories_belong_to_rules() {
    let ids: Vec<&str> = rules::all().iter().map(|r| r.meta().id).collect();
    for e in std::fs::read_dir(fixtures_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            ids.contains(&name.as_str()),
            "fixtures/{name} belongs to no rule"
        );
    }
}
