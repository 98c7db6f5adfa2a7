//! Docker's output conventions: Go templates with docker's functions, tables, go-units sizes and durations.
pub mod table;
pub mod template;
pub mod units;
