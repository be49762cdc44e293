//! Server-sent events from the upstream, processed as they arrive: each
//! complete event is parsed, its text run through the output filters, its
//! `usage` recorded, and passed on at once. Nothing waits for the whole
//! answer; only an incomplete event (a chunk cut mid-line) is held until its
//! end arrives, bounded in size.
//!
//! Handles the chat and completions chunk shapes (`choices[].delta.content`,
//! `choices[].text`) and the Responses API events
//! (`response.output_text.delta` and the `.done`/`completed` events that
//! repeat the full text, which are rewritten to the filtered text).

use crate::hooks::TextFilter;
use crate::openai::{Endpoint, Usage};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An event larger than this is passed through unparsed.
const MAX_EVENT: usize = 1 << 20;

/// Makes a fresh filter for one answer choice.
pub type FilterFactory = Box<dyn Fn() -> Option<Box<dyn TextFilter>> + Send>;

/// The stream's state.
pub struct StreamProcessor {
    endpoint: Endpoint,
    buf: Vec<u8>,
    factory: FilterFactory,
    /// Filters by choice (chat/completions) or (output, content) index (responses).
    filters: BTreeMap<(u64, u64), Box<dyn TextFilter>>,
    /// Filtered text so far per key (responses: to rewrite `.done` events).
    texts: BTreeMap<(u64, u64), String>,
    drop_usage_chunk: bool,
    usage: Option<Usage>,
    counted_text: String,
    counted: u64,
    model: String,
    last_chunk: Option<Map<String, Value>>,
    redactions_done: usize,
    saw_done: bool,
}

impl std::fmt::Debug for StreamProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamProcessor")
            .field("endpoint", &self.endpoint)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

fn find_event_end(b: &[u8]) -> Option<(usize, usize)> {
    // An event ends at a blank line: \n\n, \r\n\r\n or \r\r.
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'\n' && b[i + 1] == b'\n' {
            return Some((i, i + 2));
        }
        if b[i] == b'\r'
            && b[i + 1] == b'\n'
            && b.get(i + 2) == Some(&b'\r')
            && b.get(i + 3) == Some(&b'\n')
        {
            return Some((i, i + 4));
        }
        i += 1;
    }
    None
}

impl StreamProcessor {
    /// A processor. `drop_usage_chunk`: the gateway forced
    /// `include_usage`, so the usage-only chunk is removed before the client sees it.
    pub fn new(
        endpoint: Endpoint,
        model: &str,
        drop_usage_chunk: bool,
        factory: FilterFactory,
    ) -> Self {
        StreamProcessor {
            endpoint,
            buf: Vec::new(),
            factory,
            filters: BTreeMap::new(),
            texts: BTreeMap::new(),
            drop_usage_chunk,
            usage: None,
            counted_text: String::new(),
            counted: 0,
            model: model.to_owned(),
            last_chunk: None,
            redactions_done: 0,
            saw_done: false,
        }
    }

    /// Usage reported by the upstream, if any.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// Completion tokens counted from the streamed text.
    pub fn counted_completion(&mut self) -> u64 {
        self.flush_count();
        self.counted
    }

    /// Whether a filter demands the answer stop (a leaked canary).
    pub fn blocked(&self) -> bool {
        self.filters.values().any(|f| f.blocked())
    }

    /// Matches redacted so far.
    pub fn redactions(&self) -> usize {
        self.redactions_done + self.filters.values().map(|f| f.redactions()).sum::<usize>()
    }

    fn flush_count(&mut self) {
        if !self.counted_text.is_empty() {
            self.counted += crate::tokens::count(&self.model, &self.counted_text);
            self.counted_text.clear();
        }
    }

    fn count(&mut self, text: &str) {
        self.counted_text.push_str(text);
        if self.counted_text.len() > 16 * 1024 {
            self.flush_count();
        }
    }

    fn filter_for(&mut self, key: (u64, u64)) -> Option<&mut Box<dyn TextFilter>> {
        if !self.filters.contains_key(&key) {
            let f = (self.factory)()?;
            self.filters.insert(key, f);
        }
        self.filters.get_mut(&key)
    }

