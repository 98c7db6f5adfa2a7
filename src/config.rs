//! `config.toml`: registry settings and defaults.
//!
//! ```toml
//! [registries]
//! insecure = ["registry.lan:5000"]          # plain HTTP (localhost and 127.0.0.0/8 always are)
//! [registries.mirrors]
//! "docker.io" = ["mirror.lan:5000"]         # tried in order before the registry itself
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub registries: RegistriesConfig,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistriesConfig {
    /// Registries (`host[:port]`) spoken to over plain HTTP.
    #[serde(default)]
    pub insecure: Vec<String>,
    /// Registry (`docker.io`, `host:port`) → mirrors tried first, in order.
    #[serde(default)]
    pub mirrors: BTreeMap<String, Vec<String>>,
}

impl Config {
    /// Reads the file; a missing file is the default configuration.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Whether `registry` (`host[:port]`) is spoken to over plain HTTP.
    pub fn is_insecure(&self, registry: &str) -> bool {
        is_loopback_registry(registry) || self.registries.insecure.iter().any(|r| r == registry)
    }

    pub fn mirrors_for(&self, registry: &str) -> &[String] {
        self.registries
            .mirrors
            .get(registry)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// `localhost[:port]`, `127.0.0.0/8[:port]` and `[::1][:port]` are plain HTTP by default, as in docker.
pub fn is_loopback_registry(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    if host == "localhost" {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_insecure_by_default() {
        let c = Config::default();
        for r in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(c.is_insecure(r), "{r}");
        }
        for r in [
            "docker.io",
            "quay.io",
            "10.0.0.1:5000",
            "localhost.example:5000",
        ] {
            assert!(!c.is_insecure(r), "{r}");
        }
    }

    #[test]
    fn parses_insecure_and_mirrors() {
        let c = Config::parse(
            "[registries]\ninsecure = [\"reg.lan:5000\"]\n[registries.mirrors]\n\"docker.io\" = [\"m1:5000\", \"m2\"]\n",
        )
        .unwrap();
        assert!(c.is_insecure("reg.lan:5000"));
        assert_eq!(c.mirrors_for("docker.io"), ["m1:5000", "m2"]);
        assert!(c.mirrors_for("quay.io").is_empty());
    }

    #[test]
    fn unknown_keys_are_errors_naming_them() {
        let err = Config::parse("[registries]\ninsecur = []\n").unwrap_err();
        assert!(err.contains("insecur"), "{err}");
    }
}
