//! `palisade_model::scan::scan_bytes` on arbitrary bytes. The first byte
//! steers the input to one parser so each gets the fuzzer's attention:
//! 0 as is (content sniffing picks), 1 a pickle (PROTO 4 prepended), 2 a
//! safetensors file (its 8-byte header length prepended), 3 a GGUF file
//! (magic prepended), 4 a zip entry's bytes behind a local header, and the
//! whole thing once more with tiny limits (every limit path taken).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_model::scan::{Limits, Options, scan_bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut input = Vec::with_capacity(rest.len() + 16);
    match sel % 5 {
        1 => input.extend_from_slice(b"\x80\x04"),
        2 => {
            let n = rest.iter().position(|&b| b == 0).unwrap_or(rest.len()) as u64;
            input.extend_from_slice(&n.to_le_bytes());
        }
        3 => input.extend_from_slice(b"GGUF"),
        4 => input.extend_from_slice(b"PK\x03\x04"),
        _ => {}
    }
    input.extend_from_slice(rest);
    let _ = scan_bytes(&input, &Options::default());
    let tiny = Options {
        limits: Limits {
            max_stack: 64,
            max_memo: 8,
            max_marks: 8,
            max_pickles: 2,
            max_depth: 1,
            max_json: 4096,
            max_entries: 8,
            max_template: 256,
            max_hits: 4,
        },
    };
    let _ = scan_bytes(&input, &tiny);
});
