//! Secret values where they do not belong: literal credentials in container
//! environments and command lines, ConfigMaps, annotations, committed
//! Secret manifests and any other field, plus Secrets exposed as
//! environment variables.
//!
//! Detection lives in `palisade_core::secrets` (format detectors, key-name
//! heuristics, placeholders, redaction); `scan` applies it to objects.
//! Messages show only `secrets::redact` previews, never a value.
//!
//! Each field is owned by one rule, so a value is reported once:
//!
//! | field | rule | judged by |
//! |---|---|---|
//! | container `env[].value` | PLS-SEC-001 | detectors + env name |
//! | ConfigMap `data`, `binaryData` | PLS-SEC-002 | detectors + key name + embedded `KEY=value` names |
//! | `metadata.annotations` / `labels` anywhere | PLS-SEC-003 | detectors; last-applied copy judged as its object |
//! | Secret `data`, `stringData` | PLS-SEC-004 | detectors + key name + randomness |
//! | container `command`, `args` | PLS-SEC-005 | detectors + secret-named flags |
//! | every other string of a non-Secret object | PLS-SEC-006 | detectors only |
//! | container `env[].valueFrom.secretKeyRef`, `envFrom[].secretRef` | PLS-SEC-007 | presence |

use crate::rule::Rule;

mod annotations;
mod args;
mod configmap;
mod env_literal;
mod env_secret_ref;
mod fields;
mod scan;
mod secret_manifest;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(env_literal::EnvLiteral),
        Box::new(configmap::ConfigMapSecret),
        Box::new(annotations::AnnotationSecret),
        Box::new(secret_manifest::SecretManifest),
        Box::new(args::ArgsSecret),
        Box::new(fields::FieldSecret),
        Box::new(env_secret_ref::EnvSecretRef),
    ]
}
