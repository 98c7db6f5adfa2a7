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

/// docker's `version` object for the client side (`Client` of `version`).
pub fn client_version_json(as_docker: bool) -> serde_json::Value {
    let arch = crate::image::registry::Platform::host().architecture;
    json!({
        "Platform": {"Name": "berth"},
        "Version": shown_version(as_docker),
        "ApiVersion": API_VERSION,
        "DefaultAPIVersion": API_VERSION,
        "GitCommit": format!("berth-{VERSION}"),
        "GoVersion": "n/a",
        "Os": "linux",
        "Arch": arch,
        "BuildTime": "",
        "Context": "default",
    })
}

/// docker's `ClientInfo` of `info`: `Debug`, the client version fields, `Plugins`, `Warnings`.
pub fn client_json(as_docker: bool, debug: bool) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("Debug".into(), json!(debug));
    if let serde_json::Value::Object(v) = client_version_json(as_docker) {
        m.extend(v);
    }
    m.insert("Plugins".into(), json!([]));
    m.insert("Warnings".into(), json!(null));
    serde_json::Value::Object(m)
}

/// The version berth reports: docker's release when invoked as `docker`.
fn shown_version(as_docker: bool) -> &'static str {
    if as_docker {
        DOCKER_COMPAT_VERSION
    } else {
        VERSION
    }
}

const API_VERSION: &str = "1.50";

pub fn exec(args: Args, as_docker: bool) -> anyhow::Result<()> {
    let arch = crate::image::registry::Platform::host().architecture;
    let version = shown_version(as_docker);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let data = json!({
        "Client": client_version_json(as_docker),
        "Server": {
            "Platform": {"Name": "berth (daemonless)"},
            "Components": [{"Name": "Engine", "Version": version, "Details": {
                "ApiVersion": API_VERSION,
                "Arch": arch,
                "BuildTime": "",
                "Experimental": "false",
                "GitCommit": format!("berth-{VERSION}"),
                "GoVersion": "n/a",
                "KernelVersion": kernel,
                "MinAPIVersion": "1.24",
                "Os": "linux",
            }}],
            "Version": version,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": "1.24",
            "GitCommit": format!("berth-{VERSION}"),
            "GoVersion": "n/a",
            "Os": "linux",
            "Arch": arch,
            "KernelVersion": kernel,
            "BuildTime": "",
        }
    });
    if let Some(format) = args.format {
        let format = if format == "json" {
            "{{json .}}".to_string()
        } else {
            format
        };
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
