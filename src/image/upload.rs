//! The registry side of a push: the OCI distribution API's write half, over
//! plain reqwest.
//!
//! Why not oci-client's push API: its `mount_blob` asks for a token scoped to
//! the target repository only, so a token-auth registry never mounts across
//! repositories (docker asks for `repository:SOURCE:pull` in the same token);
//! it treats a mount answered with `202 Accepted` (the registry started a
//! normal upload instead) as an error, where the spec says to upload to the
//! session it opened; its streamed push either needs the digest before the
//! first byte (we learn it only after compressing) or sends one PATCH per
//! chunk; and its errors lose the registry's error code, which docker prints
//! (`denied: requested access to the resource is denied`). The write half is
//! five requests; this module does them directly, with one token for all the
//! scopes a push needs.

use std::sync::Mutex;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::{Method, StatusCode, header};

use crate::config::Config;
use crate::image::auth::{AuthStore, Credentials};

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// An error the registry answered with, as docker prints it (`denied: …`).
    #[error("{code}: {message}")]
    Registry { code: String, message: String },
    #[error(
        "unauthorized for {registry}: incorrect username or password (run 'berth login {registry}')"
    )]
    BadCredentials { registry: String },
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable { registry: String, reason: String },
    #[error("registry {registry}: {message}")]
    Protocol { registry: String, message: String },
    #[error("credentials for {registry}: {message}")]
    Credentials { registry: String, message: String },
}

/// What a cross-repository mount request came to.
pub enum Mount {
    /// The blob is now in the target repository.
    Mounted,
    /// The registry did not mount, but opened an upload session at this location.
    Upload(String),
}

/// A push session for one repository of one registry.
pub struct Uploader {
    http: reqwest::Client,
    /// `http://host` or `https://host`.
    base: String,
    registry: String,
    repository: String,
    creds: Option<Credentials>,
    authorization: Mutex<Option<String>>,
    /// What the token is asked for (again when it expires during a long push).
    scopes: Vec<String>,
}

fn reason_of(e: &reqwest::Error) -> String {
    let mut reason = e.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    reason
}

impl Uploader {
    /// Opens a session: asks `/v2/` how to authenticate and gets a token for
    /// push (and pull) on `repository` and pull on each of `mount_sources`.
    pub async fn connect(
        config: &Config,
        auth: &AuthStore,
        registry: &str,
        repository: &str,
        mount_sources: &[String],
    ) -> Result<Uploader, UploadError> {
        let host = if registry == "docker.io" {
            "registry-1.docker.io"
        } else {
            registry
        };
        let scheme = if config.is_insecure(registry) {
            "http"
        } else {
            "https"
        };
        let creds = auth
            .lookup(registry)
            .map_err(|e| UploadError::Credentials {
                registry: registry.to_string(),
                message: e.to_string(),
            })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| UploadError::Protocol {
                registry: registry.to_string(),
                message: e.to_string(),
            })?;
        let mut scopes = vec![format!("repository:{repository}:pull,push")];
        for s in mount_sources {
            if s != repository {
                scopes.push(format!("repository:{s}:pull"));
            }
        }
        let up = Uploader {
            http,
            base: format!("{scheme}://{host}"),
            registry: registry.to_string(),
            repository: repository.to_string(),
            creds,
            authorization: Mutex::new(None),
            scopes,
        };
        up.authenticate().await?;
        Ok(up)
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    fn unreachable(&self, e: reqwest::Error) -> UploadError {
        UploadError::Unreachable {
            registry: self.registry.clone(),
            reason: reason_of(&e),
        }
    }

    fn protocol(&self, message: impl Into<String>) -> UploadError {
        UploadError::Protocol {
            registry: self.registry.clone(),
            message: message.into(),
        }
    }

