//! `version`, `--version`.

use serde_json::json;

use super::DOCKER_COMPAT_VERSION;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a Go template
    #[arg(short = 'f', long)]
    format: Option<String>,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `berth version X`, or docker's prefix when installed as `docker` (tools sniff it).
pub fn short_line(as_docker: bool) -> String {
    if as_docker {
        format!("Docker version {DOCKER_COMPAT_VERSION}, build berth-{VERSION}")
    } else {
        format!("berth version {VERSION}")
    }
}

pub fn exec(args: Args, as_docker: bool) -> anyhow::Result<()> {
    let arch = crate::image::registry::Platform::host().architecture;
    let version = if as_docker {
        DOCKER_COMPAT_VERSION
    } else {
        VERSION
    };
    let data = json!({
        "Client": {
            "Platform": {"Name": "berth"},
            "Version": version,
            "ApiVersion": "1.50",
            "DefaultAPIVersion": "1.50",
            "GitCommit": format!("berth-{VERSION}"),
            "GoVersion": "n/a",
            "Os": "linux",
            "Arch": arch,
            "BuildTime": "",
            "Context": "default",
        },
        "Server": {
            "Platform": {"Name": "berth (daemonless)"},
            "Version": version,
            "ApiVersion": "1.50",
            "MinAPIVersion": "1.24",
            "Os": "linux",
            "Arch": arch,
            "Components": [{"Name": "berth", "Version": VERSION, "Details": {}}],
        }
    });
    if let Some(format) = args.format {
        print!("{}", super::output::render_template(&format, &data)?);
        println!();
        return Ok(());
    }
    println!("Client:");
    println!(" Version:           {version}");
    println!(" API version:       1.50");
    println!(" Git commit:        berth-{VERSION}");
    println!(" OS/Arch:           linux/{arch}");
    println!(" Context:           default");
    println!();
    println!("Server: berth (daemonless)");
    println!(" Engine:");
    println!("  Version:          {version}");
    println!("  API version:      1.50 (minimum version 1.24)");
    println!("  OS/Arch:          linux/{arch}");
    Ok(())
}
