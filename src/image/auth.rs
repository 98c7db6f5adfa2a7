//! Registry credentials: berth's own file, podman's and docker's files, and
//! docker credential helpers.
//!
//! # Where credentials come from
//!
//! [`AuthStore::lookup`] reads these sources in order and returns the first
//! credentials found:
//!
//! 1. berth's own file (docker `config.json` format, `{"auths":{…}}`; only
//!    `auths` is read). The only file berth writes ([`AuthStore::store`],
//!    [`AuthStore::remove`]): 0600, atomically (temp file + rename), under a
//!    lock file.
//! 2. `$REGISTRY_AUTH_FILE` (containers-auth.json(5) format).
//! 3. podman's `$XDG_RUNTIME_DIR/containers/auth.json` (without
//!    `XDG_RUNTIME_DIR`: `/run/containers/$UID/auth.json`, as
//!    containers/image).
//! 4. podman's `$XDG_CONFIG_HOME/containers/auth.json` (default
//!    `~/.config/containers/auth.json`).
//! 5. docker's `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`)
//!    with its `auths`, `credHelpers` and `credsStore`.
//!
//! # Keys
//!
//! For `docker.io` the keys `https://index.docker.io/v1/`,
//! `index.docker.io`, `docker.io` and `registry-1.docker.io` (with or without
//! a scheme or path) all match; other registries match keys whose host part
//! (after stripping `http://`/`https://` and any path) is the registry
//! (`host[:port]`, compared case-insensitively). An exact key
//! (`https://index.docker.io/v1/` for Docker Hub, the bare `host[:port]`
//! otherwise, which is also how [`AuthStore::store`] writes them) wins over
//! other spellings; otherwise the first in file order wins.
//!
//! In podman's files (sources 2–4), a key without a scheme but with a path
//! (`quay.io/org`, `quay.io/org/repo`) is scoped to that namespace, as
//! containers-auth.json(5) says: it is used by [`AuthStore::lookup_for`]
//! for repositories inside it (most specific first) and never by a
//! registry-wide [`AuthStore::lookup`]. In docker's and berth's files such a
//! key is reduced to its host, as docker does.
//!
//! # Entries
//!
//! `auth` (base64 of `user:password`, split at the first `:`, trailing NULs
//! trimmed from the password; an empty user is an error, as docker) wins over
//! `username`/`password`; a non-empty `identitytoken` wins over both and is
//! returned as [`Credentials::from_identity_token`] (docker's `<token>`
//! username convention). Entries with none of these (`{}`, which docker
//! writes next to a `credsStore`) are not credentials.
//!
//! # Credential helpers
//!
//! In docker's file, `credHelpers[registry]` and otherwise `credsStore` name
//! a helper; in podman's files only `credHelpers` is honoured. A configured
//! helper is authoritative for its file, as in docker: the file's `auths`
//! entry for that registry is not used. berth runs
//! `docker-credential-<name> get` (searched in the `PATH` given to the
//! store), writes the server URL on stdin (`https://index.docker.io/v1/` for
//! Docker Hub in docker's file, the registry otherwise) and reads
//! `{"ServerURL","Username","Secret"}`. Output containing `credentials not
//! found` means none. A missing helper binary is an error naming it, but only
//! when that helper is configured for the registry being looked up.
//!
//! # Errors
//!
//! A malformed file is an [`AuthError`] naming the file, never a panic.
//! Errors from files berth does not own (podman's, docker's,
//! `$REGISTRY_AUTH_FILE`) and from helpers are [`AuthError::is_external`]:
//! a caller pulling something that may not need credentials should warn and
//! carry on anonymously (docker warns too). [`AuthStore::lookup`] keeps
//! looking past such an error, returns credentials if a later source has
//! them, and otherwise returns the first error. An error in berth's own
//! file stops the lookup at once.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::image::reference::Reference;

/// The key docker stores Docker Hub credentials under, and the server URL it
/// gives credential helpers for Docker Hub.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// The username that marks an identity token (credential helper convention).
pub const IDENTITY_TOKEN_USERNAME: &str = "<token>";
/// How long a credential helper may take before it is killed.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A username and password, or an identity token (username
/// [`IDENTITY_TOKEN_USERNAME`], the token as password), as docker's helpers
/// carry it. `Debug` does not show the secret.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// An OAuth2 identity (refresh) token, as docker's `identitytoken`.
    pub fn from_identity_token(token: impl Into<String>) -> Credentials {
        Credentials::new(IDENTITY_TOKEN_USERNAME, token)
    }

    /// The identity token, when these credentials are one.
    pub fn identity_token(&self) -> Option<&str> {
        (self.username == IDENTITY_TOKEN_USERNAME).then_some(self.password.as_str())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

/// Which of the sources a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// berth's own file: the only one written.
    Berth,
    /// `$REGISTRY_AUTH_FILE`.
    RegistryAuthFile,
    /// `$XDG_RUNTIME_DIR/containers/auth.json`.
    PodmanRuntime,
    /// `$XDG_CONFIG_HOME/containers/auth.json`.
    PodmanConfig,
    /// `$DOCKER_CONFIG/config.json`.
    Docker,
}

impl SourceKind {
    fn is_podman_format(self) -> bool {
        matches!(
            self,
            SourceKind::RegistryAuthFile | SourceKind::PodmanRuntime | SourceKind::PodmanConfig
        )
    }
}

/// One file credentials are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSource {
    pub kind: SourceKind,
    pub path: PathBuf,
}

/// The environment the store reads its paths from. [`AuthEnv::from_process`]
/// takes it from the process; tests build it by hand. Empty values count as
/// unset.
#[derive(Debug, Clone, Default)]
pub struct AuthEnv {
    pub home: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub docker_config: Option<PathBuf>,
    pub registry_auth_file: Option<PathBuf>,
    /// `PATH` for finding `docker-credential-*` (default
    /// `/usr/local/bin:/usr/bin:/bin`); also passed to the helper.
    pub path: Option<OsString>,
    /// For `/run/containers/$UID/auth.json` when `XDG_RUNTIME_DIR` is unset.
    pub uid: u32,
}

impl AuthEnv {
    /// `HOME` (or the passwd entry), `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`,
    /// `DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`, `PATH` and the real uid.
    pub fn from_process() -> AuthEnv {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let uid = nix::unistd::getuid();
        let home = var("HOME").map(PathBuf::from).or_else(|| {
            nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.dir)
                .filter(|d| !d.as_os_str().is_empty())
        });
        AuthEnv {
            home,
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            registry_auth_file: var("REGISTRY_AUTH_FILE").map(PathBuf::from),
            path: var("PATH"),
            uid: uid.as_raw(),
        }
    }
}