    async fn authenticate(&self) -> Result<(), UploadError> {
        let scopes = &self.scopes;
        let probe = self
            .http
            .get(format!("{}/v2/", self.base))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if probe.status() != StatusCode::UNAUTHORIZED {
            return Ok(());
        }
        let challenge = probe
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let value = if challenge.to_ascii_lowercase().starts_with("bearer") {
            let params = super::registry::parse_challenge(&challenge);
            let realm = params.get("realm").ok_or_else(|| {
                self.protocol(format!("bearer challenge without realm: {challenge}"))
            })?;
            let mut query: Vec<(&str, String)> = Vec::new();
            if let Some(service) = params.get("service") {
                query.push(("service", service.clone()));
            }
            for s in scopes {
                query.push(("scope", s.clone()));
            }
            let mut req = self.http.get(realm).query(&query);
            if let Some(c) = &self.creds {
                query.push(("account", c.username.clone()));
                req = self
                    .http
                    .get(realm)
                    .query(&query)
                    .basic_auth(&c.username, Some(&c.password));
            }
            let resp = req.send().await.map_err(|e| self.unreachable(e))?;
            match resp.status() {
                s if s.is_success() => {}
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if self.creds.is_some() => {
                    return Err(UploadError::BadCredentials {
                        registry: self.registry.clone(),
                    });
                }
                s => return Err(self.protocol(format!("token server answered HTTP {s}"))),
            }
            let body: serde_json::Value = resp
                .json()
                .await
                .map_err(|e| self.protocol(format!("token server answer: {}", reason_of(&e))))?;
            let token = body
                .get("token")
                .or_else(|| body.get("access_token"))
                .and_then(|t| t.as_str())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| self.protocol("token server answer without a token"))?;
            format!("Bearer {token}")
        } else if let Some(c) = &self.creds {
            let raw = format!("{}:{}", c.username, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        } else {
            // No credentials: requests go anonymously and fail with the registry's words.
            return Ok(());
        };
        *self.authorization.lock().unwrap() = Some(value);
        Ok(())
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, url);
        if let Some(a) = self.authorization.lock().unwrap().as_ref() {
            req = req.header(header::AUTHORIZATION, a.clone());
        }
        req
    }

    /// Sends the request `build` makes; a 401 while holding a bearer token (it
    /// expired: a long push outlives a token of a few minutes) gets a new token
    /// and one more try.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, UploadError> {
        let resp = build().send().await.map_err(|e| self.unreachable(e))?;
        let bearer = self
            .authorization
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|a| a.starts_with("Bearer "));
        if resp.status() != StatusCode::UNAUTHORIZED || !bearer {
            return Ok(resp);
        }
        self.authenticate().await?;
        build().send().await.map_err(|e| self.unreachable(e))
    }

    fn blob_url(&self, digest: &str) -> String {
        format!("{}/v2/{}/blobs/{digest}", self.base, self.repository)
    }

    /// A Location header, made absolute.
    fn location(&self, resp: &reqwest::Response) -> Result<String, UploadError> {
        let loc = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.protocol("upload answer without a Location header"))?;
        if loc.starts_with("http://") || loc.starts_with("https://") {
            Ok(loc.to_string())
        } else if loc.starts_with('/') {
            Ok(format!("{}{loc}", self.base))
        } else {
            Err(self.protocol(format!("unexpected upload location {loc:?}")))
        }
    }

    /// The registry's error as docker shows it.
    async fn error_of(&self, resp: reqwest::Response) -> UploadError {
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        self.error_of_body(status, &body)
    }

    fn error_of_body(&self, status: StatusCode, body: &[u8]) -> UploadError {
        registry_error(status, body).unwrap_or_else(|| {
            self.protocol(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)]).trim()
            ))
        })
    }

    /// Whether the repository has the blob.
    pub async fn blob_exists(&self, digest: &str) -> Result<bool, UploadError> {
        let url = self.blob_url(digest);
        let mut resp = self.send(|| self.request(Method::HEAD, &url)).await?;
        // A server error here is usually the distribution registry reading a blob
        // link that a concurrent upload of the same blob is rewriting (see
        // `put_manifest`); a HEAD is safe to ask again.
        for attempt in 1..=MANIFEST_BLOB_RETRIES {
            if !resp.status().is_server_error() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            resp = self.send(|| self.request(Method::HEAD, &url)).await?;
        }
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.error_of(resp).await),
        }
    }

    /// Asks the registry to mount `digest` from repository `from`.
    pub async fn mount(&self, digest: &str, from: &str) -> Result<Mount, UploadError> {
        let url = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        let resp = self
            .send(|| {
                self.request(Method::POST, &url)
                    .query(&[("mount", digest), ("from", from)])
                    .header(header::CONTENT_LENGTH, "0")
            })
            .await?;
        match resp.status() {
            StatusCode::CREATED => Ok(Mount::Mounted),
            StatusCode::ACCEPTED => Ok(Mount::Upload(self.location(&resp)?)),
            _ => Err(self.error_of(resp).await),
        }
    }

    /// Opens an upload session; returns its location.
    pub async fn start_upload(&self) -> Result<String, UploadError> {
        let url = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        let resp = self
            .send(|| {
                self.request(Method::POST, &url)
                    .header(header::CONTENT_LENGTH, "0")
            })
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self.error_of(resp).await);
        }
        self.location(&resp)
    }

    /// Abandons an upload session (best effort: registries purge stale ones anyway).
    pub async fn cancel_upload(&self, location: &str) {
        let _ = self.request(Method::DELETE, location).send().await;
    }

    fn with_digest(location: &str, digest: &str) -> String {
        let sep = if location.contains('?') { '&' } else { '?' };
        format!("{location}{sep}digest={}", digest.replace(':', "%3A"))
    }

    /// Uploads a whole blob in one PUT to an open session.
    pub async fn put_blob(
        &self,
        location: &str,
        digest: &str,
        data: Bytes,
    ) -> Result<(), UploadError> {
        let url = Self::with_digest(location, digest);
        let resp = self
            .send(|| {
                self.request(Method::PUT, &url)
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .header(header::CONTENT_LENGTH, data.len().to_string())
                    .body(data.clone())
            })
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.error_of(resp).await);
        }
        Ok(())
    }

    /// Streams a blob of unknown length in one PATCH (the spec's streamed
    /// upload); returns the session's next location.
    pub async fn patch_stream(
        &self,
        location: &str,
        body: reqwest::Body,
    ) -> Result<String, UploadError> {
        let resp = self
            .request(Method::PATCH, location)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self.error_of(resp).await);
        }
        self.location(&resp)
    }

    /// Closes an upload session, naming the blob's digest.
    pub async fn finish_upload(&self, location: &str, digest: &str) -> Result<(), UploadError> {
        let url = Self::with_digest(location, digest);
        let resp = self
            .send(|| {
                self.request(Method::PUT, &url)
                    .header(header::CONTENT_LENGTH, "0")
            })
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.error_of(resp).await);
        }
        Ok(())
    }

    /// Uploads a small blob (a config) unless the repository has it.
    pub async fn ensure_small_blob(&self, digest: &str, data: Bytes) -> Result<bool, UploadError> {
        if self.blob_exists(digest).await? {
            return Ok(false);
        }
        let location = self.start_upload().await?;
        self.put_blob(&location, digest, data).await?;
        Ok(true)
    }

    /// PUTs a manifest under a tag (or digest).
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<(), UploadError> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let mut retries_left = MANIFEST_BLOB_RETRIES;
        loop {
            let resp = self
                .send(|| {
                    self.request(Method::PUT, &url)
                        .header(header::CONTENT_TYPE, media_type)
                        .body(bytes.clone())
                })
                .await?;
            if resp.status().is_success() {
                return Ok(());
            }
            let status = resp.status();
            let body = resp.bytes().await.unwrap_or_default();
            // The distribution registry rewrites a repository's link to a blob in
            // place when another client uploads the same blob again, so while
            // concurrent pushes of one image race, its manifest check can see a
            // blob this push has already uploaded as missing for a moment.
            if status == StatusCode::BAD_REQUEST
                && names_error_code(&body, "MANIFEST_BLOB_UNKNOWN")
                && retries_left > 0
            {
                retries_left -= 1;
                let attempt = MANIFEST_BLOB_RETRIES - retries_left;
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                continue;
            }
            return Err(self.error_of_body(status, &body));
        }
    }
}

