//! YAML (and JSON, which YAML 1.2 contains) into [`Node`] trees with positions.
//!
//! Built on `saphyr-parser`'s event stream, with a fast path (`fast`) for
//! the block-style subset manifests are written in that builds the same
//! trees and leaves every other text to saphyr. Aliases are expanded with a
//! budget so a "billion laughs" document is refused instead of exhausting
//! memory, nesting depth is capped, and merge keys (`<<`) are honoured as the
//! Kubernetes decoder honours them.

use crate::node::{Entry, Node, Pos, Scalar, Value};
use compact_str::CompactString;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

mod fast;

/// Maximum nesting of sequences and mappings.
pub const MAX_DEPTH: usize = 256;
/// Maximum number of nodes one document may expand to (aliases included).
pub const MAX_NODES: usize = 5_000_000;

/// Why a YAML document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
#[non_exhaustive]
pub struct YamlError {
    /// 1-based line of the problem.
    pub line: u32,
    /// 1-based column of the problem.
    pub col: u32,
    /// What is wrong.
    pub message: String,
}

/// Parses every document of a YAML stream. `line_offset` is added to every
/// line (for a chunk cut out of a larger file).
///
/// Empty documents (only comments or `---`) are returned as `None`.
pub fn parse_stream(text: &str, line_offset: u32) -> Result<Vec<Option<Node>>, YamlError> {
    match fast::parse(text, line_offset) {
        Some(docs) => Ok(docs),
        None => parse_stream_general(text, line_offset),
    }
}

/// [`parse_stream`]'s fast path alone: the tree of a one-document text in
/// the block-style subset manifests are written in, or `None` when the text
/// is outside it. For the differential fuzz target and tests: whenever this
/// gives a tree, [`parse_stream_general`] must give the same one.
#[doc(hidden)]
pub fn parse_stream_fast(text: &str, line_offset: u32) -> Option<Vec<Option<Node>>> {
    fast::parse(text, line_offset)
}

/// [`parse_stream`] through `saphyr-parser` alone, for any YAML.
#[doc(hidden)]
pub fn parse_stream_general(text: &str, line_offset: u32) -> Result<Vec<Option<Node>>, YamlError> {
    let mut b = Builder {
        line_offset,
        stack: Vec::new(),
        items: Vec::new(),
        entries: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
        nodes: 0,
    };
    let parser = Parser::new_from_str(text);
    for ev in parser {
        match ev {
            Ok((ev, span)) => b.event(ev, span)?,
            Err(e) => {
                let m = e.marker();
                return Err(YamlError {
                    line: m.line() as u32 + line_offset,
                    col: m.col() as u32 + 1,
                    message: e.info().to_owned(),
                });
            }
        }
    }
    Ok(b.docs)
}

/// Parses a single-document YAML or JSON text.
pub fn parse_one(text: &str) -> Result<Option<Node>, YamlError> {
    let mut docs = parse_stream(text, 0)?;
    if docs.len() > 1 {
        return Err(YamlError {
            line: 1,
            col: 1,
            message: "expected one YAML document, found several".into(),
        });
    }
    Ok(docs.pop().flatten())
}

/// An open sequence or mapping. Its children wait on the builder's shared
/// `items` or `entries` stack from `start` on, and move into a vector of
/// exactly their number when it closes: one allocation per container, none
/// regrown or shrunk.
enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        start: usize,
    },
    Map {
        pos: Pos,
        anchor: usize,
        start: usize,
        key: Option<(CompactString, Pos)>,
    },
}

struct Builder {
    line_offset: u32,
    stack: Vec<Frame>,
    /// The items of the open sequences, innermost last.
    items: Vec<Node>,
    /// The entries of the open mappings, innermost last.
    entries: Vec<Entry>,
    anchors: HashMap<usize, Node>,
    docs: Vec<Option<Node>>,
    nodes: usize,
}

impl Builder {
    fn pos(&self, span: Span) -> Pos {
        Pos::new(
            span.start.line() as u32 + self.line_offset,
            span.start.col() as u32 + 1,
        )
    }

