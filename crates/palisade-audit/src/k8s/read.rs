//! Reading audit events from a stream: one event per line (the API
//! server's log backend), or JSON documents spread over several lines (a
//! single Event, an EventList as the webhook backend POSTs it, `kubectl`/`jq`
//! output). A line or document that is not an audit event gets a
//! diagnostic with its line number; reading goes on.

use super::Event;
use std::io::BufRead;

/// Largest document accepted (a webhook batch can be large; 64 MiB).
pub const MAX_DOCUMENT: usize = 64 << 20;

/// A problem with one line or document of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line where the document starts.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSource {
    /// 1-based line of the document that held it.
    pub line: u32,
}

/// What a JSON document turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// One event.
    Event,
    /// An EventList of this many events.
    List(usize),
}

/// Counts of what was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Events handed to the callback.
    pub events: u64,
    /// Lines read.
    pub lines: u64,
    /// Diagnostics.
    pub errors: u64,
}

/// Why a document could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The text ends inside the document (more lines may complete it).
    Incomplete,
    /// Not valid JSON for an audit event, at this line of the document.
    Json {
        /// What is wrong.
        message: String,
        /// 1-based line inside the document.
        line: u32,
    },
    /// Valid JSON that is not an audit event.
    NotAudit(String),
}

impl ParseError {
    /// The message.
    pub fn into_message(self) -> String {
        match self {
            ParseError::Incomplete => "incomplete document".to_owned(),
            ParseError::Json { message, .. } | ParseError::NotAudit(message) => message,
        }
    }
}

/// Parses one JSON document and hands its events to `on_event`; nothing is
/// handed over unless the whole document is good.
pub fn parse_document(
    text: &str,
    line: u32,
    on_event: &mut dyn FnMut(EventSource, &Event<'_>),
) -> Result<Document, ParseError> {
    let ev: Event<'_> = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            ParseError::Incomplete
        } else {
            ParseError::Json {
                message: e.to_string(),
                line: u32::try_from(e.line()).unwrap_or(1),
            }
        }
    })?;
    check_kind(&ev).map_err(ParseError::NotAudit)?;
    let src = EventSource { line };
    if let Some(items) = &ev.items {
        for item in items {
            check_kind(item).map_err(ParseError::NotAudit)?;
        }
        for item in items {
            on_event(src, item);
        }
        return Ok(Document::List(items.len()));
    }
    if ev.audit_id.is_empty() && ev.stage.is_empty() {
        return Err(ParseError::NotAudit(
            "not an audit event: no auditID or stage".into(),
        ));
    }
    on_event(src, &ev);
    Ok(Document::Event)
}

fn check_kind(ev: &Event<'_>) -> Result<(), String> {
    if let Some(v) = ev.api_version.as_deref()
        && !v.starts_with("audit.k8s.io/")
    {
        return Err(format!(
            "not an audit event: apiVersion {v:?} (expected audit.k8s.io/v1 or v1beta1)"
        ));
    }
    match ev.kind.as_deref() {
        None | Some("Event") if ev.items.is_none() => Ok(()),
        Some("EventList") if ev.items.is_some() => Ok(()),
        Some("EventList") => Err("EventList without items".into()),
        Some(k) => Err(format!("not an audit event: kind {k:?}")),
        None => Err("a document with items but no kind EventList".into()),
    }
}

