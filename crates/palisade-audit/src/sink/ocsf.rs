//! OCSF 1.3 documents: Detection Finding (class 2004) for findings and API
//! Activity (class 6003) for raw Kubernetes audit events and for the
//! inference gateway's decisions. Attribute names
//! are the OCSF schema's (`ocsf-schema/events/findings/detection_finding.json`,
//! `events/application/api_activity.json` and the objects they use).

use serde_json::{Value, json};

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.3.0";

fn product() -> Value {
    json!({ "name": "Palisade", "vendor_name": "Palisade", "version": env!("CARGO_PKG_VERSION") })
}

fn s<'v>(v: &'v Value, ptr: &str) -> Option<&'v str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// OCSF `severity_id` and caption for a Palisade severity.
pub fn severity(sev: &str) -> (u8, &'static str) {
    match sev {
        "critical" => (5, "Critical"),
        "high" => (4, "High"),
        "medium" => (3, "Medium"),
        "low" => (2, "Low"),
        "info" => (1, "Informational"),
        _ => (0, "Unknown"),
    }
}

fn actor(event: &Value) -> Value {
    let groups: Vec<Value> = event
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(|n| json!({ "name": n }))
                .collect()
        })
        .unwrap_or_default();
    let mut user = json!({ "name": s(event, "/user").unwrap_or(""), "groups": groups });
    if let Some(i) = s(event, "/impersonatedUser") {
        user["type"] = json!("Other");
        return json!({ "user": user, "invoked_by": i });
    }
    json!({ "user": user })
}

fn resource(f: &Value) -> Value {
    let mut r = json!({
        "type": s(f, "/resource/kind").unwrap_or(""),
        "name": s(f, "/resource/name").unwrap_or(""),
    });
    if let Some(ns) = s(f, "/resource/namespace") {
        r["namespace"] = json!(ns);
    }
    if let Some(v) = s(f, "/resource/apiVersion") {
        r["version"] = json!(v);
    }
    r
}

/// A finding (shared schema JSON, with `event` for audit findings) as an
/// OCSF Detection Finding.
pub fn detection_finding(f: &Value, uid: &str) -> Value {
    let (sev_id, sev) = severity(s(f, "/severity").unwrap_or(""));
    let event = f.get("event");
    let time = super::millis(event.and_then(|e| s(e, "/time")));
    let rule = s(f, "/rule").unwrap_or("");
    let title = s(f, "/title").unwrap_or("");
    let mut doc = json!({
        "class_uid": 2004, "class_name": "Detection Finding",
        "category_uid": 2, "category_name": "Findings",
        "activity_id": 1, "activity_name": "Create",
        "type_uid": 200_401, "type_name": "Detection Finding: Create",
        "severity_id": sev_id, "severity": sev,
        "status_id": 1, "status": "New",
        "is_alert": true,
        "time": time,
        "message": s(f, "/message").unwrap_or(""),
        "metadata": { "version": OCSF_VERSION, "product": product(), "uid": uid, "event_code": rule },
        "finding_info": {
            "uid": s(f, "/fingerprint").unwrap_or(uid),
            "title": title,
            "desc": s(f, "/message").unwrap_or(""),
            "types": [s(f, "/category").unwrap_or("")],
            "analytic": { "uid": rule, "name": title, "type_id": 1, "type": "Rule" },
        },
        "resources": [resource(f)],
        "remediation": { "desc": s(f, "/remediation").unwrap_or("") },
        "unmapped": { "location": f.get("location").cloned().unwrap_or(Value::Null), "references": f.get("references").cloned().unwrap_or(Value::Null) },
    });
    if let Some(mitre) = f
        .pointer("/references/mitre")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    {
        doc["finding_info"]["attacks"] = mitre
            .iter()
            .filter_map(Value::as_str)
            .map(|t| json!({ "technique": { "uid": t } }))
            .collect();
    }
    if let Some(r) = f.get("request") {
        // A gateway finding: the request that triggered it.
        let a = gateway_actor(r);
        doc["actor"] = a.clone();
        doc["evidences"] = json!([{
            "api": gateway_api(r),
            "actor": a,
        }]);
        if let Some(t) = r.get("time").and_then(Value::as_str) {
            doc["time"] = json!(super::millis(Some(t)));
        }
    }
    if let Some(e) = event {
        doc["actor"] = actor(e);
        if let Some(ip) = s(e, "/sourceIPs/0") {
            doc["src_endpoint"] = json!({ "ip": ip });
        }
        doc["evidences"] = json!([{
            "api": { "operation": s(e, "/verb").unwrap_or(""), "request": { "uid": s(e, "/auditID").unwrap_or("") } },
            "actor": actor(e),
            "src_endpoint": { "ip": s(e, "/sourceIPs/0").unwrap_or("") },
        }]);
    }
    doc
}

/// OCSF API Activity `activity_id` and caption for a Kubernetes verb.
pub fn api_activity_id(verb: &str) -> (u8, &'static str) {
    match verb {
        "create" => (1, "Create"),
        "get" | "list" | "watch" => (2, "Read"),
        "update" | "patch" => (3, "Update"),
        "delete" | "deletecollection" => (4, "Delete"),
        _ => (99, "Other"),
    }
}