/// What went wrong reading or writing credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A credentials file exists but cannot be read.
    #[error("cannot read credentials file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
        external: bool,
    },
    /// A credentials file is not valid JSON of the expected shape, or an
    /// entry needed for this lookup cannot be decoded.
    #[error("invalid credentials file {}: {reason}", path.display())]
    Malformed {
        path: PathBuf,
        reason: String,
        external: bool,
    },
    /// Writing berth's own file failed.
    #[error("cannot write credentials file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The helper configured for this registry is not installed.
    #[error(
        "credential helper docker-credential-{helper} (configured for {registry} in {}) not found in PATH",
        config.display()
    )]
    HelperNotFound {
        helper: String,
        registry: String,
        config: PathBuf,
    },
    /// The helper ran and failed (or timed out, or printed nonsense).
    #[error("credential helper docker-credential-{helper} failed for {registry}: {message}")]
    HelperFailed {
        helper: String,
        registry: String,
        message: String,
    },
    /// Credentials that cannot be stored (empty username, `:` in it).
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),
}

impl AuthError {
    /// True for errors from files berth does not own (podman's, docker's,
    /// `$REGISTRY_AUTH_FILE`) and from credential helpers: a pull that may
    /// need no credentials can warn and continue anonymously.
    pub fn is_external(&self) -> bool {
        match self {
            AuthError::Read { external, .. } | AuthError::Malformed { external, .. } => *external,
            AuthError::HelperNotFound { .. } | AuthError::HelperFailed { .. } => true,
            AuthError::Write { .. } | AuthError::InvalidCredentials(_) => false,
        }
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            AuthError::Read { path, .. }
            | AuthError::Malformed { path, .. }
            | AuthError::Write { path, .. } => Some(path),
            AuthError::HelperNotFound { config, .. } => Some(config),
            AuthError::HelperFailed { .. } | AuthError::InvalidCredentials(_) => None,
        }
    }
}

/// Where found credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An `auths` entry.
    File {
        kind: SourceKind,
        path: PathBuf,
        key: String,
    },
    /// A credential helper configured in `config`.
    Helper {
        kind: SourceKind,
        config: PathBuf,
        helper: String,
    },
}

/// Credentials and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub credentials: Credentials,
    pub origin: Origin,
}

/// The full answer of [`AuthStore::lookup_detailed`]: what was found (if
/// anything) and every error met on the way.
#[derive(Debug, Default)]
pub struct Lookup {
    pub found: Option<Found>,
    pub errors: Vec<AuthError>,
}

/// Credentials for registries, from berth's file, podman's and docker's.
#[derive(Debug, Clone)]
pub struct AuthStore {
    berth_file: PathBuf,
    sources: Vec<AuthSource>,
    path_env: Option<OsString>,
    helper_timeout: Duration,
}

impl AuthStore {
    /// A store writing `berth_auth_file`, reading the others from the
    /// process environment (see [`AuthEnv::from_process`]).
    pub fn new(berth_auth_file: PathBuf) -> AuthStore {
        AuthStore::with_env(berth_auth_file, &AuthEnv::from_process())
    }

