//! PLS-KA-013: a ConfigMap holding credentials was created or changed.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;
use palisade_core::secrets;

pub(crate) struct ConfigMapCredentials;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-013",
        title: "ConfigMap with credentials written",
        severity: Severity::High,
        category: "audit-secrets",
        rationale: "ConfigMaps are readable by far more subjects than Secrets and land in logs, dumps and Git; a credential in one has leaked.",
        remediation: "Move the value into a Secret (or an external secret store), rotate it, and remove it from the ConfigMap.",
        references: References {
            mitre: &["T1552.007"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["Create/Modify Configmap With Private Credentials"],
};

impl Rule for ConfigMapCredentials {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.resource() != "configmaps"
            || !super::modifies(&ev.verb)
            || !ev.complete()
            || !ev.succeeded()
        {
            return;
        }
        let Some(data) = cx
            .request()
            .and_then(|r| r.get("data"))
            .and_then(Value::as_object)
        else {
            return;
        };
        for (key, value) in data {
            let Some(value) = value.as_str() else {
                continue;
            };
            let mut found = secrets::detect_keyed(key, value);
            if found.is_empty() {
                for a in secrets::assignments(value) {
                    found.extend(secrets::named_secret(&a.key, &a.value));
                    if !found.is_empty() {
                        break;
                    }
                }
            }
            if let Some(m) = found.first() {
                out.push(Hit::new(
                    format!("requestObject.data.{key}"),
                    format!(
                        "ConfigMap {} key {key:?} holds a {} ({})",
                        cx.object(),
                        m.description,
                        secrets::redact(&value[m.span.clone()])
                    ),
                ));
            }
        }
    }
}
