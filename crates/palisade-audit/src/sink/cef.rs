//! ArcSight CEF (Common Event Format) payloads for syslog.

use serde_json::Value;

fn header(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

fn ext(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('=', "\\=")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// CEF severity (0-10) for a Palisade severity.
pub(crate) fn severity(sev: &str) -> u8 {
    match sev {
        "critical" => 10,
        "high" => 8,
        "medium" => 5,
        "low" => 3,
        _ => 1,
    }
}

fn s<'v>(v: &'v Value, ptr: &str) -> &'v str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// `CEF:0|Palisade|palisade|VERSION|SIGNATURE|NAME|SEVERITY|EXTENSION`.
pub(crate) fn line(record: &super::SinkRecord, id: &str) -> String {
    let mut x: Vec<(&str, String)> = Vec::new();
    let (sig, name, sev) = match record {
        super::SinkRecord::Finding(f) => {
            x.push(("msg", s(f, "/message").to_owned()));
            x.push(("cat", s(f, "/category").to_owned()));
            let res = f.get("resource").map_or(String::new(), |r| {
                [s(r, "/kind"), s(r, "/namespace"), s(r, "/name")]
                    .iter()
                    .filter(|p| !p.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("/")
            });
            x.push(("cs1Label", "resource".into()));
            x.push(("cs1", res));
            x.push(("cs2Label", "fingerprint".into()));
            x.push(("cs2", s(f, "/fingerprint").to_owned()));
            if let Some(e) = f.get("event") {
                push_event(&mut x, e);
            }
            if let Some(r) = f.get("request") {
                x.push(("suser", s(r, "/tenant").to_owned()));
                x.push(("act", s(r, "/endpoint").to_owned()));
                x.push(("externalId", s(r, "/request_id").to_owned()));
            }
            (
                s(f, "/rule").to_owned(),
                s(f, "/title").to_owned(),
                severity(s(f, "/severity")),
            )
        }
        super::SinkRecord::AuditEvent(e) => {
            push_event(&mut x, e);
            if let Some(o) = e.get("objectRef") {
                x.push(("cs1Label", "resource".into()));
                x.push((
                    "cs1",
                    [s(o, "/resource"), s(o, "/namespace"), s(o, "/name")]
                        .iter()
                        .filter(|p| !p.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join("/"),
                ));
            }
            (
                "k8s-audit".to_owned(),
                "Kubernetes API request".to_owned(),
                1,
            )
        }
        super::SinkRecord::GatewayRequest(r) => {
            x.push((
                "rt",
                super::millis(r.get("time").and_then(Value::as_str)).to_string(),
            ));
            x.push(("suser", s(r, "/tenant").to_owned()));
            x.push(("act", s(r, "/endpoint").to_owned()));
            x.push(("outcome", s(r, "/decision").to_owned()));
            x.push(("externalId", s(r, "/request_id").to_owned()));
            x.push(("msg", s(r, "/message").to_owned()));
            x.push(("cs1Label", "model".into()));
            x.push(("cs1", s(r, "/model").to_owned()));
            let rules: Vec<&str> = r
                .get("rules")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            x.push(("cs2Label", "rules".into()));
            x.push(("cs2", rules.join(",")));
            if let Some(c) = r.get("status").and_then(Value::as_u64) {
                x.push(("cn1Label", "status".into()));
                x.push(("cn1", c.to_string()));
            }
            if let Some(p) = r.get("prompt").and_then(Value::as_str) {
                x.push(("cs4Label", "prompt".into()));
                x.push(("cs4", p.to_owned()));
            }
            let deny = s(r, "/decision") == "deny";
            (
                format!("gateway-{}", s(r, "/decision")),
                "Inference API request".to_owned(),
                if deny { 3 } else { 1 },
            )
        }
    };
    x.push(("cs3Label", "deliveryId".into()));
    x.push(("cs3", id.to_owned()));
    let extension: Vec<String> = x
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", ext(&v)))
        .collect();
    format!(
        "CEF:0|Palisade|palisade|{}|{}|{}|{sev}|{}",
        env!("CARGO_PKG_VERSION"),
        header(&sig),
        header(&name),
        extension.join(" ")
    )
}

fn push_event(x: &mut Vec<(&str, String)>, e: &Value) {
    x.push((
        "rt",
        super::millis(e.get("time").and_then(Value::as_str)).to_string(),
    ));
    x.push(("suser", s(e, "/user").to_owned()));
    x.push(("src", s(e, "/sourceIPs/0").to_owned()));
    x.push(("act", s(e, "/verb").to_owned()));
    x.push(("request", s(e, "/requestURI").to_owned()));
    x.push(("requestClientApplication", s(e, "/userAgent").to_owned()));
    x.push(("externalId", s(e, "/auditID").to_owned()));
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping() {
        assert_eq!(super::header("a|b\\c"), "a\\|b\\\\c");
        assert_eq!(super::ext("k=v\nx\\"), "k\\=v\\nx\\\\");
    }
}
