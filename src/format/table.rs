//! docker's list and inspect output: `--format` handling (`table`, `table
//! TEMPLATE`, `json`, `TEMPLATE`), tab-aligned tables, and inspect's JSON.
//!
//! ```
//! use berth::format::table::ListFormat;
//! use berth::format::template::TemplateData;
//! use serde_json::json;
//!
//! const IMAGES: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
//! const HEADERS: &[(&str, &str)] = &[("Repository", "REPOSITORY"), ("Tag", "TAG"),
//!     ("ID", "IMAGE ID"), ("CreatedSince", "CREATED"), ("Size", "SIZE")];
//! let rows = [TemplateData::from_json(&json!({"Repository": "busybox", "Tag": "latest",
//!     "ID": "af47096251ad", "CreatedSince": "2 weeks ago", "Size": "4.26MB"}))];
//! let out = ListFormat::parse(None, IMAGES).unwrap().render(HEADERS, &rows).unwrap();
//! assert_eq!(out, "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
//!                  busybox      latest    af47096251ad   2 weeks ago   4.26MB\n");
//! ```
//!
//! Tables go through [`TabWriter`], a port of the rules of Go's
//! `text/tabwriter` as docker's fork of it applies them (cell widths measured
//! in terminal columns, as go-runewidth does) with docker's settings
//! `NewWriter(out, 10, 1, 3, ' ', 0)`.

use super::template::{Template, TemplateData, TemplateError, json_compact, json_indent};

/// How a list command prints, from its `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `table …` (and the default): a header row, tab-aligned columns.
    Table,
    /// `json`: one compact JSON object per row.
    Json,
    /// Any other template: one rendered line per row, no header.
    Template,
}

/// A list command's parsed `--format`.
#[derive(Debug, Clone)]
pub struct ListFormat {
    kind: ListKind,
    template: Template,
}

impl ListFormat {
    /// Parses the user's `--format` (`None`, `""` and `"table"` mean the
    /// command's `default_table`, e.g. `table {{.ID}}\t{{.Image}}`), the way
    /// docker's formatter does: a `table` prefix makes a table, exactly
    /// `json` is `{{json .}}`, surrounding spaces are trimmed, and the
    /// two-character escapes `\t` and `\n` become a tab and a newline.
    pub fn parse(user: Option<&str>, default_table: &str) -> Result<ListFormat, TemplateError> {
        let source = match user {
            None | Some("") | Some("table") => {
                if default_table.starts_with("table") {
                    default_table.to_string()
                } else {
                    format!("table {default_table}")
                }
            }
            Some(s) => s.to_string(),
        };
        let (kind, body) = if let Some(rest) = source.strip_prefix("table") {
            (ListKind::Table, rest)
        } else if source == "json" {
            (ListKind::Json, "{{json .}}")
        } else {
            (ListKind::Template, source.as_str())
        };
        let body = unescape_tabs_newlines(body.trim_matches(' '));
        Ok(ListFormat {
            kind,
            template: Template::parse(&body)?,
        })
    }

    /// Which of docker's output kinds this is.
    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// The template rows are rendered with (after docker's preprocessing).
    pub fn template(&self) -> &Template {
        &self.template
    }

    /// Renders the whole output: for a table the header row (the template
    /// rendered against `headers`, field name → column title, e.g.
    /// `("ID", "CONTAINER ID")`) and then every row, tab-aligned; otherwise
    /// each row followed by a newline. A table has its header even with no
    /// rows. Any row's error fails the whole output, as in docker.
    pub fn render(
        &self,
        headers: &[(&str, &str)],
        rows: &[TemplateData],
    ) -> Result<String, TemplateError> {
        let mut body = String::new();
        for row in rows {
            body.push_str(&self.template.render_row(row)?);
            body.push('\n');
        }
        if self.kind != ListKind::Table {
            return Ok(body);
        }
        let mut input = self.template.render_header(&TemplateData::header(headers));
        input.push('\n');
        input.push_str(&body);
        Ok(TabWriter::DOCKER.format(&input))
    }
}