    fn push_text(&mut self, key: (u64, u64), text: &str) -> String {
        self.count(text);
        let out = match self.filter_for(key) {
            Some(f) => f.push(text),
            None => text.to_owned(),
        };
        self.texts.entry(key).or_default().push_str(&out);
        out
    }

    fn finish_text(&mut self, key: (u64, u64)) -> String {
        let out = match self.filters.remove(&key) {
            Some(mut f) => {
                let s = f.finish();
                self.redactions_done += f.redactions();
                s
            }
            None => String::new(),
        };
        self.texts.entry(key).or_default().push_str(&out);
        out
    }

    /// Feeds bytes from the upstream; returns the bytes to send on now.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some((end, next)) = find_event_end(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..next).collect();
            self.event(&event[..end], &event[end..], &mut out);
        }
        if self.buf.len() > MAX_EVENT {
            // Not SSE as we know it: pass it on untouched.
            out.append(&mut self.buf);
        }
        out
    }

    /// The upstream ended: returns the last bytes (held text, an unterminated event).
    pub fn end(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.buf.is_empty() {
            let event = std::mem::take(&mut self.buf);
            self.event(&event, b"\n\n", &mut out);
        }
        if !self.saw_done {
            self.flush_all(&mut out);
        }
        out
    }

    #[allow(clippy::single_match_else)]
    fn flush_all(&mut self, out: &mut Vec<u8>) {
        let keys: Vec<(u64, u64)> = self.filters.keys().copied().collect();
        for k in keys {
            let rest = self.finish_text(k);
            if rest.is_empty() {
                continue;
            }
            let ev = match self.endpoint {
                Endpoint::Responses => serde_json::json!({
                    "type": "response.output_text.delta",
                    "output_index": k.0,
                    "content_index": k.1,
                    "delta": rest,
                }),
                _ => {
                    let mut c = self.last_chunk.clone().unwrap_or_default();
                    let choice = if self.endpoint == Endpoint::Completions {
                        serde_json::json!({"index": k.0, "text": rest, "finish_reason": null})
                    } else {
                        serde_json::json!({"index": k.0, "delta": {"content": rest}, "finish_reason": null})
                    };
                    c.insert("choices".into(), Value::Array(vec![choice]));
                    c.remove("usage");
                    Value::Object(c)
                }
            };
            if self.endpoint == Endpoint::Responses {
                out.extend_from_slice(b"event: response.output_text.delta\n");
            }
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(ev.to_string().as_bytes());
            out.extend_from_slice(b"\n\n");
        }
    }

    fn event(&mut self, ev: &[u8], terminator: &[u8], out: &mut Vec<u8>) {
        let Ok(text) = std::str::from_utf8(ev) else {
            out.extend_from_slice(ev);
            out.extend_from_slice(terminator);
            return;
        };
        let mut data = String::new();
        let mut others: Vec<&str> = Vec::new();
        let mut has_data = false;
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if let Some(d) = line.strip_prefix("data:") {
                if has_data {
                    data.push('\n');
                }
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
                has_data = true;
            } else {
                others.push(line);
            }
        }
        if !has_data {
            out.extend_from_slice(ev);
            out.extend_from_slice(terminator);
            return;
        }
        if data.trim() == "[DONE]" {
            self.flush_all(out);
            self.saw_done = true;
            out.extend_from_slice(ev);
            out.extend_from_slice(terminator);
            return;
        }
        let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(&data) else {
            out.extend_from_slice(ev);
            out.extend_from_slice(terminator);
            return;
        };
        let (changed, drop) = match self.endpoint {
            Endpoint::Responses => (self.responses_event(&mut obj, out), false),
            _ => self.chat_chunk(&mut obj, out),
        };
        if drop {
            return;
        }
        if !changed {
            out.extend_from_slice(ev);
            out.extend_from_slice(terminator);
            return;
        }
        for l in others {
            if !l.is_empty() {
                out.extend_from_slice(l.as_bytes());
                out.push(b'\n');
            }
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(Value::Object(obj).to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
    }

    /// Returns (changed, drop).
    fn chat_chunk(&mut self, obj: &mut Map<String, Value>, out: &mut Vec<u8>) -> (bool, bool) {
        if let Some(u) = obj.get("usage").and_then(Usage::from_json) {
            self.usage = Some(u);
        }
        let Some(Value::Array(choices)) = obj.get_mut("choices") else {
            return (false, false);
        };
        if choices.is_empty() {
            let usage_only = obj.get("usage").is_some_and(Value::is_object);
            if usage_only && self.drop_usage_chunk {
                // Held text of every choice goes out before the stream ends.
                self.flush_all(out);
                return (false, true);
            }
            return (false, false);
        }
        let mut changed = false;
        let mut work: Vec<(usize, u64, String, bool)> = Vec::new();
        for (pos, c) in choices.iter().enumerate() {
            let idx = c.get("index").and_then(Value::as_u64).unwrap_or(0);
            let text = if self.endpoint == Endpoint::Completions {
                c.get("text").and_then(Value::as_str)
            } else {
                c.pointer("/delta/content").and_then(Value::as_str)
            };
            let finished = c.get("finish_reason").is_some_and(|f| !f.is_null());
            work.push((pos, idx, text.unwrap_or_default().to_owned(), finished));
        }
        let mut replaced = Vec::new();
        for (pos, idx, text, finished) in work {
            let mut new = if text.is_empty() {
                String::new()
            } else {
                self.push_text((idx, 0), &text)
            };
            if finished {
                new.push_str(&self.finish_text((idx, 0)));
            }
            if new != text {
                replaced.push((pos, new));
            }
        }
        if let Some(Value::Array(choices)) = obj.get_mut("choices") {
            for (pos, new) in replaced {
                changed = true;
                if let Some(Value::Object(c)) = choices.get_mut(pos) {
                    if self.endpoint == Endpoint::Completions {
                        c.insert("text".into(), Value::String(new));
                    } else {
                        let d = c
                            .entry("delta")
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let Value::Object(d) = d {
                            d.insert("content".into(), Value::String(new));
                        }
                    }
                }
            }
        }
        let mut snapshot = obj.clone();
        snapshot.remove("choices");
        self.last_chunk = Some(snapshot);
        (changed, false)
    }

    fn responses_event(&mut self, obj: &mut Map<String, Value>, out: &mut Vec<u8>) -> bool {
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let key = (
            obj.get("output_index").and_then(Value::as_u64).unwrap_or(0),
            obj.get("content_index")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        );
        match kind.as_str() {
            "response.output_text.delta" => {
                let d = obj
                    .get("delta")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let new = self.push_text(key, &d);
                if new == d {
                    return false;
                }
                obj.insert("delta".into(), Value::String(new));
                true
            }
            "response.output_text.done" => {
                let rest = self.finish_text(key);
                if !rest.is_empty() {
                    let ev = serde_json::json!({"type": "response.output_text.delta", "output_index": key.0, "content_index": key.1, "delta": rest});
                    out.extend_from_slice(b"event: response.output_text.delta\ndata: ");
                    out.extend_from_slice(ev.to_string().as_bytes());
                    out.extend_from_slice(b"\n\n");
                }
                self.rewrite_text_field(obj, key, "text")
            }
            "response.content_part.done" => match obj.get_mut("part") {
                Some(Value::Object(p)) => {
                    let mut p2 = std::mem::take(p);
                    let ch = self.rewrite_text_field(&mut p2, key, "text");
                    obj.insert("part".into(), Value::Object(p2));
                    ch
                }
                _ => false,
            },
            "response.output_item.done" => {
                let oi = key.0;
                match obj.get_mut("item") {
                    Some(item) => {
                        let mut it = std::mem::take(item);
                        let ch = self.rewrite_item(&mut it, oi);
                        obj.insert("item".into(), it);
                        ch
                    }
                    None => false,
                }
            }
            "response.completed" | "response.incomplete" => {
                let Some(Value::Object(resp)) = obj.get_mut("response") else {
                    return false;
                };
                if let Some(u) = resp.get("usage").and_then(Usage::from_json) {
                    self.usage = Some(u);
                }
                let mut changed = false;
                if let Some(Value::Array(items)) = resp.get_mut("output") {
                    let mut items2 = std::mem::take(items);
                    for (i, it) in items2.iter_mut().enumerate() {
                        changed |= self.rewrite_item(it, i as u64);
                    }
                    *items = items2;
                }
                changed
            }
            _ => false,
        }
    }

    fn rewrite_item(&mut self, item: &mut Value, output_index: u64) -> bool {
        let mut changed = false;
        if let Some(Value::Array(parts)) = item.get_mut("content") {
            for (j, p) in parts.iter_mut().enumerate() {
                if let Value::Object(p) = p {
                    changed |= self.rewrite_text_field(p, (output_index, j as u64), "text");
                }
            }
        }
        changed
    }

    fn rewrite_text_field(
        &mut self,
        obj: &mut Map<String, Value>,
        key: (u64, u64),
        field: &str,
    ) -> bool {
        let Some(filtered) = self.texts.get(&key) else {
            return false;
        };
        match obj.get(field) {
            Some(Value::String(s)) if s != filtered => {
                obj.insert(field.into(), Value::String(filtered.clone()));
                true
            }
            _ => false,
        }
    }
}

