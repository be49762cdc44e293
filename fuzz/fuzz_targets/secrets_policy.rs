//! Rotation policies on arbitrary input: the generator text of
//! `palisade.dev/generator`, durations, and the `secrets` section of
//! `palisade.yaml`; a parsed policy then goes through the rotation decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = palisade_secrets::policy::parse_generator(&text);
    let _ = text.parse::<palisade_secrets::Duration>();
    if let Ok(set) = palisade_secrets::policy::PolicySet::parse("palisade.yaml", &text) {
        let mut ann = BTreeMap::new();
        let mut mid = text.len() / 2;
        while !text.is_char_boundary(mid) {
            mid -= 1;
        }
        let (a, b) = text.split_at(mid);
        ann.insert("palisade.dev/generator".to_owned(), a.to_owned());
        ann.insert("palisade.dev/rotate-every".to_owned(), b.to_owned());
        let meta = palisade_secrets::rotation::SecretMeta {
            namespace: "ns".into(),
            name: "s".into(),
            kind: "Opaque".into(),
            annotations: ann,
            created: Some(b.to_owned()),
            ..Default::default()
        };
        let _ = palisade_secrets::rotation::decide(&meta, &set, time::OffsetDateTime::UNIX_EPOCH);
    }
});
