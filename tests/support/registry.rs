//! Real registries for tests: the CNCF distribution registry (Debian's
//! `docker-registry`) on a free loopback port, plain, with htpasswd basic
//! auth, or with bearer tokens from a small token server in this file; and a
//! blocking HTTP client that speaks the same auth.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};

use super::sha256_digest;

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
/// `service` of the token-auth registry (the `aud` of its tokens).
pub const TOKEN_SERVICE: &str = "berth-test-registry";
/// `iss` of the token server's tokens.
pub const TOKEN_ISSUER: &str = "berth-test-token-issuer";
/// Default credentials for [`RegistryAuth::basic`] / [`RegistryAuth::token`].
pub const DEFAULT_USER: &str = "berth";
pub const DEFAULT_PASSWORD: &str = "berth-secret-pw";

/// Every manifest media type, for `Accept` headers.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// How a [`Registry`] authenticates clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryAuth {
    /// Plain HTTP, anyone may pull and push.
    None,
    /// HTTP Basic against an htpasswd (bcrypt) file.
    Basic { user: String, password: String },
    /// Bearer tokens (JWT, ES256, `x5c` chain) from a token server; `user` gets whatever
    /// scope it asks for, anonymous requests get tokens granting nothing.
    Token { user: String, password: String },
}

impl RegistryAuth {
    /// Basic auth with [`DEFAULT_USER`] / [`DEFAULT_PASSWORD`].
    pub fn basic() -> RegistryAuth {
        RegistryAuth::Basic {
            user: DEFAULT_USER.into(),
            password: DEFAULT_PASSWORD.into(),
        }
    }

    /// Token auth with [`DEFAULT_USER`] / [`DEFAULT_PASSWORD`].
    pub fn token() -> RegistryAuth {
        RegistryAuth::Token {
            user: DEFAULT_USER.into(),
            password: DEFAULT_PASSWORD.into(),
        }
    }

    fn credentials(&self) -> Option<(&str, &str)> {
        match self {
            RegistryAuth::None => None,
            RegistryAuth::Basic { user, password } | RegistryAuth::Token { user, password } => {
                Some((user, password))
            }
        }
    }
}