    /// A store with an explicit environment (tests; callers that resolved
    /// paths themselves).
    pub fn with_env(berth_auth_file: PathBuf, env: &AuthEnv) -> AuthStore {
        let nonempty = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
        let mut candidates = vec![(SourceKind::Berth, Some(berth_auth_file.clone()))];
        candidates.push((
            SourceKind::RegistryAuthFile,
            nonempty(&env.registry_auth_file),
        ));
        let runtime = match nonempty(&env.xdg_runtime_dir) {
            Some(dir) => dir.join("containers/auth.json"),
            None => PathBuf::from(format!("/run/containers/{}/auth.json", env.uid)),
        };
        candidates.push((SourceKind::PodmanRuntime, Some(runtime)));
        let home = nonempty(&env.home);
        let config_home =
            nonempty(&env.xdg_config_home).or_else(|| home.as_ref().map(|h| h.join(".config")));
        candidates.push((
            SourceKind::PodmanConfig,
            config_home.map(|d| d.join("containers/auth.json")),
        ));
        let docker_dir =
            nonempty(&env.docker_config).or_else(|| home.as_ref().map(|h| h.join(".docker")));
        candidates.push((
            SourceKind::Docker,
            docker_dir.map(|d| d.join("config.json")),
        ));

        let mut sources: Vec<AuthSource> = Vec::new();
        for (kind, path) in candidates {
            let Some(path) = path else { continue };
            match sources.iter_mut().find(|s| s.path == path) {
                // berth writes docker's own file (`--config DIR`): read it as
                // docker's, credential helpers included.
                Some(s) if kind == SourceKind::Docker => s.kind = SourceKind::Docker,
                Some(_) => {}
                None => sources.push(AuthSource { kind, path }),
            }
        }
        AuthStore {
            berth_file: berth_auth_file,
            sources,
            path_env: env.path.clone().filter(|p| !p.is_empty()),
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// Change how long a credential helper may run (default 60 s).
    pub fn set_helper_timeout(&mut self, timeout: Duration) {
        self.helper_timeout = timeout;
    }

    /// berth's own file.
    pub fn berth_auth_file(&self) -> &Path {
        &self.berth_file
    }

    /// The files read, in order (duplicates removed).
    pub fn sources(&self) -> &[AuthSource] {
        &self.sources
    }

    /// Credentials for a registry (as in [`Reference::registry`]:
    /// `docker.io`, `localhost:5000`; URL forms are accepted too). See the
    /// module documentation for the order, the key matching and the errors.
    pub fn lookup(&self, registry: &str) -> Result<Option<Credentials>, AuthError> {
        self.lookup_strict(registry, None)
    }

    /// Like [`AuthStore::lookup`], for a reference: also uses podman's
    /// namespace-scoped keys (`quay.io/org`) that contain its repository.
    pub fn lookup_for(&self, reference: &Reference) -> Result<Option<Credentials>, AuthError> {
        self.lookup_strict(&reference.registry, Some(&reference.repository))
    }

    /// Every source is tried until credentials are found; all errors met
    /// are returned along with what was found, for callers that want to
    /// show warnings or say where credentials came from.
    pub fn lookup_detailed(&self, registry: &str, repository: Option<&str>) -> Lookup {
        let mut out = Lookup::default();
        for source in &self.sources {
            match self.lookup_in(source, registry, repository) {
                Ok(Some(found)) => {
                    out.found = Some(found);
                    break;
                }
                Ok(None) => {}
                Err(e) => out.errors.push(e),
            }
        }
        out
    }

    fn lookup_strict(
        &self,
        registry: &str,
        repository: Option<&str>,
    ) -> Result<Option<Credentials>, AuthError> {
        let mut first_external: Option<AuthError> = None;
        for source in &self.sources {
            match self.lookup_in(source, registry, repository) {
                Ok(Some(found)) => return Ok(Some(found.credentials)),
                Ok(None) => {}
                Err(e) if e.is_external() => {
                    first_external.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        match first_external {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Store credentials for `registry` in berth's file: Docker Hub under
    /// `https://index.docker.io/v1/`, others under the bare `host[:port]`.
    /// Other spellings of the same registry's key are removed.
    pub fn store(&self, registry: &str, c: &Credentials) -> Result<(), AuthError> {
        let entry = if let Some(token) = c.identity_token() {
            let mut m = Map::new();
            m.insert("identitytoken".into(), Value::String(token.to_string()));
            m
        } else {
            if c.username.is_empty() {
                return Err(AuthError::InvalidCredentials("empty username".into()));
            }
            if c.username.contains(':') {
                return Err(AuthError::InvalidCredentials(
                    "username contains ':'".into(),
                ));
            }
            let raw = format!("{}:{}", c.username, c.password);
            let mut m = Map::new();
            m.insert(
                "auth".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(raw)),
            );
            m
        };
        let target = RegistryKey::new(registry);
        self.update_own(|auths| {
            auths.retain(|k, _| !target.matches_host_key(k));
            auths.insert(target.storage_key(), Value::Object(entry));
            true
        })
        .map(|_| ())
    }

    /// Remove every entry for `registry` from berth's file. True if
    /// something was removed. Other files are never touched.
    pub fn remove(&self, registry: &str) -> Result<bool, AuthError> {
        if !self.berth_file.exists() {
            return Ok(false);
        }
        let target = RegistryKey::new(registry);
        self.update_own(|auths| {
            let before = auths.len();
            auths.retain(|k, _| !target.matches_host_key(k));
            auths.len() != before
        })
    }

    /// Read-modify-write of berth's `auths` under the lock; `f` returns
    /// whether it changed anything (nothing is written otherwise).
    fn update_own(
        &self,
        f: impl FnOnce(&mut Map<String, Value>) -> bool,
    ) -> Result<bool, AuthError> {
        let path = &self.berth_file;
        let dir = parent_dir(path);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| AuthError::Write {
                path: path.clone(),
                source,
            })?;
        let lock_path = dir.join(format!(".{}.lock", file_name(path)));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|source| AuthError::Write {
                path: lock_path.clone(),
                source,
            })?;
        lock.lock().map_err(|source| AuthError::Write {
            path: lock_path.clone(),
            source,
        })?;

        let mut root = match read_optional(path, false)? {
            None => Map::new(),
            Some(text) if text.trim().is_empty() => Map::new(),
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(malformed(path, "not a JSON object", false)),
                Err(e) => return Err(malformed(path, e, false)),
            },
        };
        let auths = root
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(auths) = auths else {
            return Err(malformed(path, "\"auths\" is not an object", false));
        };
        if !f(auths) {
            return Ok(false);
        }
        let mut text = serde_json::to_string_pretty(&Value::Object(root))
            .map_err(|e| malformed(path, e, false))?;
        text.push('\n');
        write_atomic(path, text.as_bytes())?;
        drop(lock);
        Ok(true)
    }

    fn lookup_in(
        &self,
        source: &AuthSource,
        registry: &str,
        repository: Option<&str>,
    ) -> Result<Option<Found>, AuthError> {
        let external = source.kind != SourceKind::Berth;
        let Some(text) = read_optional(&source.path, external)? else {
            return Ok(None);
        };
        let file = ConfigFile::parse(&text, &source.path, source.kind)?;
        let target = RegistryKey::new(registry);

        if source.kind != SourceKind::Berth {
            let helper = file
                .cred_helpers
                .iter()
                .filter(|(k, _)| target.matches_host_key(k))
                .min_by_key(|(k, _)| !target.is_storage_key(k))
                .map(|(_, h)| h.clone())
                .or_else(|| {
                    (source.kind == SourceKind::Docker)
                        .then(|| file.creds_store.clone())
                        .flatten()
                });
            if let Some(helper) = helper {
                let server_url = if source.kind == SourceKind::Docker && target.is_docker_hub() {
                    DOCKER_HUB_AUTH_KEY.to_string()
                } else {
                    target.display.clone()
                };
                let creds = self.run_helper(&helper, &server_url, registry, &source.path)?;
                return Ok(creds.map(|credentials| Found {
                    credentials,
                    origin: Origin::Helper {
                        kind: source.kind,
                        config: source.path.clone(),
                        helper,
                    },
                }));
            }
        }

        // The best matching key: namespace-scoped ones (most specific
        // first), then the exact storage key, then other spellings in file
        // order.
        let mut best: Option<(KeyRank, &String, &Value)> = None;
        for (key, value) in &file.auths {
            let rank = if source.kind.is_podman_format() {
                target.match_podman_key(key, repository)
            } else {
                target.match_docker_key(key)
            };
            if let Some(rank) = rank
                && best.as_ref().is_none_or(|(r, _, _)| rank < *r)
            {
                best = Some((rank, key, value));
            }
        }
        let Some((_, key, value)) = best else {
            return Ok(None);
        };
        let creds = decode_entry(value).map_err(|reason| {
            malformed(&source.path, format!("entry {key:?}: {reason}"), external)
        })?;
        Ok(creds.map(|credentials| Found {
            credentials,
            origin: Origin::File {
                kind: source.kind,
                path: source.path.clone(),
                key: key.clone(),
            },
        }))
    }

    fn run_helper(
        &self,
        helper: &str,
        server_url: &str,
        registry: &str,
        config: &Path,
    ) -> Result<Option<Credentials>, AuthError> {
        let failed = |message: String| AuthError::HelperFailed {
            helper: helper.to_string(),
            registry: registry.to_string(),
            message,
        };
        if helper.is_empty() || helper.contains(['/', '\0']) {
            return Err(failed("invalid helper name".into()));
        }
        let program = format!("docker-credential-{helper}");
        let path_env = self.path_env.as_deref().unwrap_or(OsStr::new(DEFAULT_PATH));
        let not_found = || AuthError::HelperNotFound {
            helper: helper.to_string(),
            registry: registry.to_string(),
            config: config.to_path_buf(),
        };
        let exe = find_in_path(&program, path_env).ok_or_else(not_found)?;
        let out = run_with_timeout(
            Command::new(&exe).arg("get").env("PATH", path_env),
            server_url.as_bytes(),
            self.helper_timeout,
        )
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => not_found(),
            _ => failed(e.to_string()),
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let msg = if stdout.trim().is_empty() {
                stderr.trim()
            } else {
                stdout.trim()
            };
            if msg.to_ascii_lowercase().contains("credentials not found") {
                return Ok(None);
            }
            let msg = if msg.is_empty() {
                out.status.to_string()
            } else {
                msg.to_string()
            };
            return Err(failed(msg));
        }
        #[derive(serde::Deserialize)]
        struct HelperCreds {
            #[serde(rename = "Username", default)]
            username: Option<String>,
            #[serde(rename = "Secret", default)]
            secret: Option<String>,
        }
        let creds: HelperCreds = serde_json::from_str(stdout.trim())
            .map_err(|e| failed(format!("invalid output ({e})")))?;
        let username = creds.username.unwrap_or_default();
        let secret = creds.secret.unwrap_or_default();
        if username.is_empty() && secret.is_empty() {
            return Ok(None);
        }
        if username == IDENTITY_TOKEN_USERNAME {
            return Ok(Some(Credentials::from_identity_token(secret)));
        }
        Ok(Some(Credentials::new(username, secret)))
    }
}

/// The registry being looked up, normalised for key comparisons.
struct RegistryKey {
    /// As given, scheme and path stripped (what helpers and storage see).
    display: String,
    /// Lowercased, Docker Hub aliases folded to `docker.io`.
    canonical: String,
}

impl RegistryKey {
    fn new(registry: &str) -> RegistryKey {
        let display = key_host(registry).to_string();
        let canonical = canonical_host(&display);
        RegistryKey { display, canonical }
    }

    fn is_docker_hub(&self) -> bool {
        self.canonical == "docker.io"
    }

    /// The key [`AuthStore::store`] writes.
    fn storage_key(&self) -> String {
        if self.is_docker_hub() {
            DOCKER_HUB_AUTH_KEY.to_string()
        } else {
            self.display.clone()
        }
    }

    fn is_storage_key(&self, key: &str) -> bool {
        if self.is_docker_hub() {
            key == DOCKER_HUB_AUTH_KEY
        } else {
            key.eq_ignore_ascii_case(&self.display)
        }
    }

    /// docker's rule: the key's host part (scheme and path stripped).
    fn matches_host_key(&self, key: &str) -> bool {
        canonical_host(key_host(key)) == self.canonical
    }

    /// docker's rule, as a rank when the key applies.
    fn match_docker_key(&self, key: &str) -> Option<KeyRank> {
        if !self.matches_host_key(key) {
            return None;
        }
        Some(if self.is_storage_key(key) {
            KeyRank::Exact
        } else {
            KeyRank::Alias
        })
    }

    /// containers-auth.json(5)'s rule, as a rank when the key applies: a
    /// schemeless key with a path is a namespace and needs a repository
    /// inside it.
    fn match_podman_key(&self, key: &str, repository: Option<&str>) -> Option<KeyRank> {
        let has_scheme = key.starts_with("http://") || key.starts_with("https://");
        let (host, namespace) = match key.split_once('/') {
            Some((h, ns)) if !has_scheme => (h, ns.trim_end_matches('/')),
            _ => (key_host(key), ""),
        };
        if canonical_host(host) != self.canonical {
            return None;
        }
        if namespace.is_empty() {
            // podman writes Docker Hub as "docker.io"
            return Some(if self.is_storage_key(key) || key == self.canonical {
                KeyRank::Exact
            } else {
                KeyRank::Alias
            });
        }
        let repo = repository?;
        let inside = repo == namespace
            || repo
                .strip_prefix(namespace)
                .is_some_and(|rest| rest.starts_with('/'));
        inside.then_some(KeyRank::Namespace(std::cmp::Reverse(namespace.len())))
    }
}

/// How well an `auths` key matches (smaller is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum KeyRank {
    /// A podman namespace key containing the repository; longer first.
    Namespace(std::cmp::Reverse<usize>),
    /// The key as berth/docker (or podman) writes it.
    Exact,
    /// Another spelling of the same host.
    Alias,
}

/// docker's `ConvertToHostname`: strip `http://`/`https://` and any path.
fn key_host(key: &str) -> &str {
    let s = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    s.split('/').next().unwrap_or(s)
}

fn canonical_host(host: &str) -> String {
    let h = host.to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        _ => h,
    }
}

