//! Server-side template injection in Jinja chat templates.
//!
//! Jinja2's sandbox is not what most servers use to render
//! `tokenizer.chat_template`, and even sandboxed, an attribute walk from a
//! global (`cycler.__init__.__globals__.os.popen('id')`) or from any object
//! (`''.__class__.__mro__[1].__subclasses__()`) escapes into Python. Real
//! chat templates never touch dunder attributes, so any dunder, in the
//! template text or assembled from string literals (`'__cla' ~ 'ss__'`,
//! `'\x5f\x5fclass\x5f\x5f'`, `'_' * 2`), is reported, and so are the
//! helpers and filters these exploits lean on.

use palisade_core::Severity;

/// One suspicious construct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    pub(crate) severity: Severity,
    pub(crate) what: String,
}

/// Dunder names in `s` (`__class__`).
fn dunders(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 < b.len() {
        if b[i] == b'_' && b[i + 1] == b'_' && (i == 0 || b[i - 1] != b'_') {
            let mut j = i + 2;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric()
                    || (b[j] == b'_' && !(j + 1 < b.len() && b[j + 1] == b'_')))
            {
                j += 1;
            }
            if j > i + 2 && j + 1 < b.len() && b[j] == b'_' && b[j + 1] == b'_' {
                let name = &s[i..j + 2];
                if !out.iter().any(|x: &String| x == name) {
                    out.push(name.to_owned());
                }
                i = j + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Decodes Python/Jinja string escapes (`\x5f`, `\u005f`, `\137`).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('x') => {
                let h: String = it.by_ref().take(2).collect();
                out.extend(u32::from_str_radix(&h, 16).ok().and_then(char::from_u32));
            }
            Some('u') => {
                let h: String = it.by_ref().take(4).collect();
                out.extend(u32::from_str_radix(&h, 16).ok().and_then(char::from_u32));
            }
            Some(d @ '0'..='7') => {
                let mut v = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match it.peek().and_then(|c| c.to_digit(8)) {
                        Some(x) => {
                            v = v * 8 + x;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.extend(char::from_u32(v));
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// String literals of the template, adjacent ones joined when `~` or `+`
/// (or nothing, as Python concatenates) stands between them, and `'x' * n`
/// expanded.
fn literals(t: &str) -> Vec<String> {
    let b = t.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j] != c {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            let lit = unescape(&t[start..j.min(b.len())]);
            i = j + 1;
            // `'_' * 2`
            let rest = t.get(i..).unwrap_or("");
            let trimmed = rest.trim_start();
            let lit = if let Some(r) = trimmed.strip_prefix('*') {
                let r = r.trim_start();
                let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
                match digits.parse::<usize>() {
                    Ok(n) if n <= 16 => {
                        i += rest.len() - r.len() + digits.len();
                        lit.repeat(n)
                    }
                    _ => lit,
                }
            } else {
                lit
            };
            current = Some(current.take().unwrap_or_default() + &lit);
            // Joined to the next literal?
            let rest = t.get(i..).unwrap_or("");
            let after = rest.trim_start();
            let joined = after
                .strip_prefix('~')
                .or_else(|| after.strip_prefix('+'))
                .map(str::trim_start);
            match joined {
                Some(n) if n.starts_with(['\'', '"']) => {
                    i += rest.len() - n.len();
                }
                _ if after.starts_with(['\'', '"']) => {
                    i += rest.len() - after.len();
                }
                _ => out.extend(current.take()),
            }
            if out.len() > 100_000 {
                break;
            }
            continue;
        }
        i += 1;
    }
    out.extend(current);
    out
}

fn word(t: &str, w: &str) -> bool {
    t.match_indices(w).any(|(i, _)| {
        let before = t[..i].chars().next_back();
        let after = t[i + w.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// What is suspicious in a chat template.
pub(crate) fn check(t: &str) -> Vec<Issue> {
    let mut out = Vec::new();
    let mut crit = |what: String| {
        out.push(Issue {
            severity: Severity::Critical,
            what,
        });
    };
    let raw = dunders(t);
    if !raw.is_empty() {
        crit(format!("accesses dunder attributes {}", raw.join(", ")));
    }
    let mut assembled: Vec<String> = Vec::new();
    for lit in literals(t) {
        for d in dunders(&lit) {
            if !raw.contains(&d) && !assembled.contains(&d) {
                assembled.push(d);
            }
        }
    }
    if !assembled.is_empty() {
        crit(format!(
            "assembles dunder names from string literals or escapes: {}",
            assembled.join(", ")
        ));
    }
    let calls: Vec<&str> = [
        "os.popen",
        "popen(",
        "os.system",
        "subprocess",
        "import os",
        "eval(",
        "exec(",
        "_TemplateReference__context",
    ]
    .into_iter()
    .filter(|p| t.contains(p))
    .collect();
    if !calls.is_empty() {
        crit(format!(
            "contains {}",
            calls
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut high = Vec::new();
    for g in [
        "cycler",
        "joiner",
        "lipsum",
        "self",
        "request",
        "config",
        "url_for",
        "get_flashed_messages",
    ] {
        // self, config and request are only suspicious when dereferenced.
        let dereferenced =
            !matches!(g, "self" | "config" | "request") || t.contains(&format!("{g}."));
        if word(t, g) && dereferenced {
            high.push(format!(
                "uses the global {g:?}, a common template-escape starting point"
            ));
        }
    }
    let squashed: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if squashed.contains("|attr(") {
        high.push("reads attributes by computed name with the attr filter".to_owned());
    }
    if t.contains("\\x5f") || t.contains("\\u005f") || t.contains("\\137") || t.contains("\\x5F") {
        high.push("spells underscores as escapes".to_owned());
    }
    if squashed.contains(".mro") || squashed.contains("namespace.__init__") {
        high.push("walks class hierarchies".to_owned());
    }
    out.extend(high.into_iter().map(|what| Issue {
        severity: Severity::High,
        what,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worst(t: &str) -> Option<Severity> {
        check(t).iter().map(|i| i.severity).max()
    }

    #[test]
    fn real_templates_are_clean() {
        let llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
        assert_eq!(worst(llama3), None);
        let qwen = "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
        assert_eq!(worst(qwen), None);
    }

    #[test]
    fn ssti_payloads_are_critical() {
        for t in [
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ joiner.__init__.__globals__['__builtins__']['__import__']('os') }}",
            "{{ lipsum.__globals__['os'].popen('id').read() }}",
            "{{ namespace.__init__.__globals__.os.popen('id') }}",
            "{{ ()|attr('__cla' ~ 'ss__') }}",
            "{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
            "{{ x|attr('_'*2 + 'class' + '_'*2) }}",
            "{{ self._TemplateReference__context.cycler }}",
        ] {
            assert_eq!(worst(t), Some(Severity::Critical), "{t}");
        }
        assert_eq!(worst("{{ x|attr(name) }}"), Some(Severity::High));
    }
}