    fn err(&self, span: Span, message: impl Into<String>) -> YamlError {
        let p = self.pos(span);
        YamlError {
            line: p.line,
            col: p.col,
            message: message.into(),
        }
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(self.err(
                span,
                format!("document expands to more than {MAX_NODES} nodes (alias bomb?)"),
            ));
        }
        Ok(())
    }

    fn event(&mut self, ev: Event<'_>, span: Span) -> Result<(), YamlError> {
        match ev {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                self.anchors.clear();
                self.nodes = 0;
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(self.err(span, "alias refers to an unknown anchor"));
                };
                let n = count_nodes(&node);
                self.count(n, span)?;
                let mut node = node;
                node.pos = self.pos(span);
                self.push(node, span)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, span)?;
                let plain = matches!(style, ScalarStyle::Plain) && tag.is_none();
                let pos = self.pos(span);
                let node = if plain && text.is_empty() {
                    Node::null(pos)
                } else {
                    Node {
                        value: Value::Scalar(Scalar {
                            text: CompactString::from(text.as_ref()),
                            plain,
                        }),
                        pos,
                    }
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node, span)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.count(1, span)?;
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.err(span, format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                let pos = self.pos(span);
                self.stack.push(Frame::Seq {
                    pos,
                    anchor,
                    start: self.items.len(),
                });
            }
            Event::MappingStart(anchor, _) => {
                self.count(1, span)?;
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.err(span, format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                let pos = self.pos(span);
                self.stack.push(Frame::Map {
                    pos,
                    anchor,
                    start: self.entries.len(),
                    key: None,
                });
            }
            Event::SequenceEnd => {
                let Some(Frame::Seq { pos, anchor, start }) = self.stack.pop() else {
                    return Err(self.err(span, "unbalanced sequence end"));
                };
                let items: Vec<Node> = self.items.drain(start..).collect();
                let node = Node {
                    value: Value::Seq(items),
                    pos,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node, span)?;
            }
            Event::MappingEnd => {
                let Some(Frame::Map {
                    pos, anchor, start, ..
                }) = self.stack.pop()
                else {
                    return Err(self.err(span, "unbalanced mapping end"));
                };
                let entries: Vec<Entry> = self.entries.drain(start..).collect();
                let node = Node {
                    value: Value::Map(entries),
                    pos,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node, span)?;
            }
        }
        Ok(())
    }

    fn push(&mut self, node: Node, span: Span) -> Result<(), YamlError> {
        let err_dup = |b: &Self, key: &str| b.err(span, format!("duplicate mapping key {key:?}"));
        match self.stack.last_mut() {
            None => {
                self.docs
                    .push(if node.is_null() { None } else { Some(node) });
            }
            Some(Frame::Seq { .. }) => self.items.push(node),
            Some(Frame::Map { start, key, .. }) => match key.take() {
                None => {
                    let k = match &node.value {
                        Value::Scalar(s) => s.text.clone(),
                        Value::Null => CompactString::const_new("null"),
                        _ => {
                            // Complex keys do not occur in Kubernetes objects;
                            // keep them under their JSON text.
                            CompactString::from(node.to_json().to_string())
                        }
                    };
                    *key = Some((k, node.pos));
                }
                Some((k, key_pos)) => {
                    let start = *start;
                    if k == "<<" && matches!(&node.value, Value::Map(_) | Value::Seq(_)) {
                        merge_into(&mut self.entries, start, &node);
                    } else if let Some(existing) =
                        self.entries[start..].iter_mut().find(|e| e.key == k)
                    {
                        if existing.key_pos.line != 0 {
                            // A key given twice in the same mapping: the API
                            // server's strict decoder refuses this.
                            let e = err_dup(self, &k);
                            return Err(e);
                        }
                        // A key that came from a merge is overridden.
                        *existing = Entry {
                            key: k,
                            key_pos,
                            value: node,
                        };
                    } else {
                        self.entries.push(Entry {
                            key: k,
                            key_pos,
                            value: node,
                        });
                    }
                }
            },
        }
        Ok(())
    }
}

/// Merge keys (`<<: *base` or `<<: [*a, *b]`): copy entries not yet present
/// in the open mapping (`entries[start..]`). Merged keys get line 0 so that
/// an explicit key later overrides them.
fn merge_into(entries: &mut Vec<Entry>, start: usize, src: &Node) {
    let sources: Vec<&Node> = match &src.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![src],
    };
    for s in sources {
        for e in s.entries() {
            if !entries[start..].iter().any(|x| x.key == e.key) {
                entries.push(Entry {
                    key: e.key.clone(),
                    key_pos: Pos::new(0, 0),
                    value: e.value.clone(),
                });
            }
        }
    }
}

fn count_nodes(n: &Node) -> usize {
    match &n.value {
        Value::Null | Value::Scalar(_) => 1,
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|e| 1 + count_nodes(&e.value))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_offset() {
        let docs = parse_stream("a:\n  b: true\n", 10).unwrap();
        let n = docs[0].as_ref().unwrap();
        let e = n.get("a").unwrap().entry("b").unwrap();
        assert_eq!(e.key_pos, Pos::new(12, 3));
        assert_eq!(e.value.as_bool(), Some(true));
    }

    #[test]
    fn json_is_read_with_positions() {
        let n = parse_one("{\"kind\": \"Pod\",\n \"spec\": {\"hostPID\": true}}")
            .unwrap()
            .unwrap();
        assert_eq!(n.at(&["spec", "hostPID"]).unwrap().as_bool(), Some(true));
        assert_eq!(
            n.get("spec")
                .unwrap()
                .entry("hostPID")
                .unwrap()
                .key_pos
                .line,
            2
        );
    }

    #[test]
    fn quoted_true_is_a_string() {
        let n = parse_one("a: \"true\"").unwrap().unwrap();
        assert_eq!(n.get("a").unwrap().as_bool(), None);
    }

    #[test]
    fn merge_keys_and_aliases() {
        let n = parse_one("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n")
            .unwrap()
            .unwrap();
        let d = n.get("d").unwrap();
        assert_eq!(d.get("x").unwrap().as_i64(), Some(1));
        assert_eq!(d.get("y").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn alias_bomb_is_refused() {
        use std::fmt::Write as _;
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            let _ = writeln!(
                s,
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
            );
        }
        let e = parse_stream(&s, 0).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_an_error() {
        let e = parse_one("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate"));
        assert_eq!(e.line, 2);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let s = "[".repeat(1000);
        assert!(parse_one(&s).is_err());
    }

    #[test]
    fn empty_documents_are_none() {
        let docs = parse_stream("---\n# only a comment\n---\na: 1\n", 0).unwrap();
        assert_eq!(docs.iter().filter(|d| d.is_some()).count(), 1);
    }
}
