//! `save [-o FILE] [--format docker-archive|oci-archive] IMAGE…`: images as
//! a tar archive (docker ≥ 25's layout, [`crate::image::archive::save`]) on
//! stdout or in FILE (written to a temp file and renamed: never half a file).
//! `--format oci-archive` (podman's flag) writes a plain OCI image layout.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::context::Context;
use crate::image::archive::{self, ArchiveFormat};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Archive format: docker-archive (docker's, the default) or oci-archive (an OCI image layout)
    #[arg(long, value_name = "FORMAT", default_value = "docker-archive")]
    format: String,
    /// Save only the given platform (accepted; one platform is stored per image)
    #[arg(long)]
    platform: Option<String>,
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let format = match args.format.as_str() {
        "docker-archive" | "docker" => ArchiveFormat::Docker,
        "oci-archive" | "oci" => ArchiveFormat::Oci,
        other => bail!("unsupported format {other:?}: use docker-archive or oci-archive"),
    };
    let _ = args.platform;
    match &args.output {
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            let out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
            let mut out = archive::save(ctx, &args.images, format, out)?;
            out.flush()?;
        }
        Some(path) => write_file(path, |f| {
            let out = std::io::BufWriter::with_capacity(256 * 1024, f);
            let mut out = archive::save(ctx, &args.images, format, out)?;
            out.flush()?;
            Ok(())
        })?,
    }
    Ok(())
}

/// Writes `path` through a temp file next to it, renamed into place on success.
pub(super) fn write_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::fs::File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("invalid output file {}", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("failed to create {}", path.display()))?;
        write(&mut f)?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
