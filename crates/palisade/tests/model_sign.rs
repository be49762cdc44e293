//! Interoperability with the OpenSSF reference implementation
//! (`model_signing` 1.1.1 from PyPI, installed by `.ci/run` into a venv
//! whose Python is `PALISADE_MODEL_SIGNING_PY`): the reference signs and
//! Palisade verifies, and the reverse, for the key and certificate methods,
//! files and shards, SHA-256 and BLAKE3, on a model with nested folders.
//!
//! Without the venv these tests say SKIPPED loudly; with `CI` set they fail.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_macros)] // tests fail loudly and print what they skip

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Command as Proc;

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PALISADE_MODEL_SIGNING_PY") {
        let p = PathBuf::from(p);
        assert!(
            p.exists(),
            "PALISADE_MODEL_SIGNING_PY={} does not exist",
            p.display()
        );
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but PALISADE_MODEL_SIGNING_PY is not: .ci/run must install model-signing"
    );
    eprintln!(
        "SKIPPED: model_signing interop tests need PALISADE_MODEL_SIGNING_PY \
         (python3 -m venv v && v/bin/pip install model-signing==1.1.1 pyOpenSSL)"
    );
    None
}

/// The `model_signing` CLI beside the venv's Python.
fn reference_cli(py: &Path) -> PathBuf {
    py.with_file_name("model_signing")
}

fn run_ok(cmd: &mut Proc) -> String {
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn run_fails(cmd: &mut Proc) -> String {
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{cmd:?} should fail:\n{text}");
    text
}

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap()
}