/// docker's `strings.NewReplacer(`\t`, "\t", `\n`, "\n")`.
fn unescape_tabs_newlines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('t') {
            out.push('\t');
            rest = r;
        } else if let Some(r) = after.strip_prefix('n') {
            out.push('\n');
            rest = r;
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// What `docker inspect` prints, and the per-object errors it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectOutput {
    /// Everything for stdout, final newline included.
    pub stdout: String,
    /// Objects whose template failed (docker prints the others and exits 1).
    pub errors: Vec<TemplateError>,
}

/// `docker inspect [-f FORMAT]` output for `values`: without a format a JSON
/// array indented by 4 spaces (`[]` when empty), with `json` the compact
/// array, otherwise the template rendered once per object, each followed by
/// a newline. Fails on a bad template or on the first object whose template
/// fails; [`render_inspect_partial`] keeps the others, as docker does.
pub fn render_inspect(
    values: &[serde_json::Value],
    format: Option<&str>,
) -> Result<String, TemplateError> {
    let out = render_inspect_partial(values, format)?;
    match out.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(out.stdout),
    }
}

/// Like [`render_inspect`], but per object as docker does: objects whose
/// template fails are left out and their errors returned; when nothing was
/// rendered stdout is a lone newline (docker's template inspector).
/// Only an unparsable template is an `Err` (docker exits 64 for it).
pub fn render_inspect_partial(
    values: &[serde_json::Value],
    format: Option<&str>,
) -> Result<InspectOutput, TemplateError> {
    let array = || serde_json::Value::Array(values.to_vec());
    let stdout = match format {
        None | Some("") if values.is_empty() => "[]\n".to_string(),
        None | Some("") => format!("{}\n", json_indent(&array(), "    ")),
        Some("json") if values.is_empty() => "[]\n".to_string(),
        Some("json") => format!("{}\n", json_compact(&array(), false)),
        Some(f) => {
            let template = Template::parse(f)?;
            let mut stdout = String::new();
            let mut errors = Vec::new();
            for v in values {
                match template.render_json(v) {
                    Ok(s) => {
                        stdout.push_str(&s);
                        stdout.push('\n');
                    }
                    Err(e) => errors.push(e),
                }
            }
            if stdout.is_empty() {
                stdout.push('\n');
            }
            return Ok(InspectOutput { stdout, errors });
        }
    };
    Ok(InspectOutput {
        stdout,
        errors: Vec::new(),
    })
}

// ---------------------------------------------------------------------------
// Tabwriter

/// Go's `text/tabwriter` formatting (left-aligned, no flags), with cell
/// widths in terminal columns as docker's fork measures them.
///
/// Cells are tab-terminated; a line's text after its last tab is not part of
/// a column and is never padded. A column is a run of consecutive lines that
/// all have a cell there; its width is `max(minwidth, widest cell + padding)`.
/// `\v` ends a cell like `\t`, `\f` ends a line and flushes (later lines start
/// new columns) and prints as `\n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabWriter {
    /// Minimal cell width, padding included.
    pub minwidth: usize,
    /// Width of a tab character when padding with tabs.
    pub tabwidth: usize,
    /// Padding added to the widest cell of a column.
    pub padding: usize,
    /// Character used for padding; `'\t'` pads with tabs.
    pub padchar: char,
}

impl TabWriter {
    /// docker's `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
    pub const DOCKER: TabWriter = TabWriter {
        minwidth: 10,
        tabwidth: 1,
        padding: 3,
        padchar: ' ',
    };

    /// Formats `input` as writing it to a Go tabwriter and flushing would.
    pub fn format(&self, input: &str) -> String {
        let mut state = TabState {
            config: *self,
            text: String::new(),
            lines: vec![Vec::new()],
            cell_start: 0,
            widths: Vec::new(),
            out: String::with_capacity(input.len() * 2),
        };
        for ch in input.chars() {
            match ch {
                '\t' | '\u{b}' | '\n' | '\u{c}' => {
                    let ncells = state.terminate_cell();
                    if ch == '\n' || ch == '\u{c}' {
                        state.lines.push(Vec::new());
                        // A one-cell line cannot belong to a column: Go
                        // flushes there, and always at a form feed.
                        if ch == '\u{c}' || ncells == 1 {
                            state.flush();
                        }
                    }
                }
                c => state.text.push(c),
            }
        }
        state.flush();
        state.out
    }
}

#[derive(Debug)]
struct Cell {
    start: usize,
    end: usize,
    width: usize,
}