/// A running `docker-registry`, killed and its storage removed on drop.
pub struct Registry {
    addr: String,
    auth: RegistryAuth,
    child: Child,
    token: Option<TokenServer>,
    client: OnceLock<RegistryClient>,
    // Dropped last: the storage and config directory.
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry and waits until it answers `/v2/`. Panics (with the
    /// registry's log) if it cannot be started.
    pub fn start(auth: RegistryAuth) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("berth-test-registry-")
            .tempdir()
            .expect("create registry temp dir");
        let token = match &auth {
            RegistryAuth::Token { user, password } => Some(TokenServer::start(
                dir.path(),
                user.clone(),
                password.clone(),
            )),
            _ => None,
        };
        let auth_yaml = match &auth {
            RegistryAuth::None => String::new(),
            RegistryAuth::Basic { user, password } => {
                let htpasswd = dir.path().join("htpasswd");
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("run htpasswd (Debian package apache2-utils)");
                assert!(
                    out.status.success(),
                    "htpasswd failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::fs::write(&htpasswd, &out.stdout).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: berth-test-registry\n    path: {}\n",
                    htpasswd.display()
                )
            }
            RegistryAuth::Token { .. } => {
                let t = token.as_ref().unwrap();
                format!(
                    "auth:\n  token:\n    realm: {}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                    t.realm(),
                    t.root_bundle.display()
                )
            }
        };

        let id = format!("{:016x}", rand::random::<u64>());
        let config = dir.path().join("config.yml");
        let log_path = dir.path().join("registry.log");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\n\
                     log:\n  level: warn\n  formatter: text\n  accesslog:\n    disabled: true\n\
                     storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n  \
                     maintenance:\n    uploadpurging:\n      enabled: false\n\
                     http:\n  addr: {addr}\n  secret: {id}-secret\n  headers:\n    X-Berth-Test-Registry: [\"{id}\"]\n\
                     {auth_yaml}",
                    data = dir.path().join("data").display(),
                ),
            )
            .unwrap();
            let log = std::fs::File::create(&log_path).unwrap();
            let mut cmd = Command::new(REGISTRY_BIN);
            cmd.arg("serve")
                .arg(&config)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            let mut child = spawn_owned(cmd).unwrap_or_else(|e| {
                panic!("cannot start {REGISTRY_BIN} (Debian package docker-registry): {e}")
            });
            let mut delay = Duration::from_millis(2);
            let outcome = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break Err(status);
                }
                if probe(&addr, &id) {
                    break Ok(());
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "registry on {addr} did not answer /v2/ within 60 s; log:\n{}",
                        std::fs::read_to_string(&log_path).unwrap_or_default()
                    );
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(25));
            };
            match outcome {
                Ok(()) => {
                    return Registry {
                        addr,
                        auth,
                        child,
                        token,
                        client: OnceLock::new(),
                        dir,
                    };
                }
                Err(status) => {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    // Another process took the port between our probe and the
                    // registry's bind: try another one.
                    if log.contains("address already in use") && attempts < 20 {
                        continue;
                    }
                    panic!("registry exited ({status}) on start; log:\n{log}");
                }
            }
        }
    }

    /// `127.0.0.1:PORT`, the registry part of image references.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT/REPO:TAG`.
    pub fn image_ref(&self, repo: &str, tag: &str) -> String {
        format!("{}/{repo}:{tag}", self.addr)
    }

    pub fn auth(&self) -> &RegistryAuth {
        &self.auth
    }

    /// The valid user name (None for [`RegistryAuth::None`]).
    pub fn user(&self) -> Option<&str> {
        self.auth.credentials().map(|c| c.0)
    }

    /// The valid password (None for [`RegistryAuth::None`]).
    pub fn password(&self) -> Option<&str> {
        self.auth.credentials().map(|c| c.1)
    }

    /// A client with the registry's valid credentials (if any). Shared.
    pub fn client(&self) -> &RegistryClient {
        self.client.get_or_init(|| {
            RegistryClient::new(
                &self.addr,
                self.auth
                    .credentials()
                    .map(|(u, p)| (u.to_string(), p.to_string())),
            )
        })
    }

    /// A client that sends no credentials.
    pub fn anonymous_client(&self) -> RegistryClient {
        RegistryClient::new(&self.addr, None)
    }

    /// A client with the given (possibly wrong) credentials.
    pub fn client_with(&self, user: &str, password: &str) -> RegistryClient {
        RegistryClient::new(&self.addr, Some((user.into(), password.into())))
    }

    /// A docker `config.json` with this registry's credentials
    /// (`{"auths":{"127.0.0.1:PORT":{"auth":"base64(user:pw)"}}}`); `{"auths":{}}`
    /// without auth.
    pub fn docker_config_json(&self) -> String {
        let mut auths = serde_json::Map::new();
        if let Some((u, p)) = self.auth.credentials() {
            auths.insert(
                self.addr.clone(),
                serde_json::json!({ "auth": B64.encode(format!("{u}:{p}")) }),
            );
        }
        serde_json::json!({ "auths": auths }).to_string()
    }

    /// The token endpoint (`http://127.0.0.1:PORT/token`) of a token registry.
    pub fn token_realm(&self) -> Option<String> {
        self.token.as_ref().map(|t| t.realm())
    }

    /// Every request the token server has answered, in order.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.token
            .as_ref()
            .map(|t| t.log.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// Asks the token server directly for a token (GET realm?service=…&scope=…),
    /// with HTTP Basic `credentials` if given. Panics unless this is a token registry.
    pub fn request_token(&self, credentials: Option<(&str, &str)>, scope: &str) -> HttpResponse {
        let realm = self.token_realm().expect("not a token-auth registry");
        let url = format!(
            "{realm}?service={}&scope={}",
            pct_encode(TOKEN_SERVICE),
            pct_encode(scope)
        );
        let auth = credentials.map(|(u, p)| basic_header(u, p));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        send(&agent(), "GET", &url, &headers, None)
    }

    /// Process id of the `docker-registry` process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The registry's storage root (`rootdirectory`).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The registry's log so far (stdout+stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // token server and temp dir drop after this
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("addr", &self.addr)
            .field("auth", &self.auth)
            .finish()
    }
}

