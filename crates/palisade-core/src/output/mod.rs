//! Report writers (placeholder until the writers land: JSON only).

use crate::report::Report;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Table.
    Table,
    /// JSON.
    Json,
    /// SARIF.
    Sarif,
    /// JUnit.
    Junit,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "sarif" => Ok(Self::Sarif),
            "junit" => Ok(Self::Junit),
            _ => Err(format!("unknown format {s:?}")),
        }
    }
}

/// Rendering options.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Colour.
    pub color: bool,
    /// Version.
    pub tool_version: String,
}

/// Renders a report.
pub fn render(report: &Report, _format: Format, _opts: &RenderOptions) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}