/// A model with nested folders and the traps of ordering and ignoring:
/// `a.b` sorts after `a/x` by components but before it as a string.
fn make_model(root: &Path) -> PathBuf {
    let m = root.join("my-model");
    for d in ["a/x/deep", "tokenizer", ".git"] {
        std::fs::create_dir_all(m.join(d)).unwrap();
    }
    let weights: Vec<u8> = (0..250_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(
        m.join("a/x/deep/model-00001-of-00002.safetensors"),
        &weights,
    )
    .unwrap();
    std::fs::write(
        m.join("a/x/model-00002-of-00002.safetensors"),
        &weights[..3_333],
    )
    .unwrap();
    std::fs::write(m.join("a.b"), b"sorting trap").unwrap();
    std::fs::write(
        m.join("config.json"),
        br#"{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}"#,
    )
    .unwrap();
    std::fs::write(
        m.join("tokenizer/tokenizer.json"),
        b"{\"version\": \"1.0\"}",
    )
    .unwrap();
    std::fs::write(m.join("empty.txt"), b"").unwrap();
    std::fs::write(m.join(".git/HEAD"), b"ref: refs/heads/main\n").unwrap();
    m
}

const KEYGEN: &str = r#"
import sys, datetime
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization, hashes
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
out = sys.argv[1]
def write_key(name, k, password=None):
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    open(f"{out}/{name}.key", "wb").write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    open(f"{out}/{name}.pub", "wb").write(k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
write_key("p256", ec.generate_private_key(ec.SECP256R1()))
write_key("p384", ec.generate_private_key(ec.SECP384R1()))
write_key("enc", ec.generate_private_key(ec.SECP256R1()), b"correct horse")
sec1 = ec.generate_private_key(ec.SECP256R1())
open(f"{out}/sec1.key", "wb").write(sec1.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
open(f"{out}/sec1.pub", "wb").write(sec1.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
now = datetime.datetime.now(datetime.timezone.utc)
def cert(subject, issuer, pub, signer, ca, usage, eku=None, pathlen=None):
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(pub).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
        .add_extension(usage, critical=True))
    if eku: b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(signer, hashes.SHA384() if isinstance(signer.curve, ec.SECP384R1) else hashes.SHA256())
def ku(sign=False, certsign=False):
    return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=certsign, crl_sign=certsign, encipher_only=False, decipher_only=False)
root_k = ec.generate_private_key(ec.SECP384R1())
inter_k = ec.generate_private_key(ec.SECP256R1())
leaf_k = ec.generate_private_key(ec.SECP256R1())
root = cert("Palisade Test Root", "Palisade Test Root", root_k.public_key(), root_k, True, ku(certsign=True), pathlen=1)
inter = cert("Palisade Test Intermediate", "Palisade Test Root", inter_k.public_key(), root_k, True, ku(certsign=True), pathlen=0)
leaf = cert("model-signer", "Palisade Test Intermediate", leaf_k.public_key(), inter_k, False, ku(sign=True), [ExtendedKeyUsageOID.CODE_SIGNING])
noleaf = cert("not-a-signer", "Palisade Test Intermediate", leaf_k.public_key(), inter_k, False, ku(), [ExtendedKeyUsageOID.SERVER_AUTH])
for name, c in [("root", root), ("inter", inter), ("leaf", leaf), ("noleaf", noleaf)]:
    open(f"{out}/{name}.pem", "wb").write(c.public_bytes(serialization.Encoding.PEM))
write_key("leaf", leaf_k)
other_root_k = ec.generate_private_key(ec.SECP256R1())
other = cert("Other Root", "Other Root", other_root_k.public_key(), other_root_k, True, ku(certsign=True))
open(f"{out}/other-root.pem", "wb").write(other.public_bytes(serialization.Encoding.PEM))
"#;

fn keys(py: &Path, dir: &Path) -> PathBuf {
    let k = dir.join("keys");
    std::fs::create_dir_all(&k).unwrap();
    run_ok(Proc::new(py).arg("-c").arg(KEYGEN).arg(&k));
    k
}

fn verify_with_palisade(m: &Path, sig: &Path, key: &Path) -> assert_cmd::assert::Assert {
    palisade()
        .args(["model", "verify"])
        .arg(m)
        .arg("--signature")
        .arg(sig)
        .arg("--public-key")
        .arg(key)
        .assert()
}

#[test]
fn reference_signs_with_key_palisade_verifies() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    let m = make_model(t.path());
    let k = keys(&py, t.path());
    for curve in ["p256", "p384", "sec1"] {
        let sig = t.path().join(format!("{curve}.sig"));
        run_ok(
            Proc::new(reference_cli(&py))
                .args(["sign", "key"])
                .arg(&m)
                .arg("--private_key")
                .arg(k.join(format!("{curve}.key")))
                .arg("--signature")
                .arg(&sig),
        );
        verify_with_palisade(&m, &sig, &k.join(format!("{curve}.pub")))
            .success()
            .stdout(predicates::str::contains("Verified: 6 files"));
        // The other key is refused.
        let other = if curve == "p384" { "p256" } else { "p384" };
        verify_with_palisade(&m, &sig, &k.join(format!("{other}.pub")))
            .code(1)
            .stderr(predicates::str::contains("wrong key"));
    }
    // Reference signature written inside the model (its default use): the
    // signature file is recorded in ignore_paths and honoured.
    let inside = m.join("model.sig");
    run_ok(
        Proc::new(reference_cli(&py))
            .args(["sign", "key"])
            .arg(&m)
            .arg("--private_key")
            .arg(k.join("p256.key"))
            .arg("--signature")
            .arg(&inside),
    );
    verify_with_palisade(&m, &inside, &k.join("p256.pub")).success();
    // A changed byte deep in the tree is named.
    let w = m.join("a/x/deep/model-00001-of-00002.safetensors");
    let mut bytes = std::fs::read(&w).unwrap();
    bytes[123_456] ^= 0x01;
    std::fs::write(&w, &bytes).unwrap();
    verify_with_palisade(&m, &inside, &k.join("p256.pub"))
        .code(1)
        .stdout(predicates::str::contains(
            "a/x/deep/model-00001-of-00002.safetensors: content differs from the signed digest",
        ));
}

#[test]
fn palisade_signs_with_key_reference_verifies() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    let m = make_model(t.path());
    let k = keys(&py, t.path());
    for curve in ["p256", "p384", "enc", "sec1"] {
        let sig = t.path().join(format!("{curve}.sig"));
        palisade()
            .args(["model", "sign"])
            .arg(&m)
            .arg("--key")
            .arg(k.join(format!("{curve}.key")))
            .arg("--signature")
            .arg(&sig)
            .env("PALISADE_KEY_PASSWORD", "correct horse")
            .assert()
            .success();
        let text = run_ok(
            Proc::new(reference_cli(&py))
                .args(["verify", "key"])
                .arg(&m)
                .arg("--signature")
                .arg(&sig)
                .arg("--public_key")
                .arg(k.join(format!("{curve}.pub"))),
        );
        assert!(text.contains("Verification succeeded"), "{text}");
    }
    // An unsigned extra file: the reference refuses too (proof it checks).
    std::fs::write(m.join("a/x/evil.py"), b"import os; os.system('id')").unwrap();
    let text = run_fails(
        Proc::new(reference_cli(&py))
            .args(["verify", "key"])
            .arg(&m)
            .arg("--signature")
            .arg(t.path().join("p256.sig"))
            .arg("--public_key")
            .arg(k.join("p256.pub")),
    );
    assert!(text.contains("evil.py"), "{text}");
    verify_with_palisade(&m, &t.path().join("p256.sig"), &k.join("p256.pub"))
        .code(1)
        .stdout(predicates::str::contains(
            "a/x/evil.py: file is not in the signature",
        ));
    palisade()
        .args(["model", "verify"])
        .arg(&m)
        .arg("--signature")
        .arg(t.path().join("p256.sig"))
        .arg("--public-key")
        .arg(k.join("p256.pub"))
        .arg("--ignore-unsigned-files")
        .assert()
        .success();
}

