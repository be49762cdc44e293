//! The check behind the four resource rules (CPU/memory × limit/request).
//!
//! A container's `resources.<field>.<resource>` is satisfied when:
//! - the container sets it to a non-zero quantity (numbers such as
//!   `cpu: 1.5` or `memory: 104857600` count: the API accepts them);
//! - for a request: the container sets the matching limit (the API server
//!   copies a limit into a missing request);
//! - the pod sets pod-level `spec.resources` for it (a limit also covers
//!   the request, as for containers);
//! - a LimitRange in the same namespace, present in the input, has a
//!   `type: Container` item that supplies a default. The LimitRanger
//!   admission plugin fills a missing limit from `default` (which itself
//!   defaults to `max`) and a missing request from `defaultRequest` (which
//!   defaults to `default`, then `max`, then `min`).
//!
//! Regular and init containers are checked; ephemeral containers cannot
//! have resources (the API rejects them), so they are skipped. KServe
//! objects are skipped: KServe's webhook fills every InferenceService
//! component container's requests and limits from `inferenceservice-config`,
//! and those override a ServingRuntime's container defaults.

use super::support::{in_namespace, quantity_is_zero, quantity_set};
use crate::context::Context;
use crate::rule::Emitter;
use palisade_core::Node;
use palisade_k8s::workload::ContainerKind;
use palisade_k8s::{Object, Workload};

/// `limits` or `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Limits,
    Requests,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Limits => "limits",
            Field::Requests => "requests",
        }
    }
}

/// A set, non-zero quantity under `resources.<field>.<resource>` of `node`.
fn set_non_zero<'a>(node: &'a Node, field: &str, resource: &str) -> Option<&'a Node> {
    quantity_set(
        node.get("resources")
            .and_then(|r| r.get(field))
            .and_then(|f| f.get(resource)),
    )
    .filter(|q| !quantity_is_zero(q))
}

/// Whether `node` (a container or a pod spec) provides the quantity,
/// directly or (for requests) through the matching limit.
fn provides(node: &Node, field: Field, resource: &str) -> bool {
    set_non_zero(node, field.key(), resource).is_some()
        || (field == Field::Requests && set_non_zero(node, "limits", resource).is_some())
}

/// A LimitRange in `ns` whose Container item supplies a default for
/// `field`/`resource`.
pub(crate) fn limit_range_default<'a>(
    cx: &'a Context<'a>,
    ns: &'a str,
    field: Field,
    resource: &str,
) -> Option<&'a Object> {
    let keys: &[&str] = match field {
        Field::Limits => &["default", "max"],
        Field::Requests => &["defaultRequest", "default", "max", "min"],
    };
    in_namespace(cx, "LimitRange", ns).find(|lr| {
        lr.spec()
            .get("limits")
            .map_or(&[][..], Node::items)
            .iter()
            .any(|item| {
                item.get("type").and_then(Node::as_str) == Some("Container")
                    && keys
                        .iter()
                        .any(|k| quantity_set(item.get(k).and_then(|m| m.get(resource))).is_some())
            })
    })
}

/// Reports every container of `w` that lacks `resources.<field>.<resource>`.
pub(crate) fn check(
    w: &Workload<'_>,
    cx: &Context<'_>,
    out: &mut Emitter<'_>,
    field: Field,
    resource: &str,
) {
    let o = w.object;
    if o.group() == "serving.kserve.io" {
        return;
    }
    if provides(w.spec, field, resource) {
        return;
    }
    if limit_range_default(cx, o.effective_namespace(), field, resource).is_some() {
        return;
    }
    let key = field.key();
    for c in &w.containers {
        if c.kind == ContainerKind::Ephemeral || provides(c.node, field, resource) {
            continue;
        }
        let what = if c.kind == ContainerKind::Init {
            "init container"
        } else {
            "container"
        };
        let path = c.path.keys_from(&["resources", key, resource]);
        let set = quantity_set(
            c.node
                .get("resources")
                .and_then(|r| r.get(key))
                .and_then(|f| f.get(resource)),
        );
        let msg = match set.and_then(Node::as_str) {
            Some(v) => format!(
                "{what} {:?} sets resources.{key}.{resource} to {v:?}, which is no {}",
                c.name,
                noun(field)
            ),
            None => format!("{what} {:?} has no resources.{key}.{resource}", c.name),
        };
        out.report_container(o, c.name, path, msg);
    }
}

fn noun(field: Field) -> &'static str {
    match field {
        Field::Limits => "limit",
        Field::Requests => "request",
    }
}
