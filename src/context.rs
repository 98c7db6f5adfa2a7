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
        })
    }

    /// The image store, created on first use.
    pub fn store(&self) -> Result<&Store, StoreError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let s = Store::open(&self.paths.storage())?;
        Ok(self.store.get_or_init(|| s))
    }

    /// The id mapping for rootless helpers (None as root).
    pub fn id_mapping(&self) -> Result<Option<&IdMapping>, UsernsError> {
        if !self.paths.rootless {
            return Ok(None);
        }
        if let Some(m) = self.mapping.get() {
            return Ok(Some(m));
        }
        let m = IdMapping::for_caller(&self.paths)?;
        Ok(Some(self.mapping.get_or_init(|| m)))
    }
}
