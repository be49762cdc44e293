//! A document tree that remembers where every value came from.
//!
//! Rules read manifests through [`Node`]; every mapping key and every value
//! carries the 1-based line and column it was read from, so a finding can
//! point at the offending field.

use compact_str::CompactString;
use std::fmt;

/// A position in a source file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

impl Pos {
    /// Creates a position.
    pub const fn new(line: u32, col: u32) -> Self {
        Self { line, col }
    }
}

/// A scalar as written: its text and whether it was plain (unquoted), which
/// decides whether `true`, `1` or `null` are typed values or strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The scalar's text after YAML unescaping.
    pub text: CompactString,
    /// `true` for a plain (unquoted, non-block) scalar.
    pub plain: bool,
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key's text (non-string keys are kept in their written form).
    pub key: CompactString,
    /// Where the key was written.
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An explicit or implicit null.
    Null,
    /// A scalar: string, number or boolean as written.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<Entry>),
}

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts.
    pub pos: Pos,
}

static NULL: Node = Node {
    value: Value::Null,
    pos: Pos { line: 0, col: 0 },
};

impl Node {
    /// A null node at `pos`.
    pub const fn null(pos: Pos) -> Self {
        Self {
            value: Value::Null,
            pos,
        }
    }

    /// A shared null node, returned by lookups that find nothing.
    pub fn missing() -> &'static Node {
        &NULL
    }

    /// Looks up `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Looks up `key` in a mapping, returning the whole entry (with the key's position).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// Follows a chain of mapping keys.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        let mut n = self;
        for k in keys {
            n = n.get(k)?;
        }
        Some(n)
    }

    /// Follows a [`Path`].
    pub fn at_path(&self, path: &Path) -> Option<&Node> {
        let mut n = self;
        for seg in &path.0 {
            n = match seg {
                Seg::Key(k) => n.get(k)?,
                Seg::Index(i) => n.as_seq()?.get(*i)?,
            };
        }
        Some(n)
    }

    /// The position of the deepest existing node along `path`: the key of the
    /// last mapping entry found, or the item of the last sequence found.
    pub fn locate(&self, path: &Path) -> Pos {
        // A tree decoded without positions (a live cluster's JSON: every
        // position is 0:0) has none to find; a located one starts at 1:1.
        if self.pos == Pos::default() {
            return self.pos;
        }
        let mut n = self;
        let mut pos = self.pos;
        for seg in &path.0 {
            match seg {
                Seg::Key(k) => match n.entry(k) {
                    Some(e) => {
                        pos = e.key_pos;
                        n = &e.value;
                    }
                    None => break,
                },
                Seg::Index(i) => match n.as_seq().and_then(|s| s.get(*i)) {
                    Some(item) => {
                        pos = item.pos;
                        n = item;
                    }
                    None => break,
                },
            }
        }
        pos
    }

    /// The mapping's entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(e) => Some(e),
            _ => None,
        }
    }

    /// The sequence's items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence, or nothing.
    pub fn items(&self) -> &[Node] {
        self.as_seq().unwrap_or(&[])
    }

    /// The items of the sequence under `key`, or nothing.
    pub fn list(&self, key: &str) -> &[Node] {
        self.get(key).map_or(&[], Node::items)
    }

    /// The entries of a mapping, or nothing.
    pub fn entries(&self) -> &[Entry] {
        self.as_map().unwrap_or(&[])
    }

    /// The text of a scalar (any scalar: numbers and booleans too).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    /// Whether this node is null (explicit `null`/`~` or empty).
    pub fn is_null(&self) -> bool {
        match &self.value {
            Value::Null => true,
            Value::Scalar(s) => {
                s.plain && matches!(s.text.as_str(), "null" | "Null" | "NULL" | "~")
            }
            _ => false,
        }
    }

    /// A boolean as the Kubernetes YAML decoder reads it: plain `true`/`false`
    /// in any case, and the YAML 1.1 spellings `yes`/`no`/`on`/`off`.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar(s) if s.plain => match s.text.as_str() {
                "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y"
                | "Y" => Some(true),
                "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
                | "N" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// An integer (plain scalar in decimal, `0x` hex or `0o` octal form).
    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Scalar(s) if s.plain => parse_int(&s.text),
            _ => None,
        }
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// Converts to JSON (scalars typed by the YAML 1.2 core schema).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Scalar(s) => {
                if !s.plain {
                    return serde_json::Value::String(s.text.to_string());
                }
                if self.is_null() {
                    return serde_json::Value::Null;
                }
                if let Some(b) = self.as_bool() {
                    return serde_json::Value::Bool(b);
                }
                if let Some(i) = parse_int(&s.text) {
                    return serde_json::Value::from(i);
                }
                if let Ok(f) = s.text.parse::<f64>()
                    && s.text.chars().any(|c| c.is_ascii_digit())
                    && let Some(n) = serde_json::Number::from_f64(f)
                {
                    return serde_json::Value::Number(n);
                }
                serde_json::Value::String(s.text.to_string())
            }
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|e| (e.key.to_string(), e.value.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

fn parse_int(t: &str) -> Option<i64> {
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// A mapping key (short keys are stored inline, without allocating).
    Key(CompactString),
    /// A sequence index.
    Index(usize),
}

/// A JSON path into a document, such as
/// `spec.template.spec.containers[0].securityContext.privileged`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// The empty path (the document root).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses dotted keys, e.g. `"spec.template.spec"`.
    pub fn keys(dotted: &str) -> Self {
        Self(
            dotted
                .split('.')
                .filter(|s| !s.is_empty())
                .map(|s| Seg::Key(s.into()))
                .collect(),
        )
    }

    /// A new path with `key` appended.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.into()));
        p
    }

    /// A new path with several keys appended.
    #[must_use]
    pub fn keys_from(&self, keys: &[&str]) -> Self {
        let mut p = self.clone();
        p.0.extend(keys.iter().map(|k| Seg::Key((*k).into())));
        p
    }

    /// A new path with `index` appended.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    /// A new path with `other` appended.
    #[must_use]
    pub fn join(&self, other: &Path) -> Self {
        let mut p = self.clone();
        p.0.extend(other.0.iter().cloned());
        p
    }

    /// Whether the path is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    let simple = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
                    if simple {
                        if i > 0 {
                            f.write_str(".")?;
                        }
                        f.write_str(k)?;
                    } else {
                        write!(f, "[{}]", serde_json::Value::String(k.to_string()))?;
                    }
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_quotes_keys_with_dots() {
        let p = Path::keys("metadata.annotations").key("palisade.dev/ignore");
        assert_eq!(
            p.to_string(),
            r#"metadata.annotations["palisade.dev/ignore"]"#
        );
        let p = Path::keys("spec.containers").index(2).key("image");
        assert_eq!(p.to_string(), "spec.containers[2].image");
    }

    #[test]
    fn ints_and_bools_follow_kubernetes_decoding() {
        let n = |t: &str, plain| Node {
            value: Value::Scalar(Scalar {
                text: t.into(),
                plain,
            }),
            pos: Pos::default(),
        };
        assert_eq!(n("0x10", true).as_i64(), Some(16));
        assert_eq!(n("-5", true).as_i64(), Some(-5));
        assert_eq!(n("10", false).as_i64(), None);
        assert_eq!(n("yes", true).as_bool(), Some(true));
        assert_eq!(n("true", false).as_bool(), None);
    }
}