/// The parts of a config/auth file berth reads.
struct ConfigFile {
    auths: Map<String, Value>,
    cred_helpers: Vec<(String, String)>,
    creds_store: Option<String>,
}

impl ConfigFile {
    fn parse(text: &str, path: &Path, kind: SourceKind) -> Result<ConfigFile, AuthError> {
        let external = kind != SourceKind::Berth;
        let mut file = ConfigFile {
            auths: Map::new(),
            cred_helpers: Vec::new(),
            creds_store: None,
        };
        if text.trim().is_empty() {
            return Ok(file);
        }
        let root = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(malformed(path, "not a JSON object", external)),
            Err(e) => return Err(malformed(path, e, external)),
        };
        match root.get("auths") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => file.auths = m.clone(),
            Some(_) => return Err(malformed(path, "\"auths\" is not an object", external)),
        }
        if kind == SourceKind::Berth {
            return Ok(file);
        }
        match root.get("credHelpers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    match v {
                        Value::String(h) if !h.is_empty() => {
                            file.cred_helpers.push((k.clone(), h.clone()))
                        }
                        Value::String(_) | Value::Null => {}
                        _ => {
                            return Err(malformed(
                                path,
                                format!("credHelpers {k:?} is not a string"),
                                external,
                            ));
                        }
                    }
                }
            }
            Some(_) => {
                return Err(malformed(
                    path,
                    "\"credHelpers\" is not an object",
                    external,
                ));
            }
        }
        if kind == SourceKind::Docker {
            match root.get("credsStore") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => {
                    file.creds_store = Some(s.clone()).filter(|s| !s.is_empty())
                }
                Some(_) => return Err(malformed(path, "\"credsStore\" is not a string", external)),
            }
        }
        Ok(file)
    }
}

/// One `auths` entry → credentials (None for an empty placeholder entry).
fn decode_entry(value: &Value) -> Result<Option<Credentials>, String> {
    let Value::Object(m) = value else {
        return Err("not an object".into());
    };
    let field = |name: &str| -> Result<&str, String> {
        match m.get(name) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(format!("\"{name}\" is not a string")),
        }
    };
    let token = field("identitytoken")?;
    let auth = field("auth")?;
    let username = field("username")?;
    let password = field("password")?;
    if !token.is_empty() {
        return Ok(Some(Credentials::from_identity_token(token)));
    }
    if !auth.is_empty() {
        let decoded = decode_base64(auth).ok_or("\"auth\" is not valid base64")?;
        let decoded = String::from_utf8(decoded).map_err(|_| "\"auth\" is not UTF-8")?;
        let (user, pass) = decoded
            .split_once(':')
            .ok_or("\"auth\" is not base64 of user:password")?;
        if user.is_empty() {
            return Err("\"auth\" has an empty username".into());
        }
        return Ok(Some(Credentials::new(user, pass.trim_end_matches('\0'))));
    }
    if username.is_empty() && password.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials::new(username, password)))
}

/// Standard base64, padded or not (docker writes padded; some tools don't).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let s = s.trim();
    STANDARD
        .decode(s)
        .ok()
        .or_else(|| STANDARD_NO_PAD.decode(s.trim_end_matches('=')).ok())
}

fn malformed(path: &Path, reason: impl fmt::Display, external: bool) -> AuthError {
    AuthError::Malformed {
        path: path.to_path_buf(),
        reason: reason.to_string(),
        external,
    }
}

/// The file's text, None when it does not exist (a missing directory on the
/// way counts as missing too).
fn read_optional(path: &Path, external: bool) -> Result<Option<String>, AuthError> {
    let read_err = |source| AuthError::Read {
        path: path.to_path_buf(),
        source,
        external,
    };
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(read_err(e)),
    };
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(read_err)?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| malformed(path, "not UTF-8", external))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "auth.json".into())
}

/// Write `bytes` to `path` with mode 0600: a temp file in the same
/// directory, fsync, rename over, fsync the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AuthError> {
    let dir = parent_dir(path);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:016x}",
        file_name(path),
        std::process::id(),
        rand::random::<u64>()
    ));
    let werr = |source| AuthError::Write {
        path: path.to_path_buf(),
        source,
    };
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        // whatever the umask, the file is exactly 0600
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(werr)
}

