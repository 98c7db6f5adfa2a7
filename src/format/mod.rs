//! Docker's output conventions: Go templates with docker's functions, tables, go-units sizes and durations.
//!
//! * [`units`]: go-units sizes (`4.26MB`, `1.5GiB`), durations (`About an hour`),
//!   size parsing (`--memory 1g`), Go's RFC 3339 and float formatting.
//! * [`template`]: `--format` templates ([`Template`]) over serde data
//!   ([`TemplateData`]), with docker's functions and methods such as `.Label "k"`.
//! * [`table`]: list output ([`ListFormat`]: default table, `table …`, `json`,
//!   templates), a Go-compatible [`TabWriter`], and `inspect` output
//!   ([`render_inspect`]).
pub mod table;
pub mod template;
pub mod units;

pub use table::{
    InspectOutput, ListFormat, ListKind, TabWriter, render_inspect, render_inspect_partial,
};
pub use template::{Template, TemplateData, TemplateError, json_compact, json_indent};
pub use units::{
    UnitsError, bytes_size, from_human_size, go_rfc3339_nano, human_duration, human_size,
    parse_size, time_ago,
};