/// A port that was free a moment ago (the registry start retries on a race).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// True when `addr` answers `/v2/` with our registry's marker header (and
/// not some other test's registry that grabbed the port).
fn probe(addr: &str, id: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(500))
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(
        format!("GET /v2/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    text.starts_with("http/1.1 ") && text.contains(&format!("x-berth-test-registry: {id}"))
}

/// Spawns `cmd` from one long-lived thread with `PR_SET_PDEATHSIG(SIGKILL)`,
/// so the child dies with the test process even if it is killed (the death
/// signal follows the spawning *thread*, hence the dedicated thread: test
/// threads come and go).
pub fn spawn_owned(mut cmd: Command) -> io::Result<Child> {
    type Req = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Req>> = OnceLock::new();
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(io::Error::other("parent died"));
            }
            Ok(())
        });
    }
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Req>();
        std::thread::Builder::new()
            .name("berth-test-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawn spawner thread");
        tx
    });
    let (rtx, rrx) = mpsc::channel();
    tx.send((cmd, rtx)).expect("spawner thread is gone");
    rrx.recv().expect("spawner thread is gone")
}

// ---------------------------------------------------------------------------
// HTTP client

/// A response, fully read.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text()))
    }
}

/// A manifest (or index) as served by the registry.
#[derive(Clone, Debug)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    /// `Content-Type` of the response.
    pub media_type: String,
    /// sha256 of `bytes` (checked against `Docker-Content-Digest`).
    pub digest: String,
}

impl FetchedManifest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).expect("manifest is JSON")
    }
}

/// A blocking registry client (ureq) answering Basic and Bearer challenges
/// with its credentials. Panicking helpers for tests, plus [`Self::request`]
/// for anything else.
pub struct RegistryClient {
    addr: String,
    credentials: Option<(String, String)>,
    agent: ureq::Agent,
    /// Authorization header per repository ("" for non-repository paths).
    auth_cache: Mutex<HashMap<String, String>>,
}

fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(300)))
        .build();
    ureq::Agent::new_with_config(config)
}

fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> HttpResponse {
    let mut b = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let result = match body {
        Some(data) => agent.run(b.body(data.to_vec()).unwrap()),
        None => agent.run(b.body(()).unwrap()),
    };
    let resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let (parts, mut body) = resp.into_parts();
    let body = if method == "HEAD" {
        Vec::new()
    } else {
        body.with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{method} {url}: reading body: {e}"))
    };
    HttpResponse {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    }
}

fn basic_header(user: &str, password: &str) -> String {
    format!("Basic {}", B64.encode(format!("{user}:{password}")))
}

impl RegistryClient {
    /// A client for `addr` (`127.0.0.1:PORT`) with optional credentials.
    pub fn new(addr: &str, credentials: Option<(String, String)>) -> RegistryClient {
        RegistryClient {
            addr: addr.to_string(),
            credentials,
            agent: agent(),
            auth_cache: Mutex::new(HashMap::new()),
        }
    }

