//! What every command needs: where things are, the configuration, credentials,
//! and the image store. Built once per invocation.

use std::sync::OnceLock;

use crate::config::{Config, ConfigError};
use crate::image::auth::AuthStore;
use crate::image::store::{Store, StoreError};
use crate::paths::{Paths, PathsError};
use crate::userns::{IdMapping, UsernsError};

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Paths(#[from] PathsError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

pub struct Context {
    pub paths: Paths,
    pub config: Config,
    pub auth: AuthStore,
    store: OnceLock<Store>,
    mapping: OnceLock<IdMapping>,
    /// `run` re-executed after a pull (`BERTH_RUN_PULLED`, see cli::run):
    /// the first process already printed the id-mapping warning.
    mapping_warned: bool,
}

impl Context {
    pub fn new() -> Result<Context, ContextError> {
        let paths = Paths::detect()?;
        let config = Config::load(&paths.config_file())?;
        let auth = AuthStore::new(paths.auth_file());
        Ok(Context {
            paths,
            config,
            auth,
            store: OnceLock::new(),
            mapping: OnceLock::new(),
            mapping_warned: std::env::var_os("BERTH_RUN_PULLED").is_some(),
        })
    }

    /// docker's `--config DIR`: `login`/`logout` write `DIR/config.json`,
    /// and lookups read it as docker's file (with its credential helpers).
    pub fn use_client_config_dir(&mut self, dir: &std::path::Path) {
        let env = crate::image::auth::AuthEnv {
            docker_config: Some(dir.to_path_buf()),
            ..crate::image::auth::AuthEnv::from_process()
        };
        self.auth = AuthStore::with_env(dir.join("config.json"), &env);
    }

    /// The image store, created on first use.
    pub fn store(&self) -> Result<&Store, StoreError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let s = Store::open(&self.paths.storage())?;
        Ok(self.store.get_or_init(|| s))
    }

    /// The id mapping for rootless helpers (None as root). Without a
    /// subordinate range in /etc/subuid or /etc/subgid: the single-id
    /// mapping, and a warning on stderr (once per process) naming the fix.
    pub fn id_mapping(&self) -> Result<Option<&IdMapping>, UsernsError> {
        if !self.paths.rootless {
            return Ok(None);
        }
        Ok(Some(self.mapping.get_or_init(|| {
            let (m, warning) = IdMapping::for_caller_or_single(&self.paths);
            if let Some(w) = warning.filter(|_| !self.mapping_warned) {
                eprintln!("WARNING: {w}");
            }
            m
        })))
    }
}