struct TabState {
    config: TabWriter,
    /// All cell text since the last flush (tabs and line breaks removed).
    text: String,
    lines: Vec<Vec<Cell>>,
    cell_start: usize,
    widths: Vec<usize>,
    out: String,
}

impl TabState {
    fn terminate_cell(&mut self) -> usize {
        let start = self.cell_start;
        let end = self.text.len();
        let cell = Cell {
            start,
            end,
            width: display_width(&self.text[start..end]),
        };
        self.cell_start = end;
        let line = self
            .lines
            .last_mut()
            .expect("there is always a current line");
        line.push(cell);
        line.len()
    }

    fn flush(&mut self) {
        if self.text.len() > self.cell_start {
            self.terminate_cell();
        }
        let n = self.lines.len();
        self.format(0, n);
        self.text.clear();
        self.cell_start = 0;
        self.lines.clear();
        self.lines.push(Vec::new());
        self.widths.clear();
    }

    /// Go's recursive column-block formatter over lines `line0..line1`.
    fn format(&mut self, mut line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            // This line has a cell in `column`: a column block starts here.
            self.write_lines(line0, this);
            line0 = this;
            let mut width = self.config.minwidth;
            while this < line1 && column + 1 < self.lines[this].len() {
                width = width.max(self.lines[this][column].width + self.config.padding);
                this += 1;
            }
            self.widths.push(width);
            self.format(line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(line0, line1);
    }

    fn write_lines(&mut self, line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, cell) in self.lines[i].iter().enumerate() {
                self.out.push_str(&self.text[cell.start..cell.end]);
                if let Some(&w) = self.widths.get(j) {
                    pad(&mut self.out, &self.config, cell.width, w);
                }
            }
            if i + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

fn pad(out: &mut String, config: &TabWriter, textw: usize, cellw: usize) {
    if config.padchar == '\t' {
        if config.tabwidth == 0 {
            return;
        }
        let cellw = cellw.div_ceil(config.tabwidth) * config.tabwidth;
        let n = cellw - textw;
        out.extend(std::iter::repeat_n('\t', n.div_ceil(config.tabwidth)));
    } else {
        out.extend(std::iter::repeat_n(config.padchar, cellw - textw));
    }
}

/// Terminal width of `s` as go-runewidth measures it in a non-East-Asian
/// locale: East Asian wide and fullwidth characters and emoji count 2,
/// combining marks, zero-width and control characters 0, a character joined
/// by a zero-width joiner 0, everything else 1.
pub fn display_width(s: &str) -> usize {
    let mut width = 0;
    let mut joined = false;
    for c in s.chars() {
        if joined {
            joined = false;
            continue;
        }
        if c == '\u{200d}' {
            joined = true;
            continue;
        }
        width += char_width(c);
    }
    width
}

fn char_width(c: char) -> usize {
    let cp = c as u32;
    if cp < 0x20 || (0x7f..0xa0).contains(&cp) {
        return 0;
    }
    if cp == 0xad {
        return 0; // soft hyphen, a format character
    }
    if cp < 0x300 {
        return 1;
    }
    if in_ranges(cp, ZERO_WIDTH) {
        0
    } else if in_ranges(cp, WIDE) {
        2
    } else {
        1
    }
}

fn in_ranges(cp: u32, ranges: &[(u32, u32)]) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Combining marks and format characters of zero width (main blocks).
const ZERO_WIDTH: &[(u32, u32)] = &[
    (0x0300, 0x036f),
    (0x0483, 0x0489),
    (0x0591, 0x05bd),
    (0x05bf, 0x05bf),
    (0x05c1, 0x05c2),
    (0x05c4, 0x05c5),
    (0x05c7, 0x05c7),
    (0x0600, 0x0605),
    (0x0610, 0x061a),
    (0x061c, 0x061c),
    (0x064b, 0x065f),
    (0x0670, 0x0670),
    (0x06d6, 0x06dd),
    (0x06df, 0x06e4),
    (0x06e7, 0x06e8),
    (0x06ea, 0x06ed),
    (0x070f, 0x070f),
    (0x0900, 0x0902),
    (0x093a, 0x093a),
    (0x093c, 0x093c),
    (0x0941, 0x0948),
    (0x094d, 0x094d),
    (0x0951, 0x0957),
    (0x0e31, 0x0e31),
    (0x0e34, 0x0e3a),
    (0x0e47, 0x0e4e),
    (0x1160, 0x11ff),
    (0x180e, 0x180e),
    (0x1ab0, 0x1aff),
    (0x1dc0, 0x1dff),
    (0x200b, 0x200f),
    (0x2028, 0x202e),
    (0x2060, 0x206f),
    (0x20d0, 0x20ff),
    (0xfe00, 0xfe0f),
    (0xfe20, 0xfe2f),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x1f3fb, 0x1f3ff),
    (0xe0001, 0xe007f),
    (0xe0100, 0xe01ef),
];

/// East Asian Wide/Fullwidth characters and wide emoji (main blocks).
const WIDE: &[(u32, u32)] = &[
    (0x1100, 0x115f),
    (0x231a, 0x231b),
    (0x2329, 0x232a),
    (0x23e9, 0x23ec),
    (0x23f0, 0x23f0),
    (0x23f3, 0x23f3),
    (0x25fd, 0x25fe),
    (0x2614, 0x2615),
    (0x2648, 0x2653),
    (0x267f, 0x267f),
    (0x2693, 0x2693),
    (0x26a1, 0x26a1),
    (0x26aa, 0x26ab),
    (0x26bd, 0x26be),
    (0x26c4, 0x26c5),
    (0x26ce, 0x26ce),
    (0x26d4, 0x26d4),
    (0x26ea, 0x26ea),
    (0x26f2, 0x26f3),
    (0x26f5, 0x26f5),
    (0x26fa, 0x26fa),
    (0x26fd, 0x26fd),
    (0x2705, 0x2705),
    (0x270a, 0x270b),
    (0x2728, 0x2728),
    (0x274c, 0x274c),
    (0x274e, 0x274e),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2795, 0x2797),
    (0x27b0, 0x27b0),
    (0x27bf, 0x27bf),
    (0x2b1b, 0x2b1c),
    (0x2b50, 0x2b50),
    (0x2b55, 0x2b55),
    (0x2e80, 0x303e),
    (0x3041, 0x33ff),
    (0x3400, 0x4dbf),
    (0x4e00, 0x9fff),
    (0xa000, 0xa4cf),
    (0xa960, 0xa97f),
    (0xac00, 0xd7a3),
    (0xf900, 0xfaff),
    (0xfe10, 0xfe19),
    (0xfe30, 0xfe6f),
    (0xff00, 0xff60),
    (0xffe0, 0xffe6),
    (0x16fe0, 0x16fe4),
    (0x17000, 0x18aff),
    (0x1b000, 0x1b2ff),
    (0x1f004, 0x1f004),
    (0x1f0cf, 0x1f0cf),
    (0x1f18e, 0x1f18e),
    (0x1f191, 0x1f19a),
    (0x1f200, 0x1f251),
    (0x1f300, 0x1f320),
    (0x1f32d, 0x1f335),
    (0x1f337, 0x1f37c),
    (0x1f37e, 0x1f393),
    (0x1f3a0, 0x1f3ca),
    (0x1f3cf, 0x1f3d3),
    (0x1f3e0, 0x1f3f0),
    (0x1f3f4, 0x1f3f4),
    (0x1f3f8, 0x1f3fa),
    (0x1f400, 0x1f43e),
    (0x1f440, 0x1f440),
    (0x1f442, 0x1f4fc),
    (0x1f4ff, 0x1f53d),
    (0x1f54b, 0x1f54e),
    (0x1f550, 0x1f567),
    (0x1f57a, 0x1f57a),
    (0x1f595, 0x1f596),
    (0x1f5a4, 0x1f5a4),
    (0x1f5fb, 0x1f64f),
    (0x1f680, 0x1f6c5),
    (0x1f6cc, 0x1f6cc),
    (0x1f6d0, 0x1f6d2),
    (0x1f6d5, 0x1f6d7),
    (0x1f6dc, 0x1f6df),
    (0x1f6eb, 0x1f6ec),
    (0x1f6f4, 0x1f6fc),
    (0x1f7e0, 0x1f7eb),
    (0x1f7f0, 0x1f7f0),
    (0x1f90c, 0x1f93a),
    (0x1f93c, 0x1f945),
    (0x1f947, 0x1f9ff),
    (0x1fa70, 0x1faff),
    (0x20000, 0x2fffd),
    (0x30000, 0x3fffd),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn tw(input: &str) -> String {
        TabWriter::DOCKER.format(input)
    }