    /// Sends a request to `path_or_url` (`/v2/…` or a full URL such as an
    /// upload `Location`), answering one auth challenge (401) with the
    /// client's credentials. Returns whatever the registry answered last.
    pub fn request(
        &self,
        method: &str,
        path_or_url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> HttpResponse {
        let url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("http://{}{}", self.addr, path_or_url)
        };
        let key = repo_of(&url);
        let mut auth = self.auth_cache.lock().unwrap().get(&key).cloned();
        let mut tried = Vec::new();
        loop {
            let mut hs: Vec<(&str, &str)> = headers.to_vec();
            if let Some(a) = &auth {
                hs.push(("Authorization", a));
            }
            let resp = send(&self.agent, method, &url, &hs, body);
            if resp.status != 401 || tried.len() >= 2 {
                return resp;
            }
            let Some(challenge) = resp.header("www-authenticate") else {
                return resp;
            };
            let Some(answer) = self.answer(challenge) else {
                return resp;
            };
            if tried.contains(&answer) || auth.as_ref() == Some(&answer) {
                return resp;
            }
            self.auth_cache
                .lock()
                .unwrap()
                .insert(key.clone(), answer.clone());
            tried.push(answer.clone());
            auth = Some(answer);
        }
    }

    /// Sends one request as given: no credentials, no answer to challenges.
    pub fn raw(
        &self,
        method: &str,
        path_or_url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> HttpResponse {
        let url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("http://{}{}", self.addr, path_or_url)
        };
        send(&self.agent, method, &url, headers, body)
    }

