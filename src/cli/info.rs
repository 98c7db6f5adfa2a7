//! `info`, `system info`: docker's text layout, or `--format` over docker's
//! `Info` JSON (with `ClientInfo`, as docker's CLI adds it).

use serde_json::Value;

use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template: 'json', or a Go template
    #[arg(short = 'f', long)]
    format: Option<String>,
}

pub fn exec(ctx: &Context, args: Args, as_docker: bool) -> anyhow::Result<()> {
    let client = super::version::client_json(as_docker, super::globals().debug);
    let server_version = client["Version"].as_str().unwrap_or_default().to_string();
    let mut info = crate::system::info(ctx, &server_version)?;
    // docker shows the Docker Hub user of its config file; berth would have
    // to run credential helpers to know it, which `info` must not do.
    let user = "";
    if let Some(format) = args.format {
        let format = if format == "json" {
            "{{json .}}".to_string()
        } else {
            format
        };
        if let Value::Object(m) = &mut info {
            m.insert("ClientInfo".into(), client);
        }
        print!("{}", super::output::render_template(&format, &info)?);
        println!();
        return Ok(());
    }
    print!("{}", render(&client, &info, user));
    Ok(())
}

/// Go's `fmt.Println` of a JSON scalar.
fn go(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(go).collect())
        .unwrap_or_default()
}

