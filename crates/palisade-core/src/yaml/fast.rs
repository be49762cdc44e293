//! A fast path for the block-style YAML that Kubernetes manifests are
//! written in: block mappings and sequences, single-line plain and quoted
//! scalars, literal block scalars and comments.
//!
//! It builds exactly the tree that the general parser builds (the same
//! texts, styles and positions), and declines, returning `None`, on
//! anything outside that subset: flow collections, anchors, aliases, tags,
//! folded or multi-line scalars, merge and duplicate keys, tabs, non-ASCII
//! text, or anything malformed. The caller then parses the text with
//! `saphyr-parser`, which also reports the errors. The differential fuzz
//! target `yaml_fast_path` and the tests below hold the two to the same
//! trees.
//!
//! Why: `saphyr-parser` spent about 80 instructions per byte on manifests,
//! a fifth of a whole scan's time.

use crate::node::{Entry, Node, Pos, Scalar, Value};
use compact_str::CompactString;

/// Maximum nesting the fast path follows; deeper texts go to the general
/// parser, which enforces the real limit.
const MAX_DEPTH: usize = 64;

/// Parses a text holding at most one document (an optional leading `---`
/// line, then block content). `None`: not in the subset.
pub(super) fn parse(text: &str, line_offset: u32) -> Option<Vec<Option<Node>>> {
    // Printable ASCII and line feeds only: no tabs, carriage returns,
    // control characters (which YAML refuses) or multi-byte characters
    // (whose columns saphyr counts in characters).
    if !text
        .bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    {
        return None;
    }
    let mut p = Fast {
        lines: text.split('\n').collect(),
        i: 0,
        line_offset,
        depth: 0,
    };
    // A document start marker on the first line, alone.
    p.skip_insignificant();
    if p.lines.get(p.i).is_some_and(|l| l.starts_with("---")) {
        if p.lines[p.i].trim_end() != "---" {
            return None;
        }
        p.i += 1;
    }
    // (An empty document is left to the general parser, which decides
    // whether the stream holds a null document or none.)
    let (_, indent) = p.peek()?;
    let root = p.block(indent, None)?;
    // Anything left over (less indented than the root, or a second
    // document) is for the general parser to judge.
    if p.peek().is_some() {
        return None;
    }
    Some(vec![Some(root)])
}

struct Fast<'t> {
    lines: Vec<&'t str>,
    /// The current line.
    i: usize,
    line_offset: u32,
    depth: usize,
}

/// Characters that may not start a plain scalar (or key) in block context.
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