/// The reference's Python API, for what its CLI does not expose (shards,
/// BLAKE3): `sign KEY MODEL SIG METHOD HASH` or `verify PUB MODEL SIG`.
const API: &str = r#"
import sys
from model_signing import hashing, signing, verifying
op = sys.argv[1]
if op == "sign":
    key, model, sig, method, hash_type = sys.argv[2:7]
    hc = hashing.Config()
    if method == "shards":
        hc.use_shard_serialization(hashing_algorithm=hash_type, shard_size=100000)
    else:
        hc.use_file_serialization(hashing_algorithm=hash_type)
    signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(hc).sign(model, sig)
else:
    pub, model, sig = sys.argv[2:5]
    # No hashing config: the reference guesses it from the signature.
    verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(model, sig)
    print("API verification succeeded")
"#;

#[test]
fn shards_and_blake3_both_ways() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    let m = make_model(t.path());
    let k = keys(&py, t.path());
    for (method, hash) in [("shards", "sha256"), ("files", "blake3")] {
        // Reference signs; Palisade verifies (shard_size arrives as 100000.0).
        let sig = t.path().join(format!("ref-{method}-{hash}.sig"));
        run_ok(
            Proc::new(&py)
                .arg("-c")
                .arg(API)
                .args(["sign"])
                .arg(k.join("p256.key"))
                .arg(&m)
                .arg(&sig)
                .args([method, hash]),
        );
        if method == "shards" {
            let raw = std::fs::read_to_string(&sig).unwrap();
            let b: serde_json::Value = serde_json::from_str(&raw).unwrap();
            let payload = base64_decode(b["dsseEnvelope"]["payload"].as_str().unwrap());
            assert!(payload.contains("\"shard_size\": 100000.0"), "{payload}");
        }
        verify_with_palisade(&m, &sig, &k.join("p256.pub")).success();
        // Palisade signs; the reference verifies with the configuration it
        // reads from the signature.
        let sig = t.path().join(format!("pal-{method}-{hash}.sig"));
        palisade()
            .args(["model", "sign"])
            .arg(&m)
            .arg("--key")
            .arg(k.join("p256.key"))
            .arg("--signature")
            .arg(&sig)
            .args(["--method", method, "--shard-size", "100000", "--hash", hash])
            .assert()
            .success();
        let text = run_ok(
            Proc::new(&py)
                .arg("-c")
                .arg(API)
                .arg("verify")
                .arg(k.join("p256.pub"))
                .arg(&m)
                .arg(&sig),
        );
        assert!(text.contains("API verification succeeded"), "{text}");
    }
    // Shards name the range that changed.
    let w = m.join("a/x/deep/model-00001-of-00002.safetensors");
    let mut bytes = std::fs::read(&w).unwrap();
    bytes[212_345] ^= 0x80;
    std::fs::write(&w, &bytes).unwrap();
    verify_with_palisade(
        &m,
        &t.path().join("ref-shards-sha256.sig"),
        &k.join("p256.pub"),
    )
    .code(1)
    .stdout(predicates::str::contains(
        "a/x/deep/model-00001-of-00002.safetensors: content differs in bytes 200000..250000",
    ));
    // And a truncation is named as such.
    std::fs::write(&w, &bytes[..150_000]).unwrap();
    verify_with_palisade(
        &m,
        &t.path().join("ref-shards-sha256.sig"),
        &k.join("p256.pub"),
    )
    .code(1)
    .stdout(predicates::str::contains(
        "truncated: signed with 250000 bytes, now 150000",
    ));
}