    /// The Authorization header answering `challenge`, if we can.
    fn answer(&self, challenge: &str) -> Option<String> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return self.credentials.as_ref().map(|(u, p)| basic_header(u, p));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let realm = params.get("realm")?;
        let mut url = format!("{realm}?");
        if let Some(s) = params.get("service") {
            url.push_str(&format!("service={}&", pct_encode(s)));
        }
        if let Some(scope) = params.get("scope") {
            for s in scope.split(' ') {
                url.push_str(&format!("scope={}&", pct_encode(s)));
            }
        }
        url.pop();
        let basic = self.credentials.as_ref().map(|(u, p)| basic_header(u, p));
        let hs: Vec<(&str, &str)> = basic
            .iter()
            .map(|b| ("Authorization", b.as_str()))
            .collect();
        let resp = send(&self.agent, "GET", &url, &hs, None);
        if resp.status != 200 {
            return None;
        }
        let v = resp.json();
        let token = v["token"].as_str().or(v["access_token"].as_str())?;
        Some(format!("Bearer {token}"))
    }

    /// GET `/v2/` status (200 when allowed, 401 when not). On a token
    /// registry any valid token opens `/v2/`, so even the anonymous client
    /// gets 200 there; use [`Self::raw`] to see the challenge.
    pub fn ping(&self) -> u16 {
        self.request("GET", "/v2/", &[], None).status
    }

    /// GET a manifest or index with every manifest type accepted.
    pub fn try_get_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<FetchedManifest, HttpResponse> {
        let resp = self.request(
            "GET",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Accept", MANIFEST_ACCEPT)],
            None,
        );
        if resp.status != 200 {
            return Err(resp);
        }
        let digest = sha256_digest(&resp.body);
        if let Some(d) = resp.header("docker-content-digest") {
            assert_eq!(
                d, digest,
                "Docker-Content-Digest disagrees with the manifest bytes"
            );
        }
        Ok(FetchedManifest {
            media_type: resp.header("content-type").unwrap_or_default().to_string(),
            bytes: resp.body,
            digest,
        })
    }

    /// Like [`Self::try_get_manifest`], panicking on any status but 200.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> FetchedManifest {
        self.try_get_manifest(repo, reference).unwrap_or_else(|r| {
            panic!(
                "GET manifest {repo}:{reference}: HTTP {} {}",
                r.status,
                r.text()
            )
        })
    }

    /// PUT a manifest (or index) under `reference` (tag or digest); returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let resp = self.request(
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Content-Type", media_type)],
            Some(bytes),
        );
        assert_eq!(
            resp.status,
            201,
            "PUT manifest {repo}:{reference}: HTTP {} {}",
            resp.status,
            resp.text()
        );
        let digest = sha256_digest(bytes);
        if let Some(d) = resp.header("docker-content-digest") {
            assert_eq!(d, digest, "registry computed another manifest digest");
        }
        digest
    }

    /// HEAD the blob: true on 200, false on 404, panics otherwise (e.g. 401).
    pub fn blob_exists(&self, repo: &str, digest: &str) -> bool {
        let resp = self.request("HEAD", &format!("/v2/{repo}/blobs/{digest}"), &[], None);
        match resp.status {
            200 => true,
            404 => false,
            s => panic!("HEAD blob {repo}@{digest}: HTTP {s}"),
        }
    }

    /// GET a blob and check its digest.
    pub fn get_blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let resp = self.request("GET", &format!("/v2/{repo}/blobs/{digest}"), &[], None);
        assert_eq!(
            resp.status,
            200,
            "GET blob {repo}@{digest}: HTTP {} {}",
            resp.status,
            resp.text()
        );
        assert_eq!(
            sha256_digest(&resp.body),
            digest,
            "blob content does not match its digest"
        );
        resp.body
    }

    /// Uploads a blob (monolithic: POST then PUT with `?digest=`) unless it
    /// already exists; returns its digest.
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256_digest(data);
        if self.blob_exists(repo, &digest) {
            return digest;
        }
        let resp = self.request(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            Some(&[]),
        );
        assert_eq!(
            resp.status,
            202,
            "POST upload {repo}: HTTP {} {}",
            resp.status,
            resp.text()
        );
        let location = resp
            .header("location")
            .expect("upload Location")
            .to_string();
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={}", pct_encode(&digest));
        let resp = self.request(
            "PUT",
            &url,
            &[("Content-Type", "application/octet-stream")],
            Some(data),
        );
        assert_eq!(
            resp.status,
            201,
            "PUT upload {repo}@{digest}: HTTP {} {}",
            resp.status,
            resp.text()
        );
        digest
    }

    /// Tags of `repo` (empty when the repository is unknown).
    pub fn tags(&self, repo: &str) -> Vec<String> {
        let resp = self.request("GET", &format!("/v2/{repo}/tags/list"), &[], None);
        if resp.status == 404 {
            return Vec::new();
        }
        assert_eq!(
            resp.status,
            200,
            "GET tags {repo}: HTTP {} {}",
            resp.status,
            resp.text()
        );
        string_list(&resp.json()["tags"])
    }

    /// Repositories in the registry.
    pub fn catalog(&self) -> Vec<String> {
        let resp = self.request("GET", "/v2/_catalog", &[], None);
        assert_eq!(
            resp.status,
            200,
            "GET catalog: HTTP {} {}",
            resp.status,
            resp.text()
        );
        string_list(&resp.json()["repositories"])
    }

    /// DELETE a manifest by digest.
    pub fn delete_manifest(&self, repo: &str, digest: &str) {
        let resp = self.request(
            "DELETE",
            &format!("/v2/{repo}/manifests/{digest}"),
            &[],
            None,
        );
        assert_eq!(
            resp.status,
            202,
            "DELETE manifest {repo}@{digest}: HTTP {} {}",
            resp.status,
            resp.text()
        );
    }
}

fn string_list(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The repository named in a `/v2/<repo>/{manifests,blobs,tags}/…` URL, or "".
fn repo_of(url: &str) -> String {
    let path = url.split_once("/v2/").map(|x| x.1).unwrap_or("");
    let path = path.split('?').next().unwrap_or("");
    for marker in ["/manifests/", "/blobs/", "/tags/"] {
        if let Some(i) = path.find(marker) {
            return path[..i].to_string();
        }
    }
    String::new()
}

/// `Bearer realm="…",service="…"` → ("Bearer", {realm, service}).
fn parse_challenge(h: &str) -> (String, HashMap<String, String>) {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(' ' | ',')) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    (scheme.to_string(), params)
}

fn pct_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------
// Token server

