//! TEMPORARY stand-in; replaced by the refauth branch.
use std::path::PathBuf;
pub struct Credentials { pub username: String, pub password: String }
#[derive(Debug, thiserror::Error)]
#[error("auth")]
pub struct AuthError;
pub struct AuthStore { #[allow(dead_code)] file: PathBuf }
impl AuthStore {
    pub fn new(file: PathBuf) -> AuthStore { AuthStore { file } }
    pub fn lookup(&self, _registry: &str) -> Result<Option<Credentials>, AuthError> { Ok(None) }
    pub fn store(&self, _registry: &str, _c: &Credentials) -> Result<(), AuthError> { Ok(()) }
    pub fn remove(&self, _registry: &str) -> Result<bool, AuthError> { Ok(false) }
}