fn base64_decode(s: &str) -> String {
    use std::io::Write as _;
    let out = Proc::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = out.unwrap();
    child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

#[test]
fn certificate_method_both_ways() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    let m = make_model(t.path());
    let k = keys(&py, t.path());
    let sig = t.path().join("ref-cert.sig");
    run_ok(
        Proc::new(reference_cli(&py))
            .args(["sign", "certificate"])
            .arg(&m)
            .arg("--private_key")
            .arg(k.join("leaf.key"))
            .arg("--signing_certificate")
            .arg(k.join("leaf.pem"))
            .arg("--certificate_chain")
            .arg(k.join("inter.pem"))
            .arg("--certificate_chain")
            .arg(k.join("root.pem"))
            .arg("--signature")
            .arg(&sig),
    );
    let verify = |sig: &Path, root: &str| {
        palisade()
            .args(["model", "verify"])
            .arg(&m)
            .arg("--signature")
            .arg(sig)
            .arg("--certificate-chain")
            .arg(k.join(root))
            .assert()
    };
    verify(&sig, "root.pem")
        .success()
        .stdout(predicates::str::contains(
            "signed by certificate CN=model-signer",
        ));
    verify(&sig, "other-root.pem")
        .code(1)
        .stderr(predicates::str::contains("does not lead to a trusted root"));

    let ours = t.path().join("pal-cert.sig");
    palisade()
        .args(["model", "sign"])
        .arg(&m)
        .arg("--key")
        .arg(k.join("leaf.key"))
        .arg("--certificate")
        .arg(k.join("leaf.pem"))
        .arg("--certificate-chain")
        .arg(k.join("inter.pem"))
        .arg("--certificate-chain")
        .arg(k.join("root.pem"))
        .arg("--signature")
        .arg(&ours)
        .assert()
        .success();
    let text = run_ok(
        Proc::new(reference_cli(&py))
            .args(["verify", "certificate"])
            .arg(&m)
            .arg("--signature")
            .arg(&ours)
            .arg("--certificate_chain")
            .arg(k.join("root.pem")),
    );
    assert!(text.contains("Verification succeeded"), "{text}");
    verify(&ours, "root.pem").success();

    // A leaf that may not sign is refused at signing time.
    palisade()
        .args(["model", "sign"])
        .arg(&m)
        .arg("--key")
        .arg(k.join("leaf.key"))
        .arg("--certificate")
        .arg(k.join("noleaf.pem"))
        .arg("--certificate-chain")
        .arg(k.join("inter.pem"))
        .arg("--certificate-chain")
        .arg(k.join("root.pem"))
        .arg("--signature")
        .arg(t.path().join("bad.sig"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot be used for signing"));
    // A chain without its root is refused at signing time.
    palisade()
        .args(["model", "sign"])
        .arg(&m)
        .arg("--key")
        .arg(k.join("leaf.key"))
        .arg("--certificate")
        .arg(k.join("leaf.pem"))
        .arg("--certificate-chain")
        .arg(k.join("inter.pem"))
        .arg("--signature")
        .arg(t.path().join("bad.sig"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("does not lead to a trusted root"));
}

#[test]
fn sigstore_signing_is_refused_not_faked() {
    let t = tempfile::tempdir().unwrap();
    let m = make_model(t.path());
    palisade()
        .args(["model", "sign"])
        .arg(&m)
        .arg("--sigstore")
        .arg("--signature")
        .arg(t.path().join("x.sig"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("needs the network"));
    assert!(!t.path().join("x.sig").exists());
}

#[test]
fn keygen_keys_sign_for_palisade_and_the_reference() {
    let t = tempfile::tempdir().unwrap();
    let m = make_model(t.path());
    for curve in ["p256", "p384"] {
        let (key, public) = (
            t.path().join(format!("{curve}.pem")),
            t.path().join(format!("{curve}.pub")),
        );
        palisade()
            .args(["model", "keygen", "--curve", curve, "--key"])
            .arg(&key)
            .arg("--public-key")
            .arg(&public)
            .assert()
            .success()
            .stdout(predicates::str::contains(format!("{}", key.display())));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "private key mode {mode:o}");
        }
        // Never overwritten.
        palisade()
            .args(["model", "keygen", "--key"])
            .arg(&key)
            .arg("--public-key")
            .arg(t.path().join("other.pub"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains("must not exist yet"));
        assert!(!t.path().join("other.pub").exists(), "orphan public key");
        let sig = t.path().join(format!("{curve}.sig"));
        palisade()
            .args(["model", "sign"])
            .arg(&m)
            .arg("--key")
            .arg(&key)
            .arg("--signature")
            .arg(&sig)
            .assert()
            .success();
        verify_with_palisade(&m, &sig, &public).success();
        if let Some(py) = python() {
            let text = run_ok(
                Proc::new(reference_cli(&py))
                    .args(["verify", "key"])
                    .arg(&m)
                    .arg("--signature")
                    .arg(&sig)
                    .arg("--public_key")
                    .arg(&public),
            );
            assert!(text.contains("Verification succeeded"), "{text}");
        }
    }
}
