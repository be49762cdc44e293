//! The manifest loader on arbitrary input: valid UTF-8 as given, any other
//! bytes decoded lossily (as a file read with replacement characters would
//! be). Both as a YAML name and as a JSON name, since the name picks the
//! parser. It must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for name in ["fuzz.yaml", "fuzz.json"] {
        let out = palisade_k8s::load::load_str(name, &text);
        assert_eq!(out.files, 1);
    }
});