/// How often a manifest refused for a missing blob, or a blob check that met a
/// server error, is sent again (see `put_manifest`).
const MANIFEST_BLOB_RETRIES: u32 = 5;

/// Whether a registry error answer lists an error with this code.
fn names_error_code(body: &[u8], code: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: String,
    }
    serde_json::from_slice::<Envelope>(body).is_ok_and(|e| e.errors.iter().any(|x| x.code == code))
}

/// docker's rendering of a registry error answer: the first error's code,
/// lower case with spaces (`NAME_UNKNOWN` → `name unknown`), and its message;
/// a bare 401/403 as docker's client words them.
fn registry_error(status: StatusCode, body: &[u8]) -> Option<UploadError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(env) = serde_json::from_slice::<Envelope>(body)
        && let Some(first) = env.errors.into_iter().next()
    {
        return Some(UploadError::Registry {
            code: first.code.to_ascii_lowercase().replace('_', " "),
            message: first.message,
        });
    }
    match status {
        StatusCode::UNAUTHORIZED => Some(UploadError::Registry {
            code: "unauthorized".into(),
            message: "authentication required".into(),
        }),
        StatusCode::FORBIDDEN => Some(UploadError::Registry {
            code: "denied".into(),
            message: "requested access to the resource is denied".into(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_read_as_docker_prints_them() {
        let e = registry_error(
            StatusCode::UNAUTHORIZED,
            br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#,
        )
        .unwrap();
        assert_eq!(e.to_string(), "unauthorized: authentication required");
        let e = registry_error(
            StatusCode::NOT_FOUND,
            br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        )
        .unwrap();
        assert_eq!(
            e.to_string(),
            "name unknown: repository name not known to registry"
        );
        let e = registry_error(StatusCode::FORBIDDEN, b"").unwrap();
        assert_eq!(
            e.to_string(),
            "denied: requested access to the resource is denied"
        );
        assert!(registry_error(StatusCode::INTERNAL_SERVER_ERROR, b"oops").is_none());
    }

    #[test]
    fn digest_is_appended_to_the_location() {
        assert_eq!(
            Uploader::with_digest("http://r/v2/a/blobs/uploads/x?_state=s", "sha256:ab"),
            "http://r/v2/a/blobs/uploads/x?_state=s&digest=sha256%3Aab"
        );
        assert_eq!(
            Uploader::with_digest("http://r/u/x", "sha256:ab"),
            "http://r/u/x?digest=sha256%3Aab"
        );
    }
}