/// Reads `input` to the end, handing every event to `on_event` and every
/// bad line or document to `on_error`. Only I/O errors stop it.
pub fn read_events(
    mut input: impl BufRead,
    on_event: &mut dyn FnMut(EventSource, &Event<'_>),
    on_error: &mut dyn FnMut(Diagnostic),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut line = Vec::with_capacity(4096);
    // A multi-line document being collected: its text and first line.
    let mut doc = String::new();
    let mut doc_start = 0u32;
    let mut n = 0u32;
    let count = |stats: &mut ReadStats,
                 r: Result<Document, String>,
                 at: u32,
                 on_error: &mut dyn FnMut(Diagnostic)| match r {
        Ok(Document::Event) => stats.events += 1,
        Ok(Document::List(k)) => stats.events += k as u64,
        Err(message) => {
            stats.errors += 1;
            on_error(Diagnostic { line: at, message });
        }
    };
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        n = n.saturating_add(1);
        stats.lines += 1;
        let Ok(text) = std::str::from_utf8(&line) else {
            if doc.is_empty() {
                count(&mut stats, Err("not UTF-8".into()), n, on_error);
            } else {
                count(&mut stats, Err("not UTF-8".into()), doc_start, on_error);
                doc.clear();
            }
            continue;
        };
        if doc.is_empty() {
            let t = text.trim();
            if t.is_empty() {
                continue;
            }
            if !t.starts_with('{') {
                count(
                    &mut stats,
                    Err(format!("not a JSON object: {:?}", preview(t))),
                    n,
                    on_error,
                );
                continue;
            }
            match parse_document(t, n, on_event) {
                // A pretty-printed document opens with a line of its own.
                Err(ParseError::Incomplete) if t == "{" => {
                    doc.push_str(text);
                    doc_start = n;
                }
                Err(ParseError::Incomplete) => {
                    count(
                        &mut stats,
                        Err("incomplete JSON line (truncated?)".into()),
                        n,
                        on_error,
                    );
                }
                r => count(&mut stats, r.map_err(ParseError::into_message), n, on_error),
            }
        } else {
            // A new top-level document while the last is still open: the
            // last one was cut short.
            if text.starts_with('{') {
                count(
                    &mut stats,
                    Err("incomplete JSON document".into()),
                    doc_start,
                    on_error,
                );
                doc.clear();
                doc.push_str(text);
                doc_start = n;
                if text.trim() != "{" {
                    // A one-line document: handle it now.
                    let t = text.trim();
                    let r = parse_document(t, n, on_event);
                    doc.clear();
                    count(&mut stats, r.map_err(ParseError::into_message), n, on_error);
                }
                continue;
            }
            doc.push_str(text);
            if doc.len() > MAX_DOCUMENT {
                count(
                    &mut stats,
                    Err(format!("document larger than {MAX_DOCUMENT} bytes")),
                    doc_start,
                    on_error,
                );
                doc.clear();
                continue;
            }
            // A pretty-printed document closes at column 0.
            if text.starts_with('}') {
                match parse_document(&doc, doc_start, on_event) {
                    Err(ParseError::Incomplete) => {}
                    Err(ParseError::Json { message, line }) => {
                        let at = doc_start.saturating_add(line).saturating_sub(1);
                        count(&mut stats, Err(message), at, on_error);
                        doc.clear();
                    }
                    r => {
                        count(
                            &mut stats,
                            r.map_err(ParseError::into_message),
                            doc_start,
                            on_error,
                        );
                        doc.clear();
                    }
                }
            }
        }
    }
    if !doc.is_empty() {
        let r = match parse_document(&doc, doc_start, on_event) {
            Err(ParseError::Incomplete) => {
                Err("the document starting here is incomplete".to_owned())
            }
            r => r.map_err(ParseError::into_message),
        };
        count(&mut stats, r, doc_start, on_error);
    }
    Ok(stats)
}

fn preview(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> (Vec<(u32, String)>, Vec<Diagnostic>) {
        let mut evs = Vec::new();
        let mut errs = Vec::new();
        read_events(
            input.as_bytes(),
            &mut |src, ev| evs.push((src.line, ev.audit_id.to_string())),
            &mut |d| errs.push(d),
        )
        .unwrap();
        (evs, errs)
    }

    const EV: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.002000Z"}"#;

    #[test]
    fn json_lines_with_bad_lines() {
        let input = format!(
            "{EV}\nnot json\n{{\"a\":1}}\n{{\"auditID\": \"x\", broken\n\n{}\n",
            EV.replace("a1", "a2")
        );
        let (evs, errs) = run(&input);
        assert_eq!(evs, vec![(1, "a1".to_owned()), (6, "a2".to_owned())]);
        let lines: Vec<u32> = errs.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }

    #[test]
    fn pretty_event_list_and_v1beta1() {
        let list = format!(
            "{{\n  \"kind\": \"EventList\",\n  \"apiVersion\": \"audit.k8s.io/v1\",\n  \"metadata\": {{}},\n  \"items\": [\n    {EV},\n    {}\n  ]\n}}\n",
            EV.replace("a1", "a2")
        );
        let beta = EV
            .replace("audit.k8s.io/v1", "audit.k8s.io/v1beta1")
            .replace("a1", "b1");
        let (evs, errs) = run(&format!("{list}{beta}\n"));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            evs,
            vec![(1, "a1".into()), (1, "a2".into()), (10, "b1".into())]
        );
    }

    #[test]
    fn truncated_line_does_not_swallow_the_rest() {
        let cut = &EV[..EV.len() - 30];
        let (evs, errs) = run(&format!("{cut}\n{EV}\n{{\n  \"kind\": \"Event\",\n{EV}\n"));
        assert_eq!(evs.len(), 2, "{errs:?}");
        assert_eq!(errs.iter().map(|d| d.line).collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn other_kinds_and_truncated_documents_are_diagnosed() {
        let (evs, errs) = run(
            "{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}\n{\n  \"kind\": \"EventList\",\n  \"items\": [\n",
        );
        assert!(evs.is_empty());
        assert_eq!(errs.len(), 2);
        assert!(errs[0].message.contains("apiVersion \"v1\""), "{errs:?}");
        assert_eq!(errs[1].line, 2);
        let (_, errs) = run("\u{0}\u{ff}garbage\n[1,2]\n{\"items\":3}\n");
        assert_eq!(errs.len(), 3);
    }
}
