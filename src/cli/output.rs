//! Glue between commands and [`crate::format`]: docker-shaped lists, inspect
//! output and templates, written to stdout.

use std::io::Write;

use anyhow::Context as _;
use serde_json::Value;

use crate::format::table::{ListFormat, render_inspect};
use crate::format::template::{Template, TemplateData};

/// Renders one Go template against `data` (no trailing newline added).
pub fn render_template(format: &str, data: &Value) -> anyhow::Result<String> {
    let t = Template::parse(format).context("template parsing error")?;
    Ok(t.render(&TemplateData::from_json(data))?)
}

/// Prints a list command's rows: the default table, `table …`, `json` or a template.
pub fn print_list(
    format: Option<&str>,
    default_table: &str,
    headers: &[(&str, &str)],
    rows: Vec<TemplateData>,
) -> anyhow::Result<()> {
    let f = ListFormat::parse(format, default_table).context("template parsing error")?;
    let text = f.render(headers, &rows)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Prints `inspect` output: a 4-space-indented JSON array, or the template per object.
pub fn print_inspect(values: &[Value], format: Option<&str>) -> anyhow::Result<()> {
    let text = render_inspect(values, format).context("template parsing error")?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Whether stdin is a terminal (prompts).
pub fn stdin_is_tty() -> bool {
    nix::unistd::isatty(std::io::stdin()).unwrap_or(false)
}

/// docker's prune confirmation: `WARNING! This will remove WHAT.` and a
/// `[y/N]` question, asked only on a terminal without `-f`. True: go on.
pub fn confirm_removal(what: &str, force: bool) -> std::io::Result<bool> {
    confirm(
        &format!("WARNING! This will remove {what}.\nAre you sure you want to continue?"),
        force,
    )
}

/// Asks `message [y/N] ` (only on a terminal without `-f`). True: go on.
pub fn confirm(message: &str, force: bool) -> std::io::Result<bool> {
    if force || !stdin_is_tty() {
        return Ok(true);
    }
    eprint!("{message} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