impl Fast<'_> {
    fn pos(&self, line: usize, col0: usize) -> Pos {
        Pos::new(line as u32 + 1 + self.line_offset, col0 as u32 + 1)
    }

    /// Moves past blank and comment lines.
    fn skip_insignificant(&mut self) {
        while let Some(l) = self.lines.get(self.i) {
            let t = l.trim_start_matches(' ');
            if t.is_empty() || t.starts_with('#') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// The next significant line and its indentation; declines document
    /// markers and directives.
    fn peek(&mut self) -> Option<(usize, usize)> {
        self.skip_insignificant();
        let l = self.lines.get(self.i)?;
        Some((self.i, indent_of(l)))
    }

    /// A document marker or directive ends the subset.
    fn is_marker(line: &str) -> bool {
        line.starts_with("---") || line.starts_with("...") || line.starts_with('%')
    }

    /// The block node whose first line is the current one, at `indent`.
    /// `first` is the column where the node starts on that line when it
    /// follows a `- ` on it (a compact mapping in a sequence item).
    fn block(&mut self, indent: usize, first: Option<usize>) -> Option<Node> {
        let col = first.unwrap_or(indent);
        let rest = &self.lines[self.i][col..];
        if rest == "-" || rest.starts_with("- ") {
            if first.is_some() {
                return None;
            }
            self.deeper(|p| p.sequence(indent, false))
        } else {
            self.deeper(|p| p.mapping(col))
        }
    }

    /// Runs `f` one nesting level deeper, declining past [`MAX_DEPTH`].
    /// (The sequence and mapping loops check every line they take for
    /// document markers.)
    fn deeper(&mut self, f: impl FnOnce(&mut Self) -> Option<Node>) -> Option<Node> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let node = f(self)?;
        self.depth -= 1;
        Some(node)
    }

    /// A block sequence whose `-` items sit at column `indent`;
    /// `indentless` when it is a mapping value at the mapping's own
    /// indentation (`key:` then `- item` below `key`).
    fn sequence(&mut self, indent: usize, indentless: bool) -> Option<Node> {
        // saphyr places a sequence at its first `-`, and an indentless one
        // after the spaces that follow its first `-` (where the first item
        // starts, when it is on the same line).
        let pos = if indentless {
            let rest = &self.lines[self.i][indent + 1..];
            let gap = rest.len() - rest.trim_start_matches(' ').len();
            if rest[gap..].starts_with('#') {
                return None;
            }
            self.pos(self.i, indent + 1 + gap)
        } else {
            self.pos(self.i, indent)
        };
        let mut items = Vec::new();
        while let Some((li, ind)) = self.peek() {
            if ind < indent {
                break;
            }
            if ind > indent {
                return None;
            }
            let line = self.lines[li];
            if Self::is_marker(line) {
                return None;
            }
            let rest = &line[indent..];
            if rest != "-" && !rest.starts_with("- ") {
                // The parent mapping's next key (an indentless sequence).
                break;
            }
            let after = &rest[1..];
            let gap = after.len() - after.trim_start_matches(' ').len();
            let content = &after[gap..];
            let col = indent + 1 + gap;
            if content.is_empty() || content.starts_with('#') {
                // The item is on the following lines, or is null.
                self.i = li + 1;
                match self.peek() {
                    Some((_, next)) if next > indent => {
                        let n = self.block(next, None)?;
                        items.push(n);
                    }
                    _ => return None,
                }
                continue;
            }
            if content == "-" || content.starts_with("- ") {
                return None;
            }
            if key(content).is_some() {
                let n = self.block(col, Some(col))?;
                items.push(n);
                continue;
            }
            let n = self.value(li, col, indent)?;
            items.push(n);
        }
        Some(Node {
            value: Value::Seq(items),
            pos,
        })
    }

    /// A block mapping whose keys start at column `indent` (the first key
    /// possibly after a `- ` on its line).
    fn mapping(&mut self, indent: usize) -> Option<Node> {
        let pos = self.pos(self.i, indent);
        let mut entries: Vec<Entry> = Vec::new();
        let mut first = true;
        loop {
            let li = if first {
                self.i
            } else {
                match self.peek() {
                    Some((li, ind)) if ind == indent => li,
                    Some((_, ind)) if ind < indent => break,
                    None => break,
                    Some(_) => return None,
                }
            };
            first = false;
            let line = self.lines[li];
            if Self::is_marker(line) {
                return None;
            }
            let content = &line[indent..];
            if content == "-" || content.starts_with("- ") {
                return None;
            }
            let (key, after) = key(content)?;
            if key == "<<" || entries.iter().any(|e| e.key == key) {
                return None;
            }
            let key_pos = self.pos(li, indent);
            let vcol = indent + after;
            let rest = &line[vcol..];
            let gap = rest.len() - rest.trim_start_matches(' ').len();
            let value = if rest[gap..].is_empty() || rest[gap..].starts_with('#') {
                self.i = li + 1;
                match self.peek() {
                    Some((_, next)) if next > indent => self.block(next, None)?,
                    Some((nl, next))
                        if next == indent && {
                            let c = &self.lines[nl][indent..];
                            c == "-" || c.starts_with("- ")
                        } =>
                    {
                        self.deeper(|p| p.sequence(indent, true))?
                    }
                    // `key:` and nothing after it: null, placed at the
                    // colon (a comment after it is for the general parser).
                    _ if rest.is_empty() => Node::null(self.pos(li, vcol - 1)),
                    _ => return None,
                }
            } else {
                self.value(li, vcol + gap, indent)?
            };
            entries.push(Entry {
                key: CompactString::from(key),
                key_pos,
                value,
            });
        }
        Some(Node {
            value: Value::Map(entries),
            pos,
        })
    }

    /// A scalar starting at column `col` of line `li`, inside a collection
    /// at `parent` indentation. Leaves the current line after it.
    fn value(&mut self, li: usize, col: usize, parent: usize) -> Option<Node> {
        let line = self.lines[li];
        let s = &line[col..];
        let pos = self.pos(li, col);
        let b = s.as_bytes()[0];
        let (text, plain) = match b {
            b'"' => {
                let (text, used) = double_quoted(s)?;
                trailing_ok(&s[used..])?;
                (text, false)
            }
            b'\'' => {
                let (text, used) = single_quoted(s)?;
                trailing_ok(&s[used..])?;
                (text, false)
            }
            b'|' => {
                self.i = li + 1;
                let (text, pos) = self.literal(&s[1..], parent)?;
                return Some(Node {
                    value: Value::Scalar(Scalar {
                        text: CompactString::from(text),
                        plain: false,
                    }),
                    pos,
                });
            }
            b'{' | b'[' => {
                // Only the empty flow collections `{}` and `[]`.
                let close = if b == b'{' { "{}" } else { "[]" };
                if !s.starts_with(close) {
                    return None;
                }
                trailing_ok(&s[2..])?;
                self.i = li + 1;
                self.no_continuation(parent)?;
                let value = if b == b'{' {
                    Value::Map(Vec::new())
                } else {
                    Value::Seq(Vec::new())
                };
                return Some(Node { value, pos });
            }
            b'-' if s.len() > 1 && s.as_bytes()[1] != b' ' => (plain_text(s)?, true),
            b if is_indicator(b) => return None,
            _ => (plain_text(s)?, true),
        };
        self.i = li + 1;
        self.no_continuation(parent)?;
        Some(if plain && text.is_empty() {
            Node::null(pos)
        } else {
            Node {
                value: Value::Scalar(Scalar {
                    text: CompactString::from(text),
                    plain,
                }),
                pos,
            }
        })
    }

    /// After a scalar: a more indented line next would continue it (a
    /// multi-line scalar) or be an error; both are for the general parser.
    fn no_continuation(&mut self, parent: usize) -> Option<()> {
        match self.peek() {
            Some((_, next)) if next > parent => None,
            _ => Some(()),
        }
    }

    /// A literal block scalar (`|` or `|-`) whose header rest is `header`,
    /// with its content on the lines from the current one, more indented
    /// than `parent`: its text, and its position (saphyr's: where the first
    /// line of content starts).
    fn literal(&mut self, header: &str, parent: usize) -> Option<(String, Pos)> {
        let (strip, after) = match header.as_bytes().first() {
            Some(b'-') => (true, &header[1..]),
            _ => (false, header),
        };
        let t = after.trim_start_matches(' ');
        if !(t.is_empty() || t.starts_with('#') && t.len() < after.len()) {
            return None;
        }
        let start = self.i;
        let mut content_indent = None;
        // One past the last line with content.
        let mut end = start;
        let mut j = start;
        while let Some(l) = self.lines.get(j) {
            if l.bytes().all(|b| b == b' ') {
                j += 1;
                continue;
            }
            let ind = indent_of(l);
            match content_indent {
                None if ind <= parent => return None,
                None => content_indent = Some(ind),
                Some(ci) if ind < ci => break,
                Some(_) => {}
            }
            j += 1;
            end = j;
        }
        let ci = content_indent?;
        let first = (start..end).find(|&k| !self.lines[k].bytes().all(|b| b == b' '))?;
        let pos = self.pos(first, ci);
        // Blank lines longer than the indentation hold spaces as content
        // (or, before the first line, are an error); and a last line with
        // no line break after it: both for the general parser.
        if self.lines[start..j]
            .iter()
            .any(|l| l.len() > ci && l.bytes().all(|b| b == b' '))
            || end == self.lines.len()
            // At the end of the text saphyr's chomping of trailing blank
            // lines departs from the spec's (it keeps a line break for a
            // last line of spaces): only the text's final line break may
            // follow the content there.
            || j == self.lines.len() && (j - end > 1 || !self.lines[j - 1].is_empty())
        {
            return None;
        }
        let mut out = String::new();
        for (k, l) in self.lines[start..end].iter().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            if l.len() > ci {
                out.push_str(&l[ci..]);
            }
        }
        if !strip {
            out.push('\n');
        }
        self.i = j;
        self.no_continuation(parent)?;
        Some((out, pos))
    }
}