/// The first executable regular file named `program` in `path_env`.
fn find_in_path(program: &str, path_env: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_env)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Run `cmd` with `input` on stdin; kill it after `timeout`.
fn run_with_timeout(
    cmd: &mut Command,
    input: &[u8],
    timeout: Duration,
) -> io::Result<std::process::Output> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // ETXTBSY: a helper script just written while another thread forked
    // (seen in tests; harmless to retry).
    let mut attempts = 0;
    let mut child = loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && attempts < 20 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => break other?,
        }
    };
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let input = input.to_vec();
    // Separate threads so a helper that does not read stdin, or writes a lot,
    // cannot deadlock us.
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = stdin.take() {
            let _ = s.write_all(&input);
        }
    });
    let read_all = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_t = read_all(stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err_t = read_all(stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {} s", timeout.as_secs_f64()),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use tempfile::TempDir;

    const HELPER: &str = r#"#!/bin/sh
[ "$1" = get ] || exit 2
url=$(cat)
printf '%s\n' "$url" >> "$(dirname "$0")/helper.log"
case "$url" in
  *notfound*) echo "credentials not found in native keychain"; exit 1;;
  *broken*) echo "boom: keychain locked"; exit 1;;
  *garbage*) echo "this is not json";;
  *token*) printf '{"ServerURL":"%s","Username":"<token>","Secret":"IDTOKEN"}\n' "$url";;
  *slow*) exec sleep 5;;
  *) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"pw-for-%s"}\n' "$url" "$url";;
