//! `palisade_model::bundle::parse` on arbitrary bytes: a hostile signature
//! file (Sigstore bundle, DSSE envelope, in-toto statement) must give an
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_model::bundle::parse(data);
});
