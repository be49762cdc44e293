//! The terminal table: findings grouped per resource, each with a short fix
//! hint, then input errors, suppressions, suppression notices and a summary.
//! Resources that make up an inference service (the serving object, its
//! Services and the routes to it, from [`Report::inference_services`]) come
//! first, under one header per service with its finding counts and the
//! paths that reach it from outside; the other resources follow under
//! `== Other resources`.
//!
//! ```text
//! Deployment/llm/vllm  deploy/vllm.yaml
//!   CRITICAL  PLS-POD-001  deploy/vllm.yaml:27:11  container "server" sets securityContext.privileged: true
//!             fix: Remove `securityContext.privileged` (or set it to false).
//!
//! Summary: 1 finding (1 critical); 0 suppressed; 1 file, 1 resource scanned
//! ```
//!
//! Colour only when [`RenderOptions::color`] is set; without it the output
//! holds no escape sequence at all, even when the input smuggles one in.

use super::{RenderOptions, plural, position, printable};
use crate::finding::{Finding, ResourceRef, Severity};
use crate::report::{InferenceService, NoticeKind, Report, SuppressedBy};
use anstyle::{AnsiColor, Style};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

/// Width of the severity column (`CRITICAL`).
const SEVERITY_WIDTH: usize = 8;
/// Indent of the lines under a finding: past the severity column.
const HINT_INDENT: usize = 2 + SEVERITY_WIDTH + 2;
/// Longest fix hint before it is cut.
const HINT_MAX: usize = 110;