/// docker's `info` text (docker/cli `prettyPrintInfo`): `Client:` and
/// `Server:` sections, the same labels, order and indentation.
pub fn render(client: &Value, info: &Value, user: &str) -> String {
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    let platform = go(&client["Platform"]["Name"]);
    line(if platform.is_empty() {
        "Client:".into()
    } else {
        format!("Client: {platform}")
    });
    let nonempty = |label: &str, v: &Value| {
        let v = go(v);
        (!v.is_empty()).then(|| format!("{label} {v}"))
    };
    if let Some(l) = nonempty(" Version:   ", &client["Version"]) {
        line(l);
    }
    line(format!(" Context:    {}", go(&client["Context"])));
    line(format!(" Debug Mode: {}", go(&client["Debug"])));
    line(String::new());
    line("Server:".into());
    let i = info;
    line(format!(" Containers: {}", go(&i["Containers"])));
    line(format!("  Running: {}", go(&i["ContainersRunning"])));
    line(format!("  Paused: {}", go(&i["ContainersPaused"])));
    line(format!("  Stopped: {}", go(&i["ContainersStopped"])));
    line(format!(" Images: {}", go(&i["Images"])));
    for (label, key) in [
        (" Server Version:", "ServerVersion"),
        (" Storage Driver:", "Driver"),
    ] {
        if let Some(l) = nonempty(label, &i[key]) {
            line(l);
        }
    }
    for pair in i["DriverStatus"].as_array().into_iter().flatten() {
        line(format!("  {}: {}", go(&pair[0]), go(&pair[1])));
    }
    for (label, key) in [
        (" Logging Driver:", "LoggingDriver"),
        (" Cgroup Driver:", "CgroupDriver"),
        (" Cgroup Version:", "CgroupVersion"),
    ] {
        if let Some(l) = nonempty(label, &i[key]) {
            line(l);
        }
    }
    line(" Plugins:".into());
    line(format!(
        "  Volume: {}",
        strings(&i["Plugins"]["Volume"]).join(" ")
    ));
    line(format!(
        "  Network: {}",
        strings(&i["Plugins"]["Network"]).join(" ")
    ));
    let authz = strings(&i["Plugins"]["Authorization"]);
    if !authz.is_empty() {
        line(format!("  Authorization: {}", authz.join(" ")));
    }
    line(format!(
        "  Log: {}",
        strings(&i["Plugins"]["Log"]).join(" ")
    ));
    let cdi = strings(&i["CDISpecDirs"]);
    if !cdi.is_empty() {
        line(" CDI spec directories:".into());
        for d in cdi {
            line(format!("  {d}"));
        }
    }
    line(format!(" Swarm: {}", go(&i["Swarm"]["LocalNodeState"])));
    if let Some(runtimes) = i["Runtimes"].as_object().filter(|m| !m.is_empty()) {
        let names: Vec<&str> = runtimes.keys().map(String::as_str).collect();
        line(format!(" Runtimes: {}", names.join(" ")));
        line(format!(" Default Runtime: {}", go(&i["DefaultRuntime"])));
    }
    if go(&i["OSType"]) == "linux" {
        line(format!(" Init Binary: {}", go(&i["InitBinary"])));
        line(format!(
            " containerd version: {}",
            go(&i["ContainerdCommit"]["ID"])
        ));
        line(format!(" runc version: {}", go(&i["RuncCommit"]["ID"])));
        line(format!(" init version: {}", go(&i["InitCommit"]["ID"])));
        let opts = strings(&i["SecurityOptions"]);
        if !opts.is_empty() {
            line(" Security Options:".into());
            for so in opts {
                let mut name = "";
                let mut profile = None;
                for kv in so.split(',') {
                    match kv.split_once('=') {
                        Some(("name", v)) => name = v,
                        Some(("profile", v)) => profile = Some(v),
                        _ => {}
                    }
                }
                line(format!("  {name}"));
                if let Some(p) = profile {
                    line(format!("   Profile: {p}"));
                }
            }
        }
    }
    for (label, key) in [
        (" Kernel Version:", "KernelVersion"),
        (" Operating System:", "OperatingSystem"),
        (" OSType:", "OSType"),
        (" Architecture:", "Architecture"),
    ] {
        if let Some(l) = nonempty(label, &i[key]) {
            line(l);
        }
    }
    line(format!(" CPUs: {}", go(&i["NCPU"])));
    let mem = i["MemTotal"].as_f64().unwrap_or(0.0);
    line(format!(
        " Total Memory: {}",
        crate::format::units::bytes_size(mem)
    ));
    for (label, key) in [(" Name:", "Name"), (" ID:", "ID")] {
        if let Some(l) = nonempty(label, &i[key]) {
            line(l);
        }
    }
    line(format!(" Docker Root Dir: {}", go(&i["DockerRootDir"])));
    line(format!(" Debug Mode: {}", go(&i["Debug"])));
    for (label, key) in [
        (" HTTP Proxy:", "HttpProxy"),
        (" HTTPS Proxy:", "HttpsProxy"),
        (" No Proxy:", "NoProxy"),
    ] {
        if let Some(l) = nonempty(label, &i[key]) {
            line(l);
        }
    }
    if !user.is_empty() {
        line(format!(" Username: {user}"));
    }
    let labels = strings(&i["Labels"]);
    if !labels.is_empty() {
        line(" Labels:".into());
        for l in labels {
            line(format!("  {l}"));
        }
    }
    line(format!(" Experimental: {}", go(&i["ExperimentalBuild"])));
    let reg = &i["RegistryConfig"];
    let cidrs = reg["InsecureRegistryCIDRs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let index = reg["IndexConfigs"].as_object().cloned().unwrap_or_default();
    if !cidrs.is_empty() || !index.is_empty() {
        line(" Insecure Registries:".into());
        for c in index.values() {
            if c["Secure"] == Value::Bool(false) {
                line(format!("  {}", go(&c["Name"])));
            }
        }
        for c in &cidrs {
            line(format!("  {}", cidr_text(c)));
        }
    }
    let mirrors = strings(&reg["Mirrors"]);
    if !mirrors.is_empty() {
        line(" Registry Mirrors:".into());
        for m in mirrors {
            line(format!("  {m}"));
        }
    }
    line(format!(
        " Live Restore Enabled: {}",
        go(&i["LiveRestoreEnabled"])
    ));
    line(String::new());
    o
}

/// `{"IP": "127.0.0.0", "Mask": "/wAAAA=="}` → `127.0.0.0/8` (Go's
/// `net.IPNet` JSON: the mask base64-encoded).
fn cidr_text(c: &Value) -> String {
    use base64::Engine as _;
    let ip = go(&c["IP"]);
    let bits: u32 = base64::engine::general_purpose::STANDARD
        .decode(go(&c["Mask"]))
        .map(|m| m.iter().map(|b| b.count_ones()).sum())
        .unwrap_or(0);
    format!("{ip}/{bits}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn info_text_has_dockers_shape() {
        let client = json!({"Platform": {"Name": "berth"}, "Version": "28.2.2", "Context": "default", "Debug": false});
        let mut info = json!({
            "ID": "0c7d8f2e-5a1b-4c3d-9e8f-0123456789ab",
            "Containers": 3, "ContainersRunning": 1, "ContainersPaused": 0, "ContainersStopped": 2,
            "Images": 4,
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"], ["Using metacopy", "false"], ["Native Overlay Diff", "true"], ["userxattr", "true"]],
            "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"], "Authorization": null, "Log": ["json-file"]},
            "Debug": false, "LoggingDriver": "json-file", "CgroupDriver": "none", "CgroupVersion": "1",
            "KernelVersion": "6.1.0-18-amd64", "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
            "OSType": "linux", "Architecture": "x86_64",
            "RegistryConfig": {"InsecureRegistryCIDRs": [{"IP": "::1", "Mask": "/////////////////////w=="}, {"IP": "127.0.0.0", "Mask": "/wAAAA=="}],
                "IndexConfigs": {"registry.lan:5000": {"Name": "registry.lan:5000", "Secure": false}, "docker.io": {"Name": "docker.io", "Secure": true}},
                "Mirrors": ["https://mirror.lan:5000/"]},
            "NCPU": 2, "MemTotal": 8_346_173_440u64,
            "DockerRootDir": "/home/user/.local/share/berth",
            "Name": "host", "Labels": [], "ExperimentalBuild": false, "ServerVersion": "28.2.2",
            "Runtimes": {"berth": {"path": "/usr/bin/berth"}}, "DefaultRuntime": "berth",
            "Swarm": {"LocalNodeState": "inactive"}, "LiveRestoreEnabled": false,
            "InitBinary": "", "ContainerdCommit": {"ID": ""}, "RuncCommit": {"ID": ""}, "InitCommit": {"ID": ""},
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless"], "CDISpecDirs": []
        });
        insta::assert_snapshot!("info_text_rootless", render(&client, &info, ""));
        info["Driver"] = json!("vfs");
        info["DriverStatus"] = json!([]);
        info["SecurityOptions"] = json!(["name=seccomp,profile=builtin"]);
        info["CgroupDriver"] = json!("cgroupfs");
        info["RegistryConfig"]["Mirrors"] = json!([]);
        insta::assert_snapshot!(
            "info_text_root_vfs_with_user",
            render(&client, &info, "alice")
        );
    }

    #[test]
    fn masks_print_as_prefix_lengths() {
        assert_eq!(
            cidr_text(&json!({"IP": "127.0.0.0", "Mask": "/wAAAA=="})),
            "127.0.0.0/8"
        );
        assert_eq!(
            cidr_text(&json!({"IP": "::1", "Mask": "/////////////////////w=="})),
            "::1/128"
        );
    }
}
