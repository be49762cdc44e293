//! The finding: one vocabulary for every part of Palisade that reports a problem.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is not one of critical, high, medium, low, info.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?} (expected critical, high, medium, low or info)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "informational" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(s.to_owned())),
        }
    }
}

/// The Kubernetes object (or other resource) a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct ResourceRef {
    /// `apiVersion` of the object.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind` of the object.
    pub kind: String,
    /// Namespace, when namespaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where a finding points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Location {
    /// The file as the user should open it: the input file, or for `helm
    /// template` output the template named by its `# Source:` comment.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// JSON path of the offending field inside the object.
    pub path: String,
    /// For rendered Helm output: the file that was actually read and the line
    /// in it, while `file`/`line` point at the template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<RenderedLocation>,
}

/// The position in the rendered stream, for findings that point at a Helm template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct RenderedLocation {
    /// The file (or `<stdin>`) that held the rendered output.
    pub file: String,
    /// 1-based line in that file.
    pub line: u32,
}

/// Equivalent checks of peer tools and the standards a finding maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct References {
    /// Trivy / trivy-checks IDs (`KSV-0017`).
    pub trivy: &'static [&'static str],
    /// Kubescape control IDs (`C-0057`).
    pub kubescape: &'static [&'static str],
    /// Checkov check IDs (`CKV_K8S_16`).
    pub checkov: &'static [&'static str],
    /// Polaris check names.
    pub polaris: &'static [&'static str],
    /// kube-linter check names.
    pub kube_linter: &'static [&'static str],
    /// kube-score check names.
    pub kube_score: &'static [&'static str],
    /// Pod Security Standards controls (`baseline:privileged`).
    pub pss: &'static [&'static str],
    /// CIS Kubernetes Benchmark sections.
    pub cis: &'static [&'static str],
    /// OWASP Top 10 for LLM Applications IDs.
    pub owasp_llm: &'static [&'static str],
    /// MITRE ATT&CK / ATLAS technique IDs.
    pub mitre: &'static [&'static str],
    /// Documentation links.
    pub links: &'static [&'static str],
}

impl References {
    /// No references.
    pub const NONE: References = References {
        trivy: &[],
        kubescape: &[],
        checkov: &[],
        polaris: &[],
        kube_linter: &[],
        kube_score: &[],
        pss: &[],
        cis: &[],
        owasp_llm: &[],
        mitre: &[],
        links: &[],
    };

    /// `(peer name, ids)` for every non-empty peer list, in a fixed order.
    pub fn peers(&self) -> Vec<(&'static str, &'static [&'static str])> {
        [
            ("trivy", self.trivy),
            ("kubescape", self.kubescape),
            ("checkov", self.checkov),
            ("polaris", self.polaris),
            ("kube-linter", self.kube_linter),
            ("kube-score", self.kube_score),
            ("pss", self.pss),
            ("cis", self.cis),
            ("owasp-llm", self.owasp_llm),
            ("mitre", self.mitre),
        ]
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .collect()
    }
}

/// A rule's fixed description. Every report writer and the generated rule
/// reference read rules through this.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleMeta {
    /// Stable ID, e.g. `PLS-POD-001`.
    pub id: &'static str,
    /// Short title.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Category, e.g. `pod-security`.
    pub category: &'static str,
    /// Why it matters.
    pub rationale: &'static str,
    /// How to fix.
    pub remediation: &'static str,
    /// Peer IDs and standards.
    pub references: References,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule ID.
    pub rule: Cow<'static, str>,
    /// Rule title.
    pub title: Cow<'static, str>,
    /// Effective severity (after configuration overrides).
    pub severity: Severity,
    /// Rule category.
    pub category: Cow<'static, str>,
    /// The object the finding is about.
    pub resource: ResourceRef,
    /// Where it is.
    pub location: Location,
    /// What is wrong, specific to this object. Never contains a secret value.
    pub message: String,
    /// How to fix it.
    pub remediation: Cow<'static, str>,
    /// Peer IDs and standards.
    pub references: FindingReferences,
    /// Stable across runs and line moves: rule + resource identity + path (+ discriminator).
    pub fingerprint: String,
}

/// The references of a finding, serialised with every key present. The
/// lists are the rule's own static metadata, shared by every finding of the
/// rule rather than copied into each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct FindingReferences {
    /// Trivy IDs.
    pub trivy: &'static [&'static str],
    /// Kubescape IDs.
    pub kubescape: &'static [&'static str],
    /// Checkov IDs.
    pub checkov: &'static [&'static str],
    /// Polaris checks.
    pub polaris: &'static [&'static str],
    /// kube-linter checks.
    pub kube_linter: &'static [&'static str],
    /// kube-score checks.
    pub kube_score: &'static [&'static str],
    /// Pod Security Standards.
    pub pss: &'static [&'static str],
    /// CIS benchmark.
    pub cis: &'static [&'static str],
    /// OWASP LLM Top 10.
    pub owasp_llm: &'static [&'static str],
    /// MITRE.
    pub mitre: &'static [&'static str],
}

impl From<&References> for FindingReferences {
    fn from(r: &References) -> Self {
        Self {
            trivy: r.trivy,
            kubescape: r.kubescape,
            checkov: r.checkov,
            polaris: r.polaris,
            kube_linter: r.kube_linter,
            kube_score: r.kube_score,
            pss: r.pss,
            cis: r.cis,
            owasp_llm: r.owasp_llm,
            mitre: r.mitre,
        }
    }
}

/// The fingerprint of a finding: a SHA-256 over rule, resource identity, path
/// and an optional discriminator (e.g. a container name), never positions.
pub fn fingerprint(rule: &str, resource: &ResourceRef, path: &str, discriminator: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        rule,
        resource.api_version.split('/').next().unwrap_or_default(),
        &resource.kind,
        resource.namespace.as_deref().unwrap_or(""),
        &resource.name,
        path,
        discriminator,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn fingerprint_ignores_nothing_but_positions() {
        let r = ResourceRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("llm".into()),
            name: "vllm".into(),
        };
        let a = fingerprint("PLS-POD-001", &r, "spec.x", "");
        assert_eq!(a, fingerprint("PLS-POD-001", &r, "spec.x", ""));
        assert_ne!(a, fingerprint("PLS-POD-002", &r, "spec.x", ""));
        assert_ne!(a, fingerprint("PLS-POD-001", &r, "spec.y", ""));
        assert_eq!(a.len(), 32);
    }
}