pub(super) fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write(report, opts, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the table section by section, so a large report is never held
/// twice in memory.
pub(super) fn write(
    report: &Report,
    opts: &RenderOptions,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let p = Painter { color: opts.color };
    let mut sections: Vec<String> = findings(&p, &report.findings, &report.inference_services);
    if report.findings.is_empty() {
        sections.push(format!("{}\n", p.paint(green(), "No findings.")));
    }
    sections.extend([
        suppressed(&p, report),
        diagnostics(&p, report),
        notices(&p, report),
    ]);
    sections.push(summary(&p, report));
    let mut first = true;
    for section in sections.iter().filter(|s| !s.is_empty()) {
        if !first {
            w.write_all(b"\n")?;
        }
        first = false;
        // A safety net for the promise of no trailing whitespace: padding is
        // only ever written before more text, but an empty message would end on it.
        for line in section.lines() {
            w.write_all(line.trim_end().as_bytes())?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Findings grouped per (resource, file), groups in the order their first
/// finding appears (the report's file/line order). Groups that belong to an
/// inference service (its serving object, Services and routes) come first,
/// together under a header per service, so one endpoint's whole risk is in
/// one place; the other groups follow.
fn findings(p: &Painter, findings: &[Finding], services: &[InferenceService]) -> Vec<String> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut index: HashMap<(&ResourceRef, &str), usize> = HashMap::new();
    for f in findings {
        let key = (&f.resource, f.location.file.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(f);
    }
    // Most severe first inside a resource; the report's order breaks ties.
    for g in &mut groups {
        g.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }

    // Each group goes to the first service it belongs to.
    let service_of = |r: &ResourceRef| {
        services
            .iter()
            .position(|s| &s.resource == r || s.related.contains(r))
    };
    let mut by_service: Vec<Vec<usize>> = vec![Vec::new(); services.len()];
    let mut service_order: Vec<usize> = Vec::new();
    let mut others: Vec<usize> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        match service_of(&g[0].resource) {
            Some(si) => {
                if by_service[si].is_empty() {
                    service_order.push(si);
                }
                by_service[si].push(gi);
            }
            None => others.push(gi),
        }
    }
    // The serving object first, then its Services and routes.
    for (si, members) in by_service.iter_mut().enumerate() {
        members.sort_by_key(|&gi| groups[gi][0].resource != services[si].resource);
    }
    let mut order: Vec<(Option<String>, usize)> = Vec::new();
    for &si in &service_order {
        let members: Vec<&Finding> = by_service[si]
            .iter()
            .flat_map(|&gi| groups[gi].iter().copied())
            .collect();
        let header = service_header(p, &services[si], &members);
        for (k, &gi) in by_service[si].iter().enumerate() {
            order.push(((k == 0).then(|| header.clone()), gi));
        }
    }
    for (k, &gi) in others.iter().enumerate() {
        let header = (k == 0 && !service_order.is_empty())
            .then(|| format!("{}\n", p.paint(Style::new().bold(), "== Other resources")));
        order.push((header, gi));
    }

    let mut sections = Vec::new();
    for (header, gi) in order {
        if let Some(h) = header {
            sections.push(h);
        }
        let group = &groups[gi];
        let mut out = String::new();
        let first = group[0];
        let _ = writeln!(
            out,
            "{}  {}",
            p.paint(Style::new().bold(), &printable(&first.resource.to_string())),
            p.paint(dim(), &printable(&first.location.file)),
        );
        let locs: Vec<String> = group
            .iter()
            .map(|f| {
                printable(&position(
                    &f.location.file,
                    f.location.line,
                    f.location.column,
                ))
                .into_owned()
            })
            .collect();
        let rule_w = group
            .iter()
            .map(|f| f.rule.chars().count())
            .max()
            .unwrap_or(0);
        let loc_w = locs.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let mut hinted = BTreeSet::new();
        for (f, loc) in group.iter().zip(&locs) {
            let label = severity_label(f.severity);
            let _ = writeln!(
                out,
                "  {}{}  {}{}  {}{}  {}",
                p.paint(severity_style(f.severity), label),
                pad(label, SEVERITY_WIDTH),
                p.paint(Style::new().bold(), &printable(&f.rule)),
                pad(&f.rule, rule_w),
                loc,
                pad(loc, loc_w),
                printable(&f.message),
            );
            if let Some(r) = &f.location.rendered {
                let _ = writeln!(
                    out,
                    "{:HINT_INDENT$}{}",
                    "",
                    p.paint(
                        dim(),
                        &format!("rendered: {}", printable(&position(&r.file, r.line, 0)))
                    ),
                );
            }
            if hinted.insert(f.rule.as_ref()) {
                let hint = short_hint(&f.remediation);
                if !hint.is_empty() {
                    let _ = writeln!(
                        out,
                        "{:HINT_INDENT$}{}",
                        "",
                        p.paint(dim(), &format!("fix: {}", printable(&hint))),
                    );
                }
            }
        }
        sections.push(out);
    }
    sections
}

/// `== Inference service llm/vllm (vLLM): 3 findings (1 critical, 2 low)`
/// and, when it is reachable from outside, the paths that reach it.
fn service_header(p: &Painter, s: &InferenceService, members: &[&Finding]) -> String {
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|sev| {
            let n = members.iter().filter(|f| f.severity == *sev).count();
            (n > 0).then(|| format!("{n} {sev}"))
        })
        .collect();
    let mut out = format!(
        "{}\n",
        p.paint(
            Style::new().bold(),
            &printable(&format!(
                "== Inference service {} ({}): {} ({})",
                s.name,
                s.engine,
                plural(members.len(), "finding"),
                counts.join(", ")
            ))
        )
    );
    if !s.exposed_by.is_empty() {
        let shown: Vec<&str> = s.exposed_by.iter().take(4).map(String::as_str).collect();
        let more = s.exposed_by.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "   {}",
            p.paint(
                dim(),
                &printable(&format!(
                    "reachable from outside through {}{tail}",
                    shown.join(", ")
                ))
            )
        );
    }
    out
}

/// Suppressed findings with a reason are listed one per line; baselined ones
/// (many, and without reasons) are counted.
fn suppressed(p: &Painter, report: &Report) -> String {
    let mut out = String::new();
    if report.suppressed.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        p.paint(
            Style::new().bold(),
            &format!("Suppressed ({})", report.suppressed.len())
        )
    );
    let listed: Vec<_> = report
        .suppressed
        .iter()
        .filter_map(|s| {
            let why = match &s.suppressed_by {
                SuppressedBy::Annotation { reason } => format!("annotation: {reason}"),
                SuppressedBy::Config { reason, line } => format!("config (line {line}): {reason}"),
                SuppressedBy::Baseline => return None,
            };
            Some((
                printable(&s.finding.rule),
                printable(&s.finding.resource.to_string()).into_owned(),
                why,
            ))
        })
        .collect();
    let rule_w = listed
        .iter()
        .map(|(r, _, _)| r.chars().count())
        .max()
        .unwrap_or(0);
    let res_w = listed
        .iter()
        .map(|(_, r, _)| r.chars().count())
        .max()
        .unwrap_or(0);
    for (rule, resource, why) in &listed {
        let _ = writeln!(
            out,
            "  {rule}{}  {resource}{}  {}",
            pad(rule, rule_w),
            pad(resource, res_w),
            p.paint(dim(), &printable(why)),
        );
    }
    let baselined = report
        .suppressed
        .iter()
        .filter(|s| s.suppressed_by == SuppressedBy::Baseline)
        .count();
    if baselined > 0 {
        let _ = writeln!(out, "  {} in the baseline", plural(baselined, "finding"));
    }
    out
}

fn diagnostics(p: &Painter, report: &Report) -> String {
    let mut out = String::new();
    if report.diagnostics.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        p.paint(
            red().bold(),
            &format!("Input errors ({})", report.diagnostics.len())
        )
    );
    let locs: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| printable(&position(&d.file, d.line, d.column)).into_owned())
        .collect();
    let w = locs.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (d, loc) in report.diagnostics.iter().zip(&locs) {
        let _ = writeln!(out, "  {loc}{}  {}", pad(loc, w), printable(&d.message));
    }
    out
}

