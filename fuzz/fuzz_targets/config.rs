//! `palisade.yaml` parsing and validation on arbitrary input. Every rule ID
//! of the form `PLS-...` counts as known, so the fuzzer reaches past the
//! rule-name check into exceptions, severities and registries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) =
        palisade_core::config::Config::parse("palisade.yaml", &text, &|id| id.starts_with("PLS-"))
    {
        // A config error always points into the file.
        assert!(e.line >= 1, "config error without a line: {e:?}");
    }
});
