//! SIEM sink addresses (`--sink`, the gateway's `audit.sinks`) on arbitrary
//! input: `palisade_audit::sink::check` returns a sink or a configuration
//! error, never panics. Addresses naming a CA file are skipped (reading
//! arbitrary paths such as /dev/zero is not what is under test).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if text.contains("ca=") {
        return;
    }
    let _ = palisade_audit::sink::check(&text, &|name| (name == "TOKEN").then(|| "t".to_owned()));
});