fn notices(p: &Painter, report: &Report) -> String {
    let mut out = String::new();
    if report.notices.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        p.paint(
            Style::new().bold(),
            &format!("Suppression notices ({})", report.notices.len())
        )
    );
    let locs: Vec<String> = report
        .notices
        .iter()
        .map(|n| printable(&position(&n.file, n.line, 0)).into_owned())
        .collect();
    let w = locs.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (n, loc) in report.notices.iter().zip(&locs) {
        let kind = notice_label(n.kind);
        let _ = writeln!(
            out,
            "  {}{}  {loc}{}  {}",
            p.paint(yellow(), kind),
            pad(kind, "unmatched".len()),
            pad(loc, w),
            printable(&n.message),
        );
    }
    out
}

fn summary(p: &Painter, report: &Report) -> String {
    let s = report.summary();
    let mut parts = Vec::new();

    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|sev| {
            let n = s.findings.get(sev).copied().unwrap_or(0);
            (n > 0).then(|| p.paint(severity_style(*sev), &format!("{n} {sev}")))
        })
        .collect();
    if by_sev.is_empty() {
        parts.push("0 findings".to_owned());
    } else {
        parts.push(format!(
            "{} ({})",
            plural(s.total, "finding"),
            by_sev.join(", ")
        ));
    }

    let sup_total: usize = s.suppressed.values().sum();
    let by_kind: Vec<String> = ["annotation", "config", "baseline"]
        .iter()
        .filter_map(|k| {
            s.suppressed
                .get(*k)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {k}"))
        })
        .collect();
    if by_kind.is_empty() {
        parts.push("0 suppressed".to_owned());
    } else {
        parts.push(format!("{sup_total} suppressed ({})", by_kind.join(", ")));
    }

    if s.input_errors > 0 {
        parts.push(p.paint(red(), &plural(s.input_errors, "input error")));
    }
    if !report.notices.is_empty() {
        parts.push(plural(report.notices.len(), "suppression notice"));
    }
    parts.push(format!(
        "{}, {} scanned",
        plural(s.files, "file"),
        plural(s.resources, "resource")
    ));

    format!(
        "{} {}\n",
        p.paint(Style::new().bold(), "Summary:"),
        parts.join("; ")
    )
}

/// Paints text when colour is on; otherwise returns it as is.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}
fn red() -> Style {
    fg(AnsiColor::Red)
}
fn yellow() -> Style {
    fg(AnsiColor::Yellow)
}
fn green() -> Style {
    fg(AnsiColor::Green)
}
fn dim() -> Style {
    Style::new().dimmed()
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => fg(AnsiColor::BrightRed).bold(),
        Severity::High => red(),
        Severity::Medium => yellow(),
        Severity::Low => fg(AnsiColor::Cyan),
        Severity::Info => dim(),
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

fn notice_label(k: NoticeKind) -> &'static str {
    match k {
        NoticeKind::Expired => "expired",
        NoticeKind::Unmatched => "unmatched",
        NoticeKind::Invalid => "invalid",
    }
}

/// Spaces that bring `text` (as shown, without escapes) to `width`.
fn pad(text: &str, width: usize) -> String {
    " ".repeat(width.saturating_sub(text.chars().count()))
}

/// The first sentence of a remediation, cut at a word boundary when long.
fn short_hint(remediation: &str) -> String {
    let text = remediation.lines().next().unwrap_or("").trim();
    let sentence = first_sentence(text);
    if sentence.chars().count() <= HINT_MAX {
        return sentence.to_owned();
    }
    let cut: String = sentence.chars().take(HINT_MAX).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > HINT_MAX / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}...", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// Up to and including the first full stop that ends a sentence: one followed
/// by a space and a capital letter or a backtick, not one after "e.g".
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(". ") {
        let next = text[i + 2..].chars().next();
        let starts_sentence = next.is_some_and(|c| c.is_uppercase() || c == '`');
        let before = &text[..i];
        let abbreviation = ["e.g", "i.e", "etc", "vs"]
            .iter()
            .any(|a| before.ends_with(a) && before[..before.len() - a.len()].ends_with([' ', '(']));
        if starts_sentence && !abbreviation && bytes.get(i) == Some(&b'.') {
            return &text[..=i];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_is_the_first_sentence() {
        assert_eq!(
            short_hint("Remove `privileged` (or set it to false). Grant only what is needed."),
            "Remove `privileged` (or set it to false)."
        );
        assert_eq!(
            short_hint("Set a limit, e.g. Memory: 1Gi. Then redeploy."),
            "Set a limit, e.g. Memory: 1Gi."
        );
        assert_eq!(short_hint("No full stop"), "No full stop");
        assert_eq!(short_hint(""), "");
    }

    #[test]
    fn long_hint_is_cut_at_a_word() {
        let long = "word ".repeat(60);
        let h = short_hint(&long);
        assert!(h.ends_with("word..."), "{h}");
        assert!(h.chars().count() <= HINT_MAX + 3);
    }
}
