//! Differential: the YAML fast path against the general parser. Whenever
//! the fast path gives a tree for a text, `saphyr-parser` must give the same
//! tree (texts, styles, positions); when it declines, `parse_stream` is the
//! general parser's answer. Neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_core::yaml::{parse_stream, parse_stream_fast, parse_stream_general};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let general = parse_stream_general(text, 3);
    match parse_stream_fast(text, 3) {
        Some(fast) => assert_eq!(
            general.as_ref().ok(),
            Some(&fast),
            "the fast path and saphyr disagree on {text:?}"
        ),
        None => assert_eq!(parse_stream(text, 3), general),
    }
});
