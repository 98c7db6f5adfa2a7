//! Containers: their records on disk, and (soon) the runtime description built from image and flags.
pub mod record;