    #[test]
    fn tabwriter_go_rules() {
        // Cell width = max(minwidth, text + padding); the last cell is not padded.
        assert_eq!(
            tw("REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"),
            "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
        );
        assert_eq!(tw("a\tb\n"), "a         b\n");
        assert_eq!(tw("a\tb"), "a         b");
        // A trailing tab makes a padded cell followed by an empty last cell.
        assert_eq!(tw("a\tb\t\n"), "a         b         \n");
        // Columns are per contiguous block of lines.
        assert_eq!(
            tw("aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n"),
            "aaaa      bbb       d\naa        b         dd\na         \naa        cccc      eee\n"
        );
        // A line without tabs ends the block; the next block starts afresh.
        assert_eq!(
            tw("loooooooooong\tx\nplain\nab\tx\n"),
            "loooooooooong   x\nplain\nab        x\n"
        );
        // Empty cells are padded too.
        assert_eq!(tw("\tx\n\ty\n"), "          x\n          y\n");
        // Width in terminal columns: a wide character counts 2.
        assert_eq!(
            tw("日本語日本語\tx\nab\ty\n"),
            "日本語日本語   x\nab             y\n"
        );
        assert_eq!(tw("é\tx\n"), "é         x\n"); // é is one column
        assert_eq!(tw("e\u{301}\tx\n"), "e\u{301}         x\n"); // combining accent: zero
        // \v ends a cell, \f ends the block and prints as a newline.
        assert_eq!(tw("a\u{b}b\n"), "a         b\n");
        assert_eq!(
            tw("loooooooooong\tx\u{c}a\tb\n"),
            "loooooooooong   x\na         b\n"
        );
        assert_eq!(tw(""), "");
        assert_eq!(tw("\n\n"), "\n\n");
        let tabs = TabWriter {
            minwidth: 0,
            tabwidth: 8,
            padding: 1,
            padchar: '\t',
        };
        assert_eq!(
            tabs.format("a\tb\nlonger_cell\tc\n"),
            "a\t\tb\nlonger_cell\tc\n"
        );
    }