/// One request the token server answered.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// The user name sent with HTTP Basic (or the password grant), if any.
    pub account: Option<String>,
    /// Credentials were sent and were right.
    pub authenticated: bool,
    /// HTTP status of the answer (200 or 401).
    pub status: u16,
    /// Scopes asked for (`repository:NAME:pull,push`).
    pub scopes: Vec<String>,
    /// Access granted, in scope syntax (empty for anonymous requests).
    pub granted: Vec<String>,
}

/// Key material shared by every token server of the process: a CA (the
/// registry's `rootcertbundle`) and a P-256 signing key with a certificate
/// the CA signed (sent as the JWT's `x5c` chain).
struct Pki {
    ca_pem: String,
    signer_key_pem: String,
    /// base64 DER certs: signer, CA.
    x5c: Vec<String>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .expect("run openssl (Debian package openssl)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=berth test token CA",
        ]);
        openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "signer.key",
            "-out",
            "signer.csr",
            "-subj",
            "/CN=berth test token signer",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "signer.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "3650",
            "-out",
            "signer.pem",
        ]);
        let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
        let ca_pem = read("ca.pem");
        Pki {
            x5c: vec![pem_body(&read("signer.pem")), pem_body(&ca_pem)],
            ca_pem,
            signer_key_pem: read("signer.key"),
        }
    })
}

/// The base64 body of a single-certificate PEM (= base64 of the DER).
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
}

struct TokenServer {
    addr: SocketAddr,
    root_bundle: PathBuf,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<TokenRequest>>>,
    thread: Option<JoinHandle<()>>,
}

struct TokenCtx {
    user: String,
    password: String,
    key_path: PathBuf,
    x5c: Vec<String>,
    log: Arc<Mutex<Vec<TokenRequest>>>,
}

