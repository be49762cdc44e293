//! `palisade model encrypt|decrypt` end to end, and the encrypted-weights
//! deployment pattern in examples/ rated clean by the scanner itself.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap()
}

#[test]
fn folder_round_trips_through_age_and_a_wrong_identity_writes_nothing() {
    use palisade_model::encrypt::SecretString;
    use palisade_model::encrypt::generate_identity;
    let expose = |s: &SecretString| {
        use palisade_model::encrypt::ExposeSecret as _;
        s.expose_secret().to_owned()
    };
    let t = tempfile::tempdir().unwrap();
    let m = t.path().join("model");
    std::fs::create_dir_all(m.join("sub")).unwrap();
    let weights: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(m.join("sub/model.safetensors"), &weights).unwrap();
    std::fs::write(m.join("config.json"), b"{}").unwrap();
    let (secret, public) = generate_identity();
    let id = t.path().join("identity.txt");
    std::fs::write(&id, format!("# test identity\n{}\n", expose(&secret))).unwrap();
    let enc = t.path().join("enc");
    palisade()
        .args(["model", "encrypt"])
        .arg(&m)
        .arg("-o")
        .arg(&enc)
        .args(["-r", &public])
        .assert()
        .success();
    let ct = std::fs::read(enc.join("sub/model.safetensors.age")).unwrap();
    assert!(ct.starts_with(b"age-encryption.org/v1\n"));
    assert!(!ct.windows(64).any(|w| w == &weights[1000..1064]));
    let out = t.path().join("out");
    palisade()
        .args(["model", "decrypt"])
        .arg(&enc)
        .arg("-o")
        .arg(&out)
        .arg("-i")
        .arg(&id)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("sub/model.safetensors")).unwrap(),
        weights
    );

    let (other, _) = generate_identity();
    let other_id = t.path().join("other.txt");
    std::fs::write(&other_id, expose(&other)).unwrap();
    palisade()
        .args(["model", "decrypt"])
        .arg(enc.join("config.json.age"))
        .arg("-o")
        .arg(t.path().join("nope.json"))
        .arg("-i")
        .arg(&other_id)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("No matching keys"));
    assert!(!t.path().join("nope.json").exists());

    // Passphrase mode, from the environment.
    let penc = t.path().join("p.age");
    palisade()
        .args(["model", "encrypt"])
        .arg(m.join("config.json"))
        .arg("-o")
        .arg(&penc)
        .arg("--passphrase")
        .env("PALISADE_AGE_PASSPHRASE", "correct horse battery staple")
        .assert()
        .success();
    palisade()
        .args(["model", "decrypt"])
        .arg(&penc)
        .arg("-o")
        .arg(t.path().join("p.json"))
        .env("PALISADE_AGE_PASSPHRASE", "correct horse battery staple")
        .assert()
        .success();
    assert_eq!(std::fs::read(t.path().join("p.json")).unwrap(), b"{}");
}

#[test]
fn encrypted_model_example_is_rated_clean_by_the_scanner() {
    let out = palisade()
        .args(["scan", "examples/encrypted-model", "--format", "json"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let bad: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("medium" | "high" | "critical")))
        .collect();
    assert!(
        bad.is_empty(),
        "encrypted-model example has findings: {bad:#?}"
    );
    // The pattern itself is there: ciphertext volume read-only, plaintext in memory.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/encrypted-model/encrypted-weights.yaml"
    ))
    .unwrap();
    assert!(
        text.contains("medium: Memory")
            && text.contains("- decrypt")
            && text.contains("readOnly: true")
    );
}