    #[test]
    fn display_widths() {
        assert_eq!(display_width("busybox"), 7);
        assert_eq!(display_width("日本"), 4);
        assert_eq!(display_width("한국어"), 6);
        assert_eq!(display_width("ｆｕｌｌ"), 8);
        assert_eq!(display_width("🐳"), 2);
        assert_eq!(display_width("👨\u{200d}👩\u{200d}👧"), 2);
        assert_eq!(display_width("a\u{300}"), 1);
        assert_eq!(display_width("\u{feff}x"), 1);
        assert_eq!(display_width("\u{ad}\u{200b}zw"), 2);
        assert_eq!(display_width("①②Ω✅"), 5);
        for pair in ZERO_WIDTH.windows(2).chain(WIDE.windows(2)) {
            assert!(pair[0].1 < pair[1].0, "ranges sorted: {pair:x?}");
        }
        assert_eq!(display_width("\u{1b}"), 0);
    }

    #[test]
    fn unescapes_like_docker() {
        assert_eq!(unescape_tabs_newlines(r"a\tb\nc"), "a\tb\nc");
        assert_eq!(unescape_tabs_newlines(r"a\\tb"), "a\\\tb");
        assert_eq!(unescape_tabs_newlines(r"a\x\"), r"a\x\");
    }

    const PS_DEFAULT: &str = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}";
    const PS_HEADERS: &[(&str, &str)] = &[
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"),
        ("Ports", "PORTS"),
        ("State", "STATE"),
        ("Status", "STATUS"),
        ("Size", "SIZE"),
        ("Names", "NAMES"),
        ("Labels", "LABELS"),
        ("Mounts", "MOUNTS"),
        ("Networks", "NETWORKS"),
        ("LocalVolumes", "LOCAL VOLUMES"),
    ];

    fn ps_rows() -> Vec<TemplateData> {
        let row = |id: &str,
                   image: &str,
                   cmd: &str,
                   created: &str,
                   status: &str,
                   ports: &str,
                   names: &str,
                   labels: &[(&str, &str)]| {
            let labels: Vec<(String, String)> = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let joined = labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            TemplateData::from_json(&json!({
                "Command": cmd, "CreatedAt": "2024-05-01 12:00:00 +0000 UTC", "ID": id,
                "Image": image, "Labels": joined, "LocalVolumes": "0", "Mounts": "",
                "Names": names, "Networks": "bridge", "Ports": ports, "RunningFor": created,
                "Size": "0B", "State": if status.starts_with("Up") { "running" } else { "exited" },
                "Status": status,
            }))
            .with_method("Label", 1, move |args| {
                labels
                    .iter()
                    .find(|(k, _)| k == args[0])
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
        };
        vec![
            row(
                "4f66ad9a0b2e",
                "nginx:alpine",
                "\"/docker-entrypoint.…\"",
                "2 minutes ago",
                "Up 2 minutes",
                "0.0.0.0:8080->80/tcp",
                "web",
                &[("tier", "front")],
            ),
            row(
                "9c1e3e1e0b9f",
                "busybox",
                "\"sh -c 'a && b'\"",
                "About an hour ago",
                "Exited (0) 59 minutes ago",
                "",
                "job_1",
                &[],
            ),
        ]
    }

    #[test]
    fn ps_default_table() {
        let f = ListFormat::parse(None, PS_DEFAULT).unwrap();
        assert_eq!(f.kind(), ListKind::Table);
        let out = f.render(PS_HEADERS, &ps_rows()).unwrap();
        insta::assert_snapshot!("ps_default_table", out);
        assert_eq!(
            out.lines().next().unwrap(),
            "CONTAINER ID   IMAGE          COMMAND                  CREATED             STATUS                      PORTS                  NAMES"
        );
        // No rows: still the header.
        assert_eq!(
            f.render(PS_HEADERS, &[]).unwrap(),
            "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
        );
        // "table" alone and "" are the default too.
        for user in ["table", ""] {
            let g = ListFormat::parse(Some(user), PS_DEFAULT).unwrap();
            assert_eq!(g.render(PS_HEADERS, &ps_rows()).unwrap(), out);
        }
    }

    #[test]
    fn ps_custom_formats() {
        let rows = ps_rows();
        let render = |user: &str| {
            ListFormat::parse(Some(user), PS_DEFAULT)
                .unwrap()
                .render(PS_HEADERS, &rows)
                .unwrap()
        };
        let out = render("table {{.Names}}\\t{{.Status}}\\t{{.Label \"tier\"}}");
        insta::assert_snapshot!("ps_custom_table", out);
        assert_eq!(
            out,
            "NAMES     STATUS                      tier\n\
             web       Up 2 minutes                front\n\
             job_1     Exited (0) 59 minutes ago   \n"
        );
        // A plain template: one line per row, no header, no alignment.
        assert_eq!(
            render("{{.Names}}\t{{.ID}}"),
            "web\t4f66ad9a0b2e\njob_1\t9c1e3e1e0b9f\n"
        );
        assert_eq!(
            render(r"{{.Names}}\t{{.ID}}"),
            "web\t4f66ad9a0b2e\njob_1\t9c1e3e1e0b9f\n"
        );
        assert_eq!(render("  {{.Names}}  "), "web\njob_1\n");
        // json: one compact object per row, keys sorted, HTML escaped like docker.
        let json = render("json");
        insta::assert_snapshot!("ps_json", json);
        assert!(
            json.starts_with("{\"Command\":\"\\\"/docker-entrypoint.…\\\"\",\"CreatedAt\""),
            "{json}"
        );
        assert!(
            json.contains("\"Command\":\"\\\"sh -c 'a \\u0026\\u0026 b'\\\"\""),
            "{json}"
        );
        assert_eq!(json.lines().count(), 2);
        assert_eq!(
            ListFormat::parse(Some("json"), PS_DEFAULT).unwrap().kind(),
            ListKind::Json
        );
        assert_eq!(
            ListFormat::parse(Some(" json"), PS_DEFAULT).unwrap().kind(),
            ListKind::Template
        );
        // Header functions leave titles alone; the data functions work on rows.
        assert_eq!(
            render(r"table {{upper .Names}}\t{{json .ID}}"),
            "NAMES     CONTAINER ID\n\
             WEB       \"4f66ad9a0b2e\"\n\
             JOB_1     \"9c1e3e1e0b9f\"\n"
        );
        // Errors: parse errors up front, row errors fail the output.
        let err = ListFormat::parse(Some("{{.Names"), PS_DEFAULT).unwrap_err();
        assert_eq!(
            err.docker_message(),
            "template parsing error: template: :1: unclosed action"
        );
        let f = ListFormat::parse(Some("{{.Names 1}}"), PS_DEFAULT).unwrap();
        assert!(f.render(PS_HEADERS, &rows).is_err());
    }

    #[test]
    fn images_default_table() {
        const IMAGES: &str =
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
        const HEADERS: &[(&str, &str)] = &[
            ("Repository", "REPOSITORY"),
            ("Tag", "TAG"),
            ("Digest", "DIGEST"),
            ("ID", "IMAGE ID"),
            ("CreatedSince", "CREATED"),
            ("CreatedAt", "CREATED AT"),
            ("Size", "SIZE"),
        ];
        let img = |repo: &str, tag: &str, id: &str, since: &str, size: f64| {
            TemplateData::from_json(&json!({
                "Containers": "N/A", "CreatedAt": "2024-04-17 12:00:00 +0000 UTC",
                "CreatedSince": since, "Digest": "<none>", "ID": id, "Repository": repo,
                "SharedSize": "N/A", "Size": super::super::units::human_size(size), "Tag": tag,
                "UniqueSize": "N/A", "VirtualSize": super::super::units::human_size(size),
            }))
        };
        let rows = [
            img(
                "docker.io/library/busybox",
                "latest",
                "af47096251ad",
                "2 weeks ago",
                4_261_711.0,
            ),
            img(
                "localhost:5000/app",
                "1.0",
                "0123456789ab",
                "About an hour ago",
                187_000_000.0,
            ),
            img(
                "<none>",
                "<none>",
                "ba5e0a1b2c3d",
                "3 months ago",
                999_999.0,
            ),
        ];
        let out = ListFormat::parse(None, IMAGES)
            .unwrap()
            .render(HEADERS, &rows)
            .unwrap();
        insta::assert_snapshot!("images_default_table", out);
        assert_eq!(
            out,
            "REPOSITORY                  TAG       IMAGE ID       CREATED             SIZE\n\
             docker.io/library/busybox   latest    af47096251ad   2 weeks ago         4.26MB\n\
             localhost:5000/app          1.0       0123456789ab   About an hour ago   187MB\n\
             <none>                      <none>    ba5e0a1b2c3d   3 months ago        1e+03kB\n"
        );
        let out = ListFormat::parse(Some("{{.Repository}}:{{.Tag}}"), IMAGES)
            .unwrap()
            .render(HEADERS, &rows)
            .unwrap();
        assert_eq!(
            out,
            "docker.io/library/busybox:latest\nlocalhost:5000/app:1.0\n<none>:<none>\n"
        );
    }

    fn inspect_values() -> Vec<serde_json::Value> {
        vec![json!({
            "Id": "4f66ad9a0b2e1c2d3e4f5a6b7c8d9e0f4f66ad9a0b2e1c2d3e4f5a6b7c8d9e0f",
            "Created": "2024-05-01T12:00:00.123456789Z",
            "Path": "sh",
            "Args": ["-c", "a && b"],
            "State": {"Status": "exited", "Running": false, "Paused": false, "Restarting": false,
                      "OOMKilled": false, "Dead": false, "Pid": 0, "ExitCode": 0, "Error": "",
                      "StartedAt": "2024-05-01T12:00:01.5Z", "FinishedAt": "0001-01-01T00:00:00Z"},
            "Image": "sha256:af47096251ad",
            "Name": "/job_1",
            "RestartCount": 0,
            "HostConfig": {"Binds": null, "PortBindings": {}, "AutoRemove": false},
            "Mounts": [],
            "Config": {"Hostname": "4f66ad9a0b2e", "Env": ["PATH=/usr/bin"], "Cmd": ["sh"],
                       "Entrypoint": null, "Labels": {}},
        })]
    }

    #[test]
    fn inspect_output() {
        let values = inspect_values();
        let out = render_inspect(&values, None).unwrap();
        insta::assert_snapshot!("inspect_indented", out);
        assert!(out.starts_with("[\n    {\n        \"Id\": \"4f66"), "{out}");
        assert!(out.contains(
            "\n        \"Args\": [\n            \"-c\",\n            \"a && b\"\n        ],\n"
        ));
        assert!(out.contains("\"Mounts\": [],\n") && out.contains("\"PortBindings\": {},\n"));
        assert!(out.ends_with("\n    }\n]\n"));
        assert_eq!(render_inspect(&[], None).unwrap(), "[]\n");
        assert_eq!(render_inspect(&[], Some("json")).unwrap(), "[]\n");
        let compact = render_inspect(&values, Some("json")).unwrap();
        assert!(
            compact.starts_with("[{\"Id\":\"4f66") && compact.ends_with("}}]\n"),
            "{compact}"
        );
        assert_eq!(
            render_inspect(&values, Some("{{.State.Running}}")).unwrap(),
            "false\n"
        );
        assert_eq!(
            render_inspect(
                &values,
                Some("{{.Name}} {{.Config.Entrypoint}} {{json .Config.Labels}}")
            )
            .unwrap(),
            "/job_1 <nil> {}\n"
        );
        // Templates are used as given: no `\t` unescaping or trimming.
        assert_eq!(
            render_inspect(&values, Some(r" {{.Path}}\t")).unwrap(),
            " sh\\t\n"
        );
        let two = [values[0].clone(), json!({"Name": "/other"})];
        assert_eq!(
            render_inspect(&two, Some("{{.Name}}")).unwrap(),
            "/job_1\n/other\n"
        );
        // Nothing rendered: docker prints an empty line.
        assert_eq!(render_inspect(&[], Some("{{.Name}}")).unwrap(), "\n");
        // Per-object errors: the others are printed.
        let partial = render_inspect_partial(&two, Some("{{index .Args 1}}")).unwrap();
        assert_eq!(partial.stdout, "a && b\n");
        assert_eq!(partial.errors.len(), 1);
        assert!(render_inspect(&two, Some("{{index .Args 1}}")).is_err());
        assert!(render_inspect_partial(&two, Some("{{nope}}")).is_err());
    }

    proptest! {
        #[test]
        fn tabwriter_columns_align(
            cells in prop::collection::vec(
                prop::collection::vec("[a-z0-9_.:/-]{1,14}|[a-z日本語🐳é]{1,6}", 3..=3),
                1..8,
            )
        ) {
            let input: String = cells.iter().map(|row| row.join("\t") + "\n").collect();
            let out = TabWriter::DOCKER.format(&input);
            let lines: Vec<&str> = out.lines().collect();
            prop_assert_eq!(lines.len(), cells.len());
            // Column k of every line starts at the same terminal column.
            let mut starts: Vec<Vec<usize>> = Vec::new();
            for (line, row) in lines.iter().zip(&cells) {
                prop_assert!(!line.ends_with(' '), "last cell is never padded: {:?}", line);
                let mut offsets = Vec::new();
                let mut rest: &str = line;
                let mut col = 0;
                for (k, cell) in row.iter().enumerate() {
                    prop_assert!(rest.starts_with(cell.as_str()), "{:?} in {:?}", cell, line);
                    offsets.push(col);
                    rest = &rest[cell.len()..];
                    col += display_width(cell);
                    if k + 1 < row.len() {
                        let spaces = rest.len() - rest.trim_start_matches(' ').len();
                        prop_assert!(spaces >= 3, "padding of at least 3: {:?}", line);
                        rest = &rest[spaces..];
                        col += spaces;
                    }
                }
                prop_assert!(rest.is_empty());
                starts.push(offsets);
            }
            for k in 0..3 {
                let first = starts[0][k];
                for s in &starts {
                    prop_assert_eq!(s[k], first, "column {} misaligned in {:?}", k, out);
                }
            }
            // And the widths are Go's: max(minwidth, widest + padding).
            for k in 0..2 {
                let widest = cells.iter().map(|r| display_width(&r[k])).max().unwrap_or(0);
                prop_assert_eq!(starts[0][k + 1] - starts[0][k], (widest + 3).max(10));
            }
        }
    }
}