/// A raw audit event (`EventInfo` JSON) as an OCSF API Activity.
pub fn api_activity(e: &Value, uid: &str) -> Value {
    let verb = s(e, "/verb").unwrap_or("");
    let (id, name) = api_activity_id(verb);
    let code = e.get("responseCode").and_then(Value::as_i64);
    let ok = code.is_some_and(|c| (200..400).contains(&c)) && s(e, "/decision") != Some("forbid");
    let mut doc = json!({
        "class_uid": 6003, "class_name": "API Activity",
        "category_uid": 6, "category_name": "Application Activity",
        "activity_id": id, "activity_name": name,
        "type_uid": 600_300 + u32::from(id), "type_name": format!("API Activity: {name}"),
        "severity_id": 1, "severity": "Informational",
        "status_id": if ok { 1 } else { 2 }, "status": if ok { "Success" } else { "Failure" },
        "time": super::millis(s(e, "/time")),
        "metadata": { "version": OCSF_VERSION, "product": product(), "uid": uid, "event_code": s(e, "/stage").unwrap_or("") },
        "actor": actor(e),
        "api": {
            "operation": verb,
            "request": { "uid": s(e, "/auditID").unwrap_or("") },
            "service": { "name": "kube-apiserver" },
        },
        "src_endpoint": { "ip": s(e, "/sourceIPs/0").unwrap_or("") },
        "http_request": { "url": { "path": s(e, "/requestURI").unwrap_or("") } },
    });
    if let Some(c) = code {
        doc["api"]["response"] = json!({ "code": c });
        doc["status_code"] = json!(c.to_string());
    }
    if let Some(ua) = s(e, "/userAgent") {
        doc["http_request"]["user_agent"] = json!(ua);
    }
    if let Some(o) = e.get("objectRef") {
        let mut r =
            json!({ "type": s(o, "/resource").unwrap_or(""), "name": s(o, "/name").unwrap_or("") });
        if let Some(ns) = s(o, "/namespace") {
            r["namespace"] = json!(ns);
        }
        doc["resources"] = json!([r]);
    }
    doc
}

fn gateway_actor(r: &Value) -> Value {
    let tenant = s(r, "/tenant").unwrap_or("-");
    json!({ "user": { "name": tenant, "uid": tenant, "type": "Other", "type_id": 99 } })
}

fn gateway_api(r: &Value) -> Value {
    let mut api = json!({
        "operation": s(r, "/endpoint").unwrap_or(""),
        "request": { "uid": s(r, "/request_id").unwrap_or("") },
        "service": { "name": "palisade-gateway" },
    });
    if let Some(c) = r.get("status").and_then(Value::as_u64) {
        api["response"] = json!({ "code": c });
        if let Some(m) = s(r, "/message") {
            api["response"]["message"] = json!(m);
        }
    }
    api
}

/// OCSF API Activity `activity_id` and caption for a gateway endpoint: the
/// OpenAI routes create an object (a completion, an embedding, a response:
/// OpenAI's reference calls them "Create ..."), `models` reads.
pub fn gateway_activity_id(endpoint: &str) -> (u8, &'static str) {
    match endpoint {
        "chat" | "completions" | "embeddings" | "responses" => (1, "Create"),
        "models" => (2, "Read"),
        _ => (99, "Other"),
    }
}

/// A gateway decision (the gateway's audit record JSON) as an OCSF API
/// Activity: the tenant is the actor, the model the resource, the decision
/// the status; token counts, rules and (when logged) the prompt are
/// `unmapped`.
pub fn gateway_activity(r: &Value, uid: &str) -> Value {
    let endpoint = s(r, "/endpoint").unwrap_or("");
    let (id, name) = gateway_activity_id(endpoint);
    let decision = s(r, "/decision").unwrap_or("");
    let ok = decision == "allow";
    let mut doc = json!({
        "class_uid": 6003, "class_name": "API Activity",
        "category_uid": 6, "category_name": "Application Activity",
        "activity_id": id, "activity_name": name,
        "type_uid": 600_300 + u32::from(id), "type_name": format!("API Activity: {name}"),
        "severity_id": 1, "severity": "Informational",
        "status_id": if ok { 1 } else { 2 }, "status": if ok { "Success" } else { "Failure" },
        "time": super::millis(s(r, "/time")),
        "metadata": {
            "version": OCSF_VERSION, "product": product(), "uid": uid,
            "event_code": decision, "correlation_uid": s(r, "/request_id").unwrap_or(""),
        },
        "actor": gateway_actor(r),
        "api": gateway_api(r),
        "resources": [{ "type": "model", "name": s(r, "/model").unwrap_or("-") }],
        "unmapped": {
            "decision": decision,
            "rules": r.get("rules").cloned().unwrap_or(Value::Null),
            "tokens_reserved": r.get("tokens_reserved").cloned().unwrap_or(Value::Null),
            "prompt_tokens": r.get("prompt_tokens").cloned().unwrap_or(Value::Null),
            "completion_tokens": r.get("completion_tokens").cloned().unwrap_or(Value::Null),
            "usage_reported": r.get("usage_reported").cloned().unwrap_or(Value::Null),
            "stream": r.get("stream").cloned().unwrap_or(Value::Null),
            "latency_ms": r.get("latency_ms").cloned().unwrap_or(Value::Null),
        },
    });
    if let Some(c) = r.get("status").and_then(Value::as_u64) {
        doc["status_code"] = json!(c.to_string());
    }
    if let Some(m) = s(r, "/message") {
        doc["status_detail"] = json!(m);
        doc["message"] = json!(m);
    }
    if let Some(u) = s(r, "/upstream") {
        doc["dst_endpoint"] = json!({ "name": u });
    }
    if let Some(p) = s(r, "/prompt") {
        doc["unmapped"]["prompt"] = json!(p);
    }
    doc
}