/// The key of a `key: value` (or `key:`) line and the offset just after
/// its `:`.
fn key(content: &str) -> Option<(String, usize)> {
    let b = *content.as_bytes().first()?;
    let (k, end) = match b {
        b'"' => {
            let (k, used) = double_quoted(content)?;
            (k, used)
        }
        b'\'' => {
            let (k, used) = single_quoted(content)?;
            (k, used)
        }
        b if is_indicator(b) => return None,
        _ => {
            let bytes = content.as_bytes();
            let mut end = None;
            for i in 0..bytes.len() {
                if bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
                    end = Some(i);
                    break;
                }
                if bytes[i] == b'#' && i > 0 && bytes[i - 1] == b' ' {
                    return None;
                }
            }
            let end = end?;
            let k = &content[..end];
            if k.ends_with(' ') {
                return None;
            }
            (k.to_owned(), end)
        }
    };
    let rest = &content[end..];
    if !rest.starts_with(':') || !(rest.len() == 1 || rest.as_bytes()[1] == b' ') {
        return None;
    }
    Some((k, end + 1))
}

/// A single-line plain scalar: up to a comment, without trailing spaces.
fn plain_text(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut end = bytes.len();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'#' if i > 0 && bytes[i - 1] == b' ' => {
                end = i;
                break;
            }
            b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => return None,
            _ => {}
        }
    }
    let t = s[..end].trim_end_matches(' ');
    Some(t.to_owned())
}

