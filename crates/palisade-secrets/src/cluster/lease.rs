//! Leader election through a `coordination.k8s.io/v1` Lease, as client-go's
//! `leaderelection` does it: the holder renews `spec.renewTime` every few
//! seconds; a candidate takes the Lease over once `renewTime +
//! leaseDurationSeconds` has passed or the holder released it (empty
//! `holderIdentity`). Every write is a replace conditional on the Lease's
//! resourceVersion, so of two candidates racing, one gets 409 Conflict and
//! stays a follower. The decision is a pure function ([`step`]).

use super::{ApplyError, micro_time, send};
use kube::Client;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A Lease's spec as the election reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    /// `spec.holderIdentity` (None or empty: released).
    pub holder: Option<String>,
    /// `spec.leaseDurationSeconds`.
    pub duration_secs: i64,
    /// `spec.renewTime`.
    pub renew: Option<OffsetDateTime>,
    /// `spec.acquireTime`.
    pub acquire: Option<OffsetDateTime>,
    /// `spec.leaseTransitions`.
    pub transitions: i64,
    /// `metadata.resourceVersion`.
    pub resource_version: String,
}

impl LeaseRecord {
    /// From a Lease object.
    pub fn from_json(v: &Value) -> Self {
        let spec = v.get("spec").cloned().unwrap_or_else(|| json!({}));
        let t = |k: &str| {
            spec.get(k)
                .and_then(Value::as_str)
                .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        };
        LeaseRecord {
            holder: spec
                .get("holderIdentity")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            duration_secs: spec
                .get("leaseDurationSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            renew: t("renewTime"),
            acquire: t("acquireTime"),
            transitions: spec
                .get("leaseTransitions")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            resource_version: v
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        }
    }
}

/// What a candidate does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No Lease: create it, holding it.
    Create,
    /// We hold it: renew.
    Renew,
    /// Released or expired: take it over.
    TakeOver,
    /// Someone else holds it until then.
    Wait(OffsetDateTime),
}

/// The election's decision.
pub fn step(current: Option<&LeaseRecord>, me: &str, now: OffsetDateTime) -> Step {
    let Some(r) = current else {
        return Step::Create;
    };
    match &r.holder {
        Some(h) if h == me => Step::Renew,
        None => Step::TakeOver,
        Some(_) => {
            let Some(renew) = r.renew else {
                return Step::TakeOver;
            };
            let expires = renew + time::Duration::seconds(r.duration_secs.max(0));
            if now >= expires {
                Step::TakeOver
            } else {
                Step::Wait(expires)
            }
        }
    }
}

/// A candidate for one Lease.
#[derive(Clone)]
pub struct Elector {
    /// The client.
    pub client: Client,
    /// Lease namespace.
    pub namespace: String,
    /// Lease name.
    pub name: String,
    /// This replica's identity (pod name).
    pub identity: String,
    /// `leaseDurationSeconds`.
    pub duration_secs: i64,
}

