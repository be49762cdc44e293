//! The YAML fast path on every manifest of the repository (the examples,
//! every crate's fixtures, and the peers' conformance fixtures in
//! `../shared` when present): each document it takes must come out exactly
//! as `saphyr-parser` builds it.

use palisade_core::yaml::{parse_stream_fast, parse_stream_general};
use std::path::{Path, PathBuf};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// Documents cut at `---` lines, with the line each starts on.
fn documents(text: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if (bare == "---" || bare.starts_with("--- ")) && !cur.is_empty() {
            out.push((std::mem::take(&mut cur), start));
            start = i as u32 + 1;
        }
        cur.push_str(line);
    }
    if !cur.is_empty() {
        out.push((cur, start));
    }
    out
}

#[test]
fn the_fast_path_builds_saphyrs_trees_for_the_repositorys_manifests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["examples", "crates", "../shared/conformance"] {
        yaml_files(&root.join(dir), &mut files);
    }
    let (mut documents_seen, mut taken) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for (doc, line) in documents(&text) {
            documents_seen += 1;
            if let Some(fast) = parse_stream_fast(&doc, line - 1) {
                taken += 1;
                assert_eq!(
                    parse_stream_general(&doc, line - 1).as_ref(),
                    Ok(&fast),
                    "{} line {line}",
                    f.display()
                );
            }
        }
    }
    // The fast path must keep taking the common case (the examples alone
    // hold well over a hundred documents it takes).
    assert!(
        taken >= 100 && taken * 3 >= documents_seen,
        "the fast path took {taken} of {documents_seen} documents"
    );
}