esac
"#;

    struct Fx {
        dir: TempDir,
        env: AuthEnv,
    }

    impl Fx {
        fn new() -> Fx {
            let dir = tempfile::tempdir().unwrap();
            let env = AuthEnv {
                home: Some(dir.path().join("home")),
                xdg_runtime_dir: Some(dir.path().join("run")),
                xdg_config_home: None,
                docker_config: None,
                registry_auth_file: None,
                // the helper script needs sh, cat, dirname, sleep
                path: Some(
                    std::env::join_paths([
                        dir.path().join("bin"),
                        "/usr/bin".into(),
                        "/bin".into(),
                    ])
                    .unwrap(),
                ),
                uid: 1000,
            };
            Fx { dir, env }
        }
        fn p(&self, rel: &str) -> PathBuf {
            self.dir.path().join(rel)
        }
        fn berth(&self) -> PathBuf {
            self.p("data/berth/auth.json")
        }
        fn podman_run(&self) -> PathBuf {
            self.p("run/containers/auth.json")
        }
        fn podman_cfg(&self) -> PathBuf {
            self.p("home/.config/containers/auth.json")
        }
        fn docker(&self) -> PathBuf {
            self.p("home/.docker/config.json")
        }
        fn store(&self) -> AuthStore {
            AuthStore::with_env(self.berth(), &self.env)
        }
        fn write(&self, path: &Path, text: &str) {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        fn write_auths(&self, path: &Path, entries: &[(&str, &str, &str)]) {
            let mut auths = Map::new();
            for (key, user, pass) in entries {
                auths.insert(
                    key.to_string(),
                    serde_json::json!({ "auth": b64(&format!("{user}:{pass}")) }),
                );
            }
            self.write(path, &serde_json::json!({ "auths": auths }).to_string());
        }
        fn install_helper(&self, name: &str) {
            let bin = self.p("bin");
            fs::create_dir_all(&bin).unwrap();
            let path = bin.join(format!("docker-credential-{name}"));
            fs::write(&path, HELPER).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fn helper_log(&self) -> Vec<String> {
            fs::read_to_string(self.p("bin/helper.log"))
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect()
        }
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn user(store: &AuthStore, registry: &str) -> Option<String> {
        store.lookup(registry).unwrap().map(|c| c.username)
    }

    #[test]
    fn nothing_configured_is_none() {
        let fx = Fx::new();
        assert_eq!(fx.store().lookup("docker.io").unwrap(), None);
        assert!(!fx.store().remove("docker.io").unwrap());
        assert!(!fx.berth().exists(), "remove must not create the file");
    }

    #[test]
    fn source_paths_and_defaults() {
        let fx = Fx::new();
        let kinds: Vec<_> = fx
            .store()
            .sources()
            .iter()
            .map(|s| (s.kind, s.path.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (SourceKind::Berth, fx.berth()),
                (SourceKind::PodmanRuntime, fx.podman_run()),
                (SourceKind::PodmanConfig, fx.podman_cfg()),
                (SourceKind::Docker, fx.docker()),
            ]
        );
        let env = AuthEnv {
            home: Some("/h".into()),
            xdg_config_home: Some("/cfg".into()),
            docker_config: Some("/dc".into()),
            registry_auth_file: Some("/raf.json".into()),
            uid: 4242,
            ..AuthEnv::default()
        };
        let s = AuthStore::with_env("/b/auth.json".into(), &env);
        let paths: Vec<_> = s.sources().iter().map(|s| s.path.clone()).collect();
        let expected: Vec<PathBuf> = [
            "/b/auth.json",
            "/raf.json",
            "/run/containers/4242/auth.json",
            "/cfg/containers/auth.json",
            "/dc/config.json",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(paths, expected);
        // REGISTRY_AUTH_FILE pointing at podman's own file is read once
        let env = AuthEnv {
            registry_auth_file: Some("/run/containers/0/auth.json".into()),
            ..AuthEnv::default()
        };
        let s = AuthStore::with_env("/b/auth.json".into(), &env);
        let kinds: Vec<_> = s.sources().iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec![SourceKind::Berth, SourceKind::RegistryAuthFile]);
    }

    #[test]
    fn store_lookup_remove_round_trip() {
        let fx = Fx::new();
        let s = fx.store();
        s.store("docker.io", &Credentials::new("hubuser", "hub:pass"))
            .unwrap();
        s.store("localhost:5000", &Credentials::new("local", "pw"))
            .unwrap();
        assert_eq!(
            s.lookup("docker.io").unwrap(),
            Some(Credentials::new("hubuser", "hub:pass"))
        );
        assert_eq!(
            s.lookup("index.docker.io").unwrap().unwrap().username,
            "hubuser"
        );
        assert_eq!(
            s.lookup("localhost:5000").unwrap(),
            Some(Credentials::new("local", "pw"))
        );
        assert_eq!(s.lookup("localhost:5001").unwrap(), None);
        assert_eq!(s.lookup("localhost").unwrap(), None);

        let v: Value = serde_json::from_str(&fs::read_to_string(fx.berth()).unwrap()).unwrap();
        let keys: Vec<_> = v["auths"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            vec![DOCKER_HUB_AUTH_KEY.to_string(), "localhost:5000".into()]
        );
        assert_eq!(
            v["auths"][DOCKER_HUB_AUTH_KEY]["auth"],
            b64("hubuser:hub:pass")
        );

        // replacing keeps one entry
        s.store(
            "https://index.docker.io/v1/",
            &Credentials::new("other", "x"),
        )
        .unwrap();
        assert_eq!(user(&s, "docker.io").as_deref(), Some("other"));
        assert!(s.remove("docker.io").unwrap());
        assert!(!s.remove("docker.io").unwrap());
        assert_eq!(s.lookup("docker.io").unwrap(), None);
        assert_eq!(user(&s, "localhost:5000").as_deref(), Some("local"));
    }

    #[test]
    fn store_writes_0600_atomically_and_keeps_other_fields() {
        let fx = Fx::new();
        fx.write(
            &fx.berth(),
            r#"{"auths":{"docker.io":{"auth":"b2xkOm9sZA=="}},"psFormat":"table {{.ID}}"}"#,
        );
        fs::set_permissions(fx.berth(), fs::Permissions::from_mode(0o644)).unwrap();
        fx.store()
            .store("docker.io", &Credentials::new("new", "pw"))
            .unwrap();
        let meta = fs::metadata(fx.berth()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let v: Value = serde_json::from_str(&fs::read_to_string(fx.berth()).unwrap()).unwrap();
        assert_eq!(v["psFormat"], "table {{.ID}}");
        // the old alias key was replaced by the canonical one
        assert_eq!(v["auths"].as_object().unwrap().len(), 1);
        assert!(v["auths"].get(DOCKER_HUB_AUTH_KEY).is_some());
        // nothing but the file and the lock file is left behind
        let mut names: Vec<_> = fs::read_dir(fx.berth().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, vec![".auth.json.lock", "auth.json"]);
    }

    #[test]
    fn store_creates_private_directory() {
        let fx = Fx::new();
        fx.store()
            .store("ghcr.io", &Credentials::new("u", "p"))
            .unwrap();
        let dir = fs::metadata(fx.berth().parent().unwrap()).unwrap();
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
        assert_eq!(
            fs::metadata(fx.berth()).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn store_refuses_to_clobber_a_malformed_file() {
        let fx = Fx::new();
        fx.write(&fx.berth(), "{not json");
        let e = fx
            .store()
            .store("ghcr.io", &Credentials::new("u", "p"))
            .unwrap_err();
        assert!(
            matches!(
                e,
                AuthError::Malformed {
                    external: false,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(fs::read_to_string(fx.berth()).unwrap(), "{not json");
        let e = fx.store().lookup("ghcr.io").unwrap_err();
        assert!(!e.is_external());
        assert_eq!(e.path(), Some(fx.berth().as_path()));
        assert!(
            e.to_string().contains(&fx.berth().display().to_string()),
            "{e}"
        );
    }

    #[test]
    fn store_rejects_bad_usernames() {
        let fx = Fx::new();
        let s = fx.store();
        assert!(matches!(
            s.store("x.io", &Credentials::new("", "p")),
            Err(AuthError::InvalidCredentials(_))
        ));
        assert!(matches!(
            s.store("x.io", &Credentials::new("a:b", "p")),
            Err(AuthError::InvalidCredentials(_))
        ));
    }

    #[test]
    fn identity_tokens() {
        let fx = Fx::new();
        let s = fx.store();
        let tok = Credentials::from_identity_token("REFRESH");
        assert_eq!(tok.identity_token(), Some("REFRESH"));
        assert_eq!(Credentials::new("u", "p").identity_token(), None);
        s.store("registry.example.com", &tok).unwrap();
        let v: Value = serde_json::from_str(&fs::read_to_string(fx.berth()).unwrap()).unwrap();
        assert_eq!(
            v["auths"]["registry.example.com"],
            serde_json::json!({"identitytoken": "REFRESH"})
        );
        assert_eq!(s.lookup("registry.example.com").unwrap(), Some(tok));
        // docker's file: identitytoken wins over username/auth
        fx.write(
            &fx.docker(),
            &format!(
                r#"{{"auths":{{"tok.example.com":{{"auth":"{}","identitytoken":"T2"}}}}}}"#,
                b64("u:p")
            ),
        );
        let c = s.lookup("tok.example.com").unwrap().unwrap();
        assert_eq!(c.identity_token(), Some("T2"));
    }

    #[test]
    fn debug_redacts_the_password() {
        let dbg = format!("{:?}", Credentials::new("me", "s3cret"));
        assert!(dbg.contains("me") && !dbg.contains("s3cret"), "{dbg}");
    }

    #[test]
    fn docker_hub_key_forms() {
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
            "https://registry-1.docker.io/v2/",
            "http://docker.io",
        ] {
            let fx = Fx::new();
            fx.write_auths(&fx.docker(), &[(key, "hub", "pw")]);
            let s = fx.store();
            for registry in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
                assert_eq!(
                    user(&s, registry).as_deref(),
                    Some("hub"),
                    "key {key}, lookup {registry}"
                );
            }
            assert_eq!(s.lookup("quay.io").unwrap(), None);
        }
    }

    #[test]
    fn other_registry_key_forms() {
        let fx = Fx::new();
        fx.write_auths(
            &fx.docker(),
            &[
                ("https://a.example.com:5000", "a", "pw"),
                ("http://b.example.com:5000/v2/", "b", "pw"),
                ("c.example.com:5000", "c", "pw"),
                ("D.Example.com", "d", "pw"),
                ("e.example.com/some/path", "e", "pw"),
            ],
        );
        let s = fx.store();
        assert_eq!(user(&s, "a.example.com:5000").as_deref(), Some("a"));
        assert_eq!(user(&s, "b.example.com:5000").as_deref(), Some("b"));
        assert_eq!(user(&s, "c.example.com:5000").as_deref(), Some("c"));
        assert_eq!(user(&s, "d.example.com").as_deref(), Some("d"));
        // docker reduces a key with a path to its host
        assert_eq!(user(&s, "e.example.com").as_deref(), Some("e"));
        assert_eq!(
            user(&s, "https://c.example.com:5000/").as_deref(),
            Some("c")
        );
        assert_eq!(s.lookup("a.example.com").unwrap(), None);
        assert_eq!(s.lookup("a.example.com:5001").unwrap(), None);
        assert_eq!(s.lookup("example.com").unwrap(), None);
    }

    #[test]
    fn exact_key_wins_over_aliases() {
        let fx = Fx::new();
        fx.write_auths(
            &fx.docker(),
            &[
                ("docker.io", "alias1", "pw"),
                ("https://index.docker.io/v1/", "exact", "pw"),
                ("https://r.example.com", "alias2", "pw"),
                ("r.example.com", "exact2", "pw"),
                ("http://r.example.com/v2/", "alias3", "pw"),
            ],
        );
        let s = fx.store();
        assert_eq!(user(&s, "docker.io").as_deref(), Some("exact"));
        assert_eq!(user(&s, "r.example.com").as_deref(), Some("exact2"));
        // with no exact key the first alias in file order wins
        let fx = Fx::new();
        fx.write_auths(
            &fx.docker(),
            &[
                ("registry-1.docker.io", "first", "pw"),
                ("docker.io", "second", "pw"),
            ],
        );
        assert_eq!(user(&fx.store(), "docker.io").as_deref(), Some("first"));
    }

    #[test]
    fn precedence_of_sources() {
        let mut fx = Fx::new();
        fx.env.registry_auth_file = Some(fx.p("raf/auth.json"));
        let raf = fx.p("raf/auth.json");
        let r = "reg.example.com";
        let all = [
            fx.berth(),
            raf.clone(),
            fx.podman_run(),
            fx.podman_cfg(),
            fx.docker(),
        ];
        let names = ["berth", "raf", "podman-run", "podman-cfg", "docker"];
        for (path, name) in all.iter().zip(names) {
            fx.write_auths(path, &[(r, name, "pw")]);
        }
        for (i, name) in names.iter().enumerate() {
            assert_eq!(
                user(&fx.store(), r).as_deref(),
                Some(*name),
                "with sources {i}.. present"
            );
            fs::remove_file(&all[i]).unwrap();
        }
        assert_eq!(fx.store().lookup(r).unwrap(), None);
    }

    #[test]
    fn xdg_defaults() {
        let mut fx = Fx::new();
        fx.env.xdg_config_home = Some(fx.p("cfg"));
        fx.env.docker_config = Some(fx.p("dockercfg"));
        fx.write_auths(
            &fx.p("cfg/containers/auth.json"),
            &[("a.io", "podman", "pw")],
        );
        fx.write_auths(&fx.p("dockercfg/config.json"), &[("b.io", "docker", "pw")]);
        // the defaults under $HOME are no longer read
        fx.write_auths(&fx.podman_cfg(), &[("b.io", "wrong", "pw")]);
        fx.write_auths(&fx.docker(), &[("a.io", "wrong", "pw")]);
        let s = fx.store();
        assert_eq!(user(&s, "a.io").as_deref(), Some("podman"));
        assert_eq!(user(&s, "b.io").as_deref(), Some("docker"));
    }

    #[test]
    fn entry_decoding() {
        let fx = Fx::new();
        fx.write(
            &fx.docker(),
            &serde_json::json!({"auths": {
                "colon.io": {"auth": b64("u:p:x")},
                "nul.io": {"auth": b64("u:p\0\0")},
                "fields.io": {"username": "fu", "password": "fp"},
                "both.io": {"auth": b64("au:ap"), "username": "fu", "password": "fp"},
                "emptypw.io": {"auth": b64("u:")},
                "nopad.io": {"auth": b64("u:pq").trim_end_matches('=')},
                "placeholder.io": {},
                "emptyauth.io": {"auth": ""},
                "nocolon.io": {"auth": b64("nocolon")},
                "emptyuser.io": {"auth": b64(":p")},
                "badb64.io": {"auth": "!!!"},
                "notobj.io": "x",
            }})
            .to_string(),
        );
        let s = fx.store();
        let get = |r: &str| s.lookup(r);
        assert_eq!(get("colon.io").unwrap(), Some(Credentials::new("u", "p:x")));
        assert_eq!(get("nul.io").unwrap(), Some(Credentials::new("u", "p")));
        assert_eq!(
            get("fields.io").unwrap(),
            Some(Credentials::new("fu", "fp"))
        );
        assert_eq!(get("both.io").unwrap(), Some(Credentials::new("au", "ap")));
        assert_eq!(get("emptypw.io").unwrap(), Some(Credentials::new("u", "")));
        assert_eq!(get("nopad.io").unwrap(), Some(Credentials::new("u", "pq")));
        assert_eq!(get("placeholder.io").unwrap(), None);
        assert_eq!(get("emptyauth.io").unwrap(), None);
        for bad in ["nocolon.io", "emptyuser.io", "badb64.io", "notobj.io"] {
            let e = get(bad).unwrap_err();
            assert!(e.is_external(), "{bad}: {e}");
            assert_eq!(e.path(), Some(fx.docker().as_path()));
            let msg = e.to_string();
            assert!(
                msg.contains(&fx.docker().display().to_string()) && msg.contains(bad),
                "{msg}"
            );
        }
    }

    #[test]
    fn malformed_foreign_files_are_external_and_do_not_hide_others() {
        let fx = Fx::new();
        fx.write(&fx.podman_run(), "{\"auths\": ");
        fx.write(&fx.docker(), "[1, 2]");
        fx.write_auths(&fx.podman_cfg(), &[("ok.io", "found", "pw")]);
        let s = fx.store();
        // credentials in a later source are still found
        assert_eq!(user(&s, "ok.io").as_deref(), Some("found"));
        // none found: the first external error is returned
        let e = s.lookup("other.io").unwrap_err();
        assert!(e.is_external());
        assert_eq!(e.path(), Some(fx.podman_run().as_path()));
        let l = s.lookup_detailed("other.io", None);
        assert!(l.found.is_none());
        let paths: Vec<_> = l
            .errors
            .iter()
            .map(|e| e.path().unwrap().to_path_buf())
            .collect();
        assert_eq!(paths, vec![fx.podman_run(), fx.docker()]);
        // berth's own file wins before the broken ones are even read
        s.store("other.io", &Credentials::new("mine", "pw"))
            .unwrap();
        assert_eq!(user(&s, "other.io").as_deref(), Some("mine"));
        // wrong shapes
        fs::remove_file(fx.podman_run()).unwrap();
        for text in [
            r#"{"auths": []}"#,
            r#"{"credHelpers": "x"}"#,
            r#"{"credsStore": 1}"#,
            "\u{0}",
        ] {
            fx.write(&fx.docker(), text);
            let e = s.lookup("x.io").unwrap_err();
            assert!(
                e.is_external() && e.path() == Some(fx.docker().as_path()),
                "{text:?}: {e}"
            );
        }
        // empty files are fine, as in docker
        fx.write(&fx.docker(), "  \n");
        assert_eq!(s.lookup("x.io").unwrap(), None);
    }

    #[test]
    fn unreadable_file_is_a_read_error() {
        if nix::unistd::geteuid().is_root() {
            return; // root reads anything
        }
        let fx = Fx::new();
        fx.write_auths(&fx.docker(), &[("x.io", "u", "p")]);
        fs::set_permissions(fx.docker(), fs::Permissions::from_mode(0o000)).unwrap();
        let e = fx.store().lookup("x.io").unwrap_err();
        assert!(matches!(e, AuthError::Read { external: true, .. }), "{e}");
    }

    #[test]
    fn missing_registry_auth_file_is_ignored() {
        let mut fx = Fx::new();
        fx.env.registry_auth_file = Some(fx.p("nope/auth.json"));
        fx.write_auths(&fx.docker(), &[("x.io", "u", "p")]);
        assert_eq!(user(&fx.store(), "x.io").as_deref(), Some("u"));
    }

    #[test]
    fn podman_namespace_keys() {
        let fx = Fx::new();
        fx.write_auths(
            &fx.podman_run(),
            &[
                ("quay.io", "host", "pw"),
                ("quay.io/org", "org", "pw"),
                ("quay.io/org/special", "special", "pw"),
                ("docker.io/library", "lib", "pw"),
            ],
        );
        let s = fx.store();
        let for_ref = |r: &str| {
            s.lookup_for(&Reference::parse(r).unwrap())
                .unwrap()
                .map(|c| c.username)
        };
        assert_eq!(for_ref("quay.io/org/special").as_deref(), Some("special"));
        assert_eq!(
            for_ref("quay.io/org/special/sub:1").as_deref(),
            Some("special")
        );
        assert_eq!(for_ref("quay.io/org/other").as_deref(), Some("org"));
        assert_eq!(for_ref("quay.io/organisation/x").as_deref(), Some("host"));
        assert_eq!(for_ref("quay.io/x").as_deref(), Some("host"));
        assert_eq!(for_ref("busybox").as_deref(), Some("lib"));
        assert_eq!(for_ref("user/app"), None);
        // a registry-wide lookup ignores namespace keys
        assert_eq!(user(&s, "quay.io").as_deref(), Some("host"));
        assert_eq!(s.lookup("docker.io").unwrap(), None);
        // in docker's file a path key is reduced to its host, as docker does
        let fx = Fx::new();
        fx.write_auths(&fx.docker(), &[("quay.io/org", "org", "pw")]);
        let r = Reference::parse("quay.io/other/x").unwrap();
        assert_eq!(fx.store().lookup_for(&r).unwrap().unwrap().username, "org");
    }

    #[test]
    fn credential_helpers() {
        let fx = Fx::new();
        fx.install_helper("fake");
        fx.write(
            &fx.docker(),
            &serde_json::json!({
                "auths": {
                    "https://index.docker.io/v1/": {},
                    "filecreds.io": {"auth": b64("file:pw")},
                    "notfound.io": {"auth": b64("file:pw")},
                },
                "credsStore": "fake",
                "credHelpers": {
                    "missing.io": "nosuch",
                    "https://helped.io": "fake",
                    "token.io": "fake",
                }
            })
            .to_string(),
        );
        let s = fx.store();
        // credsStore for Docker Hub gets docker's hub URL
        assert_eq!(
            s.lookup("docker.io").unwrap(),
            Some(Credentials::new(
                "helper-user",
                "pw-for-https://index.docker.io/v1/"
            ))
        );
        assert_eq!(
            s.lookup("helped.io").unwrap(),
            Some(Credentials::new("helper-user", "pw-for-helped.io"))
        );
        assert_eq!(
            s.lookup("token.io").unwrap(),
            Some(Credentials::from_identity_token("IDTOKEN"))
        );
        // credsStore applies to every registry and is authoritative over auths
        assert_eq!(
            s.lookup("filecreds.io").unwrap(),
            Some(Credentials::new("helper-user", "pw-for-filecreds.io"))
        );
        assert_eq!(s.lookup("notfound.io").unwrap(), None);
        assert_eq!(
            fx.helper_log(),
            vec![
                "https://index.docker.io/v1/",
                "helped.io",
                "token.io",
                "filecreds.io",
                "notfound.io"
            ]
        );
        // a missing helper is an error only for the registry it serves
        let e = s.lookup("missing.io").unwrap_err();
        assert!(
            matches!(&e, AuthError::HelperNotFound { helper, .. } if helper == "nosuch"),
            "{e}"
        );
        assert!(e.is_external());
        assert!(e.to_string().contains("docker-credential-nosuch"), "{e}");
        // failures carry the helper's message
        let e = s.lookup("broken.io").unwrap_err();
        assert!(e.to_string().contains("boom: keychain locked"), "{e}");
        assert!(e.is_external());
        let e = s.lookup("garbage.io").unwrap_err();
        assert!(matches!(e, AuthError::HelperFailed { .. }), "{e}");
        // berth's own file comes first and needs no helper
        s.store("missing.io", &Credentials::new("mine", "pw"))
            .unwrap();
        assert_eq!(user(&s, "missing.io").as_deref(), Some("mine"));
        let l = s.lookup_detailed("missing.io", None);
        assert!(matches!(
            l.found.unwrap().origin,
            Origin::File {
                kind: SourceKind::Berth,
                ..
            }
        ));
        let l = s.lookup_detailed("helped.io", None);
        assert_eq!(
            l.found.unwrap().origin,
            Origin::Helper {
                kind: SourceKind::Docker,
                config: fx.docker(),
                helper: "fake".into()
            }
        );
    }

    #[test]
    fn missing_helper_for_another_registry_is_no_error() {
        let fx = Fx::new();
        fx.write(
            &fx.docker(),
            r#"{"auths":{"plain.io":{"auth":"dTpw"}},"credHelpers":{"gcr.io":"gcloud-missing"}}"#,
        );
        let s = fx.store();
        assert_eq!(
            s.lookup("plain.io").unwrap(),
            Some(Credentials::new("u", "p"))
        );
        assert_eq!(s.lookup("quay.io").unwrap(), None);
        assert!(matches!(
            s.lookup("gcr.io"),
            Err(AuthError::HelperNotFound { .. })
        ));
    }

    #[test]
    fn missing_creds_store_is_an_external_error() {
        let fx = Fx::new();
        fx.write(&fx.docker(), r#"{"auths":{},"credsStore":"desktop"}"#);
        let e = fx.store().lookup("docker.io").unwrap_err();
        assert!(e.is_external());
        assert!(e.to_string().contains("docker-credential-desktop"), "{e}");
    }

    #[test]
    fn podman_cred_helpers_get_the_bare_registry() {
        let fx = Fx::new();
        fx.install_helper("fake");
        // credsStore is docker's; podman files only honour credHelpers
        fx.write(
            &fx.podman_cfg(),
            r#"{"auths":{},"credHelpers":{"docker.io":"fake"},"credsStore":"nosuch"}"#,
        );
        let s = fx.store();
        assert_eq!(
            s.lookup("docker.io").unwrap(),
            Some(Credentials::new("helper-user", "pw-for-docker.io"))
        );
        assert_eq!(s.lookup("quay.io").unwrap(), None);
        assert_eq!(fx.helper_log(), vec!["docker.io"]);
    }

    #[test]
    fn helper_timeout() {
        let fx = Fx::new();
        fx.install_helper("fake");
        fx.write(&fx.docker(), r#"{"credHelpers":{"slow.io":"fake"}}"#);
        let mut s = fx.store();
        s.set_helper_timeout(Duration::from_millis(200));
        let start = Instant::now();
        let e = s.lookup("slow.io").unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(3));
        assert!(e.to_string().contains("timed out"), "{e}");
    }

    #[test]
    fn concurrent_stores_lose_nothing() {
        let fx = Fx::new();
        let store = fx.store();
        std::thread::scope(|sc| {
            for i in 0..8 {
                let store = store.clone();
                sc.spawn(move || {
                    store
                        .store(
                            &format!("r{i}.example.com"),
                            &Credentials::new(format!("u{i}"), "pw"),
                        )
                        .unwrap()
                });
            }
        });
        for i in 0..8 {
            assert_eq!(
                user(&store, &format!("r{i}.example.com")),
                Some(format!("u{i}"))
            );
        }
    }
}