impl std::fmt::Debug for Elector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elector")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Elector {
    fn path(&self, named: bool) -> String {
        let base = format!(
            "/apis/coordination.k8s.io/v1/namespaces/{}/leases",
            self.namespace
        );
        if named {
            format!("{base}/{}", self.name)
        } else {
            base
        }
    }

    async fn get(&self) -> Result<Option<LeaseRecord>, ApplyError> {
        match send(
            &self.client,
            "read Lease",
            "GET",
            &self.path(true),
            "application/json",
            Vec::new(),
            &super::no_redact,
        )
        .await
        {
            Ok(v) => Ok(Some(LeaseRecord::from_json(&v))),
            Err(e) if e.code() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn body(
        &self,
        rv: Option<&str>,
        holder: Option<&str>,
        duration: i64,
        acquire: &str,
        renew: &str,
        transitions: i64,
    ) -> Vec<u8> {
        let mut meta = json!({"name": self.name, "namespace": self.namespace});
        if let Some(rv) = rv {
            meta["resourceVersion"] = Value::String(rv.to_owned());
        }
        let mut spec = json!({
            "leaseDurationSeconds": duration,
            "acquireTime": acquire,
            "renewTime": renew,
            "leaseTransitions": transitions,
        });
        if let Some(h) = holder {
            spec["holderIdentity"] = Value::String(h.to_owned());
        }
        serde_json::to_vec(&json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec})).unwrap_or_default()
    }

    /// One election round: whether this replica leads afterwards.
    pub async fn try_lead(&self, now: OffsetDateTime) -> Result<bool, ApplyError> {
        let current = self.get().await?;
        let t = micro_time(now);
        let lost = |e: ApplyError| match e.code() {
            Some(409) => Ok(false),
            _ => Err(e),
        };
        match step(current.as_ref(), &self.identity, now) {
            Step::Wait(_) => Ok(false),
            Step::Create => send(
                &self.client,
                "create Lease",
                "POST",
                &self.path(false),
                "application/json",
                self.body(None, Some(&self.identity), self.duration_secs, &t, &t, 0),
                &super::no_redact,
            )
            .await
            .map(|_| true)
            .or_else(lost),
            Step::Renew => {
                let r = current.unwrap_or_else(|| LeaseRecord::from_json(&Value::Null));
                let acquire = r.acquire.map_or_else(|| t.clone(), micro_time);
                send(
                    &self.client,
                    "renew Lease",
                    "PUT",
                    &self.path(true),
                    "application/json",
                    self.body(
                        Some(&r.resource_version),
                        Some(&self.identity),
                        self.duration_secs,
                        &acquire,
                        &t,
                        r.transitions,
                    ),
                    &super::no_redact,
                )
                .await
                .map(|_| true)
                .or_else(lost)
            }
            Step::TakeOver => {
                let r = current.unwrap_or_else(|| LeaseRecord::from_json(&Value::Null));
                send(
                    &self.client,
                    "take over Lease",
                    "PUT",
                    &self.path(true),
                    "application/json",
                    self.body(
                        Some(&r.resource_version),
                        Some(&self.identity),
                        self.duration_secs,
                        &t,
                        &t,
                        r.transitions + 1,
                    ),
                    &super::no_redact,
                )
                .await
                .map(|_| true)
                .or_else(lost)
            }
        }
    }

    /// Gives the Lease up if this replica holds it (a follower takes over
    /// at once instead of waiting for expiry).
    pub async fn release(&self, now: OffsetDateTime) -> Result<(), ApplyError> {
        let Some(r) = self.get().await? else {
            return Ok(());
        };
        if r.holder.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        let t = micro_time(now);
        let acquire = r.acquire.map_or_else(|| t.clone(), micro_time);
        send(
            &self.client,
            "release Lease",
            "PUT",
            &self.path(true),
            "application/json",
            self.body(
                Some(&r.resource_version),
                None,
                1,
                &acquire,
                &t,
                r.transitions,
            ),
            &super::no_redact,
        )
        .await
        .map(|_| ())
        .or_else(|e| {
            if e.code() == Some(409) {
                Ok(())
            } else {
                Err(e)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn held(by: &str, renewed_secs_ago: i64) -> LeaseRecord {
        LeaseRecord {
            holder: Some(by.into()),
            duration_secs: 15,
            renew: Some(NOW - time::Duration::seconds(renewed_secs_ago)),
            acquire: None,
            transitions: 3,
            resource_version: "9".into(),
        }
    }

    #[test]
    fn election_steps() {
        assert_eq!(step(None, "a", NOW), Step::Create);
        assert_eq!(step(Some(&held("a", 100)), "a", NOW), Step::Renew);
        assert_eq!(
            step(Some(&held("b", 5)), "a", NOW),
            Step::Wait(NOW + time::Duration::seconds(10))
        );
        assert_eq!(step(Some(&held("b", 15)), "a", NOW), Step::TakeOver);
        let released = LeaseRecord {
            holder: None,
            ..held("b", 0)
        };
        assert_eq!(step(Some(&released), "a", NOW), Step::TakeOver);
        let never_renewed = LeaseRecord {
            renew: None,
            ..held("b", 0)
        };
        assert_eq!(step(Some(&never_renewed), "a", NOW), Step::TakeOver);
    }

    #[test]
    fn reads_the_lease_shape() {
        let r = LeaseRecord::from_json(&json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "palisade-secrets", "namespace": "palisade", "resourceVersion": "12"},
            "spec": {"holderIdentity": "palisade-0", "leaseDurationSeconds": 15,
                "acquireTime": "2026-12-01T11:00:00.000000Z", "renewTime": "2026-12-01T11:59:50.123456Z",
                "leaseTransitions": 2}
        }));
        assert_eq!(r.holder.as_deref(), Some("palisade-0"));
        assert_eq!(r.transitions, 2);
        assert_eq!(r.resource_version, "12");
        assert_eq!(
            step(Some(&r), "palisade-1", NOW),
            Step::Wait(datetime!(2026-12-01 12:00:05.123456 UTC))
        );
        assert_eq!(
            micro_time(datetime!(2026-12-01 12:00:05.123456 UTC)),
            "2026-12-01T12:00:05.123456Z"
        );
    }
}
