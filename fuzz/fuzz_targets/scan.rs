//! Load, then run every built-in rule over whatever loaded, then write the
//! report in every format: the rules must survive garbage objects (a
//! `containers` that is a string, a `rules` list of numbers, a selector
//! that is a list...) and the writers whatever the rules said.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_core::output::{self, Format, RenderOptions};
use std::sync::OnceLock;

static ENGINE: OnceLock<palisade_rules::Engine> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let engine = ENGINE
        .get_or_init(|| palisade_rules::Engine::new(palisade_core::config::Config::default()));
    let load = palisade_k8s::load::load_str("fuzz.yaml", &text);
    let report = engine.scan(load, None);
    let opts = RenderOptions::default();
    for format in Format::ALL {
        output::write(&report, format, &opts, &mut std::io::sink()).expect("writing to a sink");
    }
});