/// After a quoted scalar: nothing, spaces, or spaces and a comment.
fn trailing_ok(rest: &str) -> Option<()> {
    let t = rest.trim_start_matches(' ');
    (t.is_empty() || t.starts_with('#') && t.len() < rest.len()).then_some(())
}

/// A double-quoted scalar closed on the same line: its text and the bytes
/// used (quotes included).
fn double_quoted(s: &str) -> Option<(String, usize)> {
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some((out, i + 1)),
            b'\\' => {
                let e = *bytes.get(i + 1)?;
                i += 2;
                let c = match e {
                    b'\\' => '\\',
                    b'"' => '"',
                    b'/' => '/',
                    b'n' => '\n',
                    b't' => '\t',
                    b'r' => '\r',
                    b'0' => '\0',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'a' => '\u{7}',
                    b'v' => '\u{b}',
                    b'e' => '\u{1b}',
                    b' ' => ' ',
                    b'x' | b'u' => {
                        let n = if e == b'x' { 2 } else { 4 };
                        let hex = s.get(i..i + n)?;
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        i += n;
                        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                    }
                    _ => return None,
                };
                out.push(c);
            }
            b => {
                out.push(char::from(b));
                i += 1;
            }
        }
    }
    None
}

/// A single-quoted scalar closed on the same line (`''` is a quote).
fn single_quoted(s: &str) -> Option<(String, usize)> {
    let bytes = s.as_bytes();
    let mut out = String::new();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            return Some((out, i + 1));
        }
        out.push(char::from(bytes[i]));
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::{parse_stream, parse_stream_general};
    use super::parse;

    /// The fast path takes `text` and builds what saphyr builds.
    #[track_caller]
    fn same(text: &str) {
        let fast = parse(text, 7).unwrap_or_else(|| panic!("declined: {text:?}"));
        assert_eq!(Ok(fast), parse_stream_general(text, 7), "{text:?}");
    }

    /// The fast path declines `text`, and parsing it gives saphyr's answer.
    #[track_caller]
    fn declined(text: &str) {
        assert_eq!(parse(text, 0), None, "{text:?}");
        assert_eq!(parse_stream(text, 0), parse_stream_general(text, 0));
    }

    #[test]
    fn manifests_in_the_subset_get_saphyrs_tree() {
        same(concat!(
            "apiVersion: apps/v1\n",
            "kind: Deployment\n",
            "metadata:\n",
            "  name: vllm # the server\n",
            "  labels:\n",
            "    app.kubernetes.io/name: vllm\n",
            "    \"quoted key\": 'it''s'\n",
            "spec:\n",
            "  replicas: 2\n",
            "  template:\n",
            "    spec:\n",
            "      containers:\n",
            "      - name: server\n",
            "        image: \"vllm/vllm-openai:v0.6.0\"\n",
            "        args:\n",
            "        - --model\n",
            "        - -c\n",
            "        - \"a\\tb\\u00e9\\\\ \\\"q\\\"\"\n",
            "        resources: {}\n",
            "        ports: []\n",
            "        env:\n",
            "          -   name: A\n",
            "              value:\n",
            "          - name: B\n",
            "            value: http://x:8080/p#frag\n",
            "# a comment\n",
            "      volumes:\n",
            "      -\n",
            "        name: cache\n",
            "        emptyDir:\n",
            "status:\n",
        ));
    }

    #[test]
    fn literal_block_scalars() {
        same("a: |\n  one\n\n  two\n    indented\nb: |-\n  stripped\n\nc: x\n");
        same("a: |\n\n  after a blank line\n# not a comment: content ended\nb: 1\n");
        same("- |\n  in a sequence\n- |-  # header comment\n  x\n");
        same("data:\n  config.yaml: |\n    key: value\n    # kept\n    list:\n    - a\n");
    }

    #[test]
    fn an_indentless_sequence_sits_after_the_spaces_after_its_first_dash() {
        // Found by the fuzz target: a first item on the lines below, after
        // `- ` with a trailing space.
        same("=:\n- \n xyken:\n\nf: \"q\"\ng:\n\n");
        same("a:\n-\n  b: 1\nc:\n-    d\n");
    }

    #[test]
    fn document_marker_and_offsets() {
        same("---\na: 1\n");
        same("\n\n# leading comment\n---\n  a: 1\n  b: 2\n");
    }

    #[test]
    fn everything_else_goes_to_the_general_parser() {
        for text in [
            "a: &x 1\nb: *x\n",
            "base: &b {x: 1}\nd:\n  <<: *b\n",
            "a: 1\na: 2\n",
            "a: [1, 2]\n",
            "a: {b: c}\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: é\n",
            "a: b\u{1}\n",
            "a: b\u{7f}\n",
            "a: one\n  two\n",
            "a: >\n  folded\n",
            "a: |+\n  kept\n\n",
            "a: |2\n   explicit\n",
            "a: !!str 1\n",
            "a: 1\n---\nb: 2\n",
            "just a scalar\n",
            "",
            "# only a comment\n",
            "a: # comment\n",
            "a: \"unterminated\n",
            "a: \"multi\n  line\"\n",
            "? complex\n: key\n",
            "a : b\n",
            "a: b: c\n",
            "- - nested\n",
            "a: |\n  no final newline",
            // Found by the fuzz target (saphyr keeps a line break for the
            // last line of spaces).
            "a: |\n\n  d: \n\n  ",
            "a: |\n  d\n\n",
            "c: |\n l1\n\n  d:\n  - f\n ",
            "a: |\n   \n  spaces beyond the indentation\n",
            "a:\n  b: 1\n c: 2\n",
            "a: 1\n   b: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: '\n",
            "a: \"\\q\"\n",
            "a: \"\\ud800\"\n",
            "-\n- x\n",
        ] {
            declined(text);
        }
    }

    #[test]
    fn deep_nesting_is_left_to_the_general_parser() {
        let mut text = String::new();
        for d in 0..100 {
            text.push_str(&" ".repeat(d * 2));
            text.push_str("k:\n");
        }
        text.push_str(&" ".repeat(200));
        text.push_str("v: 1\n");
        declined(&text);
    }
}