impl TokenServer {
    fn start(dir: &Path, user: String, password: String) -> TokenServer {
        let pki = pki();
        let root_bundle = dir.join("token-ca.pem");
        std::fs::write(&root_bundle, &pki.ca_pem).unwrap();
        let key_path = dir.join("token-signer.key");
        std::fs::write(&key_path, &pki.signer_key_pem).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token server");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let ctx = Arc::new(TokenCtx {
            user,
            password,
            key_path,
            x5c: pki.x5c.clone(),
            log: log.clone(),
        });
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("token-server-{}", addr.port()))
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let ctx = ctx.clone();
                    std::thread::spawn(move || {
                        let _ = handle_token_conn(conn, &ctx);
                    });
                }
            })
            .expect("spawn token server thread");
        TokenServer {
            addr,
            root_bundle,
            stop,
            log,
            thread: Some(thread),
        }
    }

    fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake accept()
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle_token_conn(mut conn: TcpStream, ctx: &TokenCtx) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    // Read the head.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 || buf.len() > 1 << 16 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut body = buf[head_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let content_length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while body.len() < content_length.min(1 << 20) {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }

    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut params: Vec<(String, String)> = parse_form(query);
    if method == "POST" {
        params.extend(parse_form(&String::from_utf8_lossy(&body)));
    }
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());

    if path != "/token" || !(method == "GET" || method == "POST") {
        return respond(&mut conn, 404, &[], "{\"error\":\"not found\"}");
    }

    // Credentials: HTTP Basic, or an OAuth2 password grant in a POST form.
    let mut creds: Option<(String, String)> = header("authorization").and_then(|a| {
        let (scheme, b64) = a.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = String::from_utf8(B64.decode(b64.trim()).ok()?).ok()?;
        let (u, p) = raw.split_once(':')?;
        Some((u.to_string(), p.to_string()))
    });
    if creds.is_none() && param("grant_type").as_deref() == Some("password") {
        creds = Some((
            param("username").unwrap_or_default(),
            param("password").unwrap_or_default(),
        ));
    }
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(String::from).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();

    let authenticated = matches!(&creds, Some((u, p)) if *u == ctx.user && *p == ctx.password);
    if creds.is_some() && !authenticated {
        ctx.log.lock().unwrap().push(TokenRequest {
            account: creds.map(|c| c.0),
            authenticated: false,
            status: 401,
            scopes,
            granted: Vec::new(),
        });
        return respond(
            &mut conn,
            401,
            &[("WWW-Authenticate", "Basic realm=\"berth-test-token\"")],
            "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"invalid username or password\"}]}",
        );
    }

    // The valid user gets every action it asks for; anonymous gets nothing.
    let mut access = Vec::new();
    let mut granted = Vec::new();
    if authenticated {
        for s in &scopes {
            let Some((typ, rest)) = s.split_once(':') else {
                continue;
            };
            let Some((name, actions)) = rest.rsplit_once(':') else {
                continue;
            };
            let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
            access.push(serde_json::json!({ "type": typ, "name": name, "actions": actions }));
            granted.push(s.clone());
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let account = if authenticated {
        ctx.user.clone()
    } else {
        String::new()
    };
    let header_json = serde_json::json!({ "typ": "JWT", "alg": "ES256", "x5c": ctx.x5c });
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER,
        "sub": account,
        "aud": param("service").unwrap_or_else(|| TOKEN_SERVICE.to_string()),
        "exp": now + 3600,
        "nbf": now - 60,
        "iat": now,
        "jti": format!("{:032x}", rand::random::<u128>()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        B64URL.encode(header_json.to_string()),
        B64URL.encode(claims.to_string())
    );
    let signature = es256_sign(&ctx.key_path, signing_input.as_bytes())?;
    let jwt = format!("{signing_input}.{}", B64URL.encode(signature));
    ctx.log.lock().unwrap().push(TokenRequest {
        account: creds.map(|c| c.0),
        authenticated,
        status: 200,
        scopes,
        granted,
    });
    let body = serde_json::json!({
        "token": jwt,
        "access_token": jwt,
        "expires_in": 3600,
        "issued_at": chrono::DateTime::<chrono::Utc>::from(SystemTime::now())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    respond(
        &mut conn,
        200,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
}

fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

fn respond(
    conn: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    conn.write_all(out.as_bytes())?;
    conn.flush()?;
    let _ = conn.shutdown(Shutdown::Write);
    Ok(())
}

/// ECDSA P-256 with SHA-256 (JWS "ES256") by `openssl dgst -sign`, turned
/// from DER `ECDSA-Sig-Value` into JWS's fixed-width `r || s`.
fn es256_sign(key: &Path, data: &[u8]) -> io::Result<Vec<u8>> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(data)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "openssl dgst -sign: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    ecdsa_der_to_jws(&out.stdout, 32)
        .ok_or_else(|| io::Error::other("openssl gave a malformed ECDSA signature"))
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` → `r || s`, each `width` bytes.
pub fn ecdsa_der_to_jws(der: &[u8], width: usize) -> Option<Vec<u8>> {
    fn len(b: &[u8], i: &mut usize) -> Option<usize> {
        let first = *b.get(*i)?;
        *i += 1;
        if first < 0x80 {
            return Some(first as usize);
        }
        let n = (first & 0x7f) as usize;
        let mut v = 0usize;
        for _ in 0..n {
            v = (v << 8) | *b.get(*i)? as usize;
            *i += 1;
        }
        Some(v)
    }
    let mut i = 0;
    if *der.get(i)? != 0x30 {
        return None;
    }
    i += 1;
    let total = len(der, &mut i)?;
    if i + total != der.len() {
        return None;
    }
    let mut out = Vec::with_capacity(2 * width);
    for _ in 0..2 {
        if *der.get(i)? != 0x02 {
            return None;
        }
        i += 1;
        let n = len(der, &mut i)?;
        let mut int = der.get(i..i + n)?;
        i += n;
        while int.len() > width && int[0] == 0 {
            int = &int[1..];
        }
        if int.len() > width {
            return None;
        }
        out.extend(std::iter::repeat_n(0u8, width - int.len()));
        out.extend_from_slice(int);
    }
    Some(out)
}
