//! JSON from the API server straight into [`Node`]s, without an
//! intermediate `serde_json::Value`: a list page is read in one pass.
//!
//! Scalars keep their JSON typing the way the YAML loader reads a JSON file:
//! strings are quoted (not plain), numbers, booleans are plain, `null` is
//! null. Objects from a cluster have no source text, so every position is
//! line 0 (unknown); findings locate them by JSON path.

use palisade_core::node::{Entry, Scalar, Value};
use palisade_core::{Node, Pos};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A [`Node`] read from JSON.
#[derive(Debug)]
pub(crate) struct JsonNode(pub(crate) Node);

fn node(value: Value) -> Node {
    Node {
        value,
        pos: Pos::default(),
    }
}

fn plain(text: impl Into<compact_str::CompactString>) -> Node {
    node(Value::Scalar(Scalar {
        text: text.into(),
        plain: true,
    }))
}

/// Refuses documents nested deeper than this (the API server caps nesting
/// too; this keeps a hostile server from overflowing the stack).
const MAX_DEPTH: usize = 256;

struct NodeVisitor {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for NodeVisitor {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(plain(if v { "true" } else { "false" }))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(plain(compact_str::format_compact!("{v}")))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(plain(compact_str::format_compact!("{v}")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(plain(compact_str::format_compact!("{v}")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(node(Value::Scalar(Scalar {
            text: v.into(),
            plain: false,
        })))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(node(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(node(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(serde::de::Error::custom("document nested too deeply"));
        }
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(n) = seq.next_element_seed(NodeVisitor {
            depth: self.depth + 1,
        })? {
            items.push(n);
        }
        items.shrink_to_fit();
        Ok(node(Value::Seq(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(serde::de::Error::custom("document nested too deeply"));
        }
        let mut entries: Vec<Entry> = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(NodeVisitor {
                depth: self.depth + 1,
            })?;
            if entries.iter().any(|e| e.key == key.as_ref()) {
                return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
            }
            entries.push(Entry {
                key: key.as_ref().into(),
                key_pos: Pos::default(),
                value,
            });
        }
        entries.shrink_to_fit();
        Ok(node(Value::Map(entries)))
    }
}

impl<'de> serde::Deserialize<'de> for JsonNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NodeVisitor { depth: 0 }.deserialize(d).map(JsonNode)
    }
}

/// A list page: `metadata.continue` and the items.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ListPage {
    #[serde(default)]
    pub(crate) metadata: ListMeta,
    #[serde(default)]
    pub(crate) items: Vec<JsonNode>,
}

/// `ListMeta`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListMeta {
    #[serde(rename = "continue", default)]
    pub(crate) continue_token: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn json_types_match_the_yaml_loader() {
        let text = r#"{"a": 1, "b": "1", "c": true, "d": null, "e": [1.5, "x"], "f": {"g": -2}}"#;
        let n: JsonNode = serde_json::from_str(text).unwrap();
        let from_yaml = palisade_core::yaml::parse_one(text).unwrap().unwrap();
        assert_eq!(n.0.to_json(), from_yaml.to_json());
        assert_eq!(n.0.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(n.0.get("b").unwrap().as_i64(), None);
        assert_eq!(n.0.get("c").unwrap().as_bool(), Some(true));
        assert!(n.0.get("d").unwrap().is_null());
    }

    #[test]
    fn garbage_and_deep_nesting_are_errors_not_panics() {
        assert!(serde_json::from_str::<JsonNode>("{\"a\": [1, }").is_err());
        let deep = "[".repeat(100_000);
        assert!(serde_json::from_str::<JsonNode>(&deep).is_err());
        assert!(serde_json::from_str::<JsonNode>(r#"{"a":1,"a":2}"#).is_err());
        let page: ListPage =
            serde_json::from_str(r#"{"metadata":{"continue":"x"},"items":[{}]}"#).unwrap();
        assert_eq!(page.metadata.continue_token.as_deref(), Some("x"));
        assert_eq!(page.items.len(), 1);
    }
}