/// Filters the text of a whole (non-streamed) JSON answer in place; returns
/// the usage, the number of redactions and whether any text changed.
pub fn filter_json_answer(
    endpoint: Endpoint,
    v: &mut Value,
    factory: &FilterFactory,
) -> (Option<Usage>, usize, bool) {
    let usage = v.get("usage").and_then(Usage::from_json);
    let mut n = 0;
    let mut changed = false;
    let mut apply = |s: &mut Value| {
        if let Value::String(t) = s
            && let Some(mut f) = factory()
        {
            let mut out = f.push(t);
            out.push_str(&f.finish());
            n += f.redactions();
            if out != *t {
                changed = true;
                *t = out;
            }
        }
    };
    match endpoint {
        Endpoint::ChatCompletions | Endpoint::Completions => {
            if let Some(Value::Array(choices)) = v.get_mut("choices") {
                for c in choices {
                    if let Some(s) = c.pointer_mut("/message/content") {
                        apply(s);
                    }
                    if let Some(s) = c.get_mut("text") {
                        apply(s);
                    }
                }
            }
        }
        Endpoint::Responses => {
            if let Some(Value::Array(items)) = v.get_mut("output") {
                for it in items {
                    if let Some(Value::Array(parts)) = it.get_mut("content") {
                        for p in parts {
                            if let Some(s) = p.get_mut("text") {
                                apply(s);
                            }
                        }
                    }
                }
            }
        }
        Endpoint::Embeddings => {}
    }
    (usage, n, changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A filter that replaces "SECRET" even when split across pushes, holding
    /// back a possible prefix. Test-only: real filters come from palisade-guard.
    struct Word {
        held: String,
        n: usize,
    }
    impl TextFilter for Word {
        fn push(&mut self, t: &str) -> String {
            self.held.push_str(t);
            let replaced = self.held.replace("SECRET", "[REDACTED]");
            if replaced != self.held {
                self.n += 1;
            }
            // Hold back the longest suffix that is a prefix of the word.
            let keep = (1..6)
                .rev()
                .find(|k| replaced.ends_with(&"SECRET"[..*k]))
                .unwrap_or(0);
            let cut = replaced.len() - keep;
            self.held = replaced[cut..].to_owned();
            replaced[..cut].to_owned()
        }
        fn finish(&mut self) -> String {
            std::mem::take(&mut self.held)
        }
        fn redactions(&self) -> usize {
            self.n
        }
    }

    fn factory() -> FilterFactory {
        Box::new(|| {
            Some(Box::new(Word {
                held: String::new(),
                n: 0,
            }) as Box<dyn TextFilter>)
        })
    }

    fn chunk(text: &str, finish: Option<&str>) -> String {
        format!(
            "data: {}\n\n",
            serde_json::json!({"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":text},"finish_reason":finish}]})
        )
    }

    fn contents(out: &str) -> String {
        let mut s = String::new();
        for l in out.lines() {
            if let Some(d) = l.strip_prefix("data: ")
                && let Ok(v) = serde_json::from_str::<Value>(d)
            {
                for c in v["choices"].as_array().cloned().unwrap_or_default() {
                    s.push_str(c["delta"]["content"].as_str().unwrap_or_default());
                }
            }
        }
        s
    }

    #[test]
    fn secret_split_across_chunks_is_redacted() {
        let mut p = StreamProcessor::new(Endpoint::ChatCompletions, "m", true, factory());
        let mut out = Vec::new();
        for part in ["the key is SE", "CR", "ET and more", ""] {
            out.extend(p.feed(chunk(part, None).as_bytes()));
        }
        out.extend(p.feed(chunk("", Some("stop")).as_bytes()));
        let usage = "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\n";
        out.extend(p.feed(usage.as_bytes()));
        out.extend(p.feed(b"data: [DONE]\n\n"));
        out.extend(p.end());
        let s = String::from_utf8(out).unwrap();
        assert_eq!(contents(&s), "the key is [REDACTED] and more");
        assert!(!s.contains("SECRET"));
        assert!(
            !s.contains("\"usage\":{"),
            "forced usage chunk must be dropped: {s}"
        );
        assert!(s.ends_with("data: [DONE]\n\n"));
        assert_eq!(
            p.usage(),
            Some(Usage {
                prompt: 5,
                completion: 7
            })
        );
        assert_eq!(p.redactions(), 1);
    }

    #[test]
    fn events_cut_mid_line_and_crlf() {
        let mut p = StreamProcessor::new(Endpoint::ChatCompletions, "m", false, Box::new(|| None));
        let c = chunk("hello", None).replace("\n\n", "\r\n\r\n");
        let (a, b) = c.split_at(10);
        assert!(p.feed(a.as_bytes()).is_empty());
        let out = p.feed(b.as_bytes());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            c,
            "unchanged events pass byte for byte"
        );
        assert_eq!(p.counted_completion(), 1);
    }

    #[test]
    fn garbage_passes_through_without_panic() {
        let mut p = StreamProcessor::new(Endpoint::ChatCompletions, "m", true, factory());
        let mut out = p.feed(b"data: {not json\n\n: comment\n\n\xff\xfe\n\nevent: x\n\n");
        out.extend(p.end());
        assert_eq!(
            out,
            b"data: {not json\n\n: comment\n\n\xff\xfe\n\nevent: x\n\n"
        );
        let mut p = StreamProcessor::new(Endpoint::Responses, "m", true, factory());
        p.feed(b"data: {\"type\":\"response.completed\",\"response\":{\"output\":5}}\n\n");
        p.feed(b"data: {\"type\":\"response.output_text.delta\",\"delta\":7}\n\n");
        p.end();
    }

    #[test]
    fn responses_done_events_are_rewritten() {
        let mut p = StreamProcessor::new(Endpoint::Responses, "m", false, factory());
        let mut out = Vec::new();
        for d in ["my SEC", "RET!"] {
            let ev = serde_json::json!({"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":d});
            out.extend(
                p.feed(format!("event: response.output_text.delta\ndata: {ev}\n\n").as_bytes()),
            );
        }
        let done = serde_json::json!({"type":"response.output_text.done","output_index":0,"content_index":0,"text":"my SECRET!"});
        out.extend(
            p.feed(format!("event: response.output_text.done\ndata: {done}\n\n").as_bytes()),
        );
        let completed = serde_json::json!({"type":"response.completed","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"my SECRET!"}]}],"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}});
        out.extend(p.feed(format!("event: response.completed\ndata: {completed}\n\n").as_bytes()));
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("SECRET"), "{s}");
        assert!(s.contains("my [REDACTED]!"));
        assert_eq!(
            p.usage(),
            Some(Usage {
                prompt: 3,
                completion: 4
            })
        );
    }

    #[test]
    fn whole_answers_are_filtered() {
        let mut v = serde_json::json!({"choices":[{"message":{"content":"a SECRET b"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}});
        let (u, n, changed) = filter_json_answer(Endpoint::ChatCompletions, &mut v, &factory());
        assert_eq!(v["choices"][0]["message"]["content"], "a [REDACTED] b");
        assert_eq!((u.unwrap().total(), n, changed), (3, 1, true));
        let mut v = serde_json::json!({"choices":[{"message":{"content":"nothing here"}}]});
        let (_, n, changed) = filter_json_answer(Endpoint::ChatCompletions, &mut v, &factory());
        assert_eq!((n, changed), (0, false));
        assert_eq!(v["choices"][0]["message"]["content"], "nothing here");
    }
}
