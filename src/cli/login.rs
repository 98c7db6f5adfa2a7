//! `login [-u USER] [-p PASS | --password-stdin] [SERVER]`

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context as _, bail};

use crate::context::Context;
use crate::image::auth::Credentials;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Username
    #[arg(short, long)]
    username: Option<String>,
    /// Password
    #[arg(short, long)]
    password: Option<String>,
    /// Take the password from stdin
    #[arg(long = "password-stdin")]
    password_stdin: bool,
    /// Registry server (default: Docker Hub)
    server: Option<String>,
}

/// `https://host:5000/v2/` → `host:5000`; none or Docker Hub's URLs → `docker.io`.
pub fn registry_of(server: Option<&str>) -> String {
    let Some(server) = server else {
        return "docker.io".into();
    };
    let host = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" | "" => "docker.io".into(),
        h => h.to_string(),
    }
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let registry = registry_of(args.server.as_deref());
    if args.password.is_some() && args.password_stdin {
        bail!("--password and --password-stdin are mutually exclusive");
    }
    if args.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let interactive = std::io::stdin().is_terminal();
    let username = match args.username {
        Some(u) => u,
        None if interactive && !args.password_stdin => prompt("Username: ")?,
        None if args.password_stdin => bail!("Must provide --username with --password-stdin"),
        None => bail!("Cannot perform an interactive login from a non TTY device"),
    };
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else if let Some(p) = args.password {
        p
    } else if interactive {
        prompt_hidden("Password: ")?
    } else {
        bail!("Cannot perform an interactive login from a non TTY device");
    };
    if username.is_empty() {
        bail!("Username is required");
    }
    if password.is_empty() {
        bail!("Password is required");
    }
    super::runtime()?.block_on(crate::image::registry::verify_login(
        &ctx.config,
        &registry,
        &username,
        &password,
    ))?;
    ctx.auth
        .store(&registry, &Credentials { username, password })
        .context("saving credentials")?;
    println!("Login Succeeded");
    Ok(())
}

fn prompt(label: &str) -> anyhow::Result<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn prompt_hidden(label: &str) -> anyhow::Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet)?;
    let result = prompt(label);
    tcsetattr(&stdin, SetArg::TCSANOW, &saved)?;
    eprintln!();
    result
}

#[cfg(test)]
mod tests {
    use super::registry_of;

    #[test]
    fn server_names_normalise() {
        assert_eq!(registry_of(None), "docker.io");
        assert_eq!(
            registry_of(Some("https://index.docker.io/v1/")),
            "docker.io"
        );
        assert_eq!(registry_of(Some("localhost:5000")), "localhost:5000");
        assert_eq!(
            registry_of(Some("http://127.0.0.1:5000/v2/")),
            "127.0.0.1:5000"
        );
    }
}
