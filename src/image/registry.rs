//! Talking to OCI / Docker v2 registries, over oci-client.
//!
//! [`RegistryClient`] is made for one repository: it knows which endpoints to
//! try (mirrors first, then the registry itself), which of them are plain
//! HTTP, and the credentials for each. It fetches manifests (verifying their
//! digest), small blobs, and layer blobs as streams that oci-client checks
//! against their digest as the last byte arrives.

use bytes::Bytes;
use futures::stream::BoxStream;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::config::Config;
use crate::image::auth::AuthStore;
use crate::image::reference::Reference;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const ACCEPTED_MANIFESTS: &[&str] = &[
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("manifest for {0} not found: manifest unknown")]
    ManifestUnknown(String),
    #[error("repository {0} not found: name unknown")]
    NameUnknown(String),
    #[error("pull access denied for {0}, repository does not exist or may require 'berth login'")]
    AccessDenied(String),
    #[error(
        "unauthorized for {registry}: incorrect username or password (run 'berth login {registry}')"
    )]
    BadCredentials { registry: String },
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable { registry: String, reason: String },
    #[error("registry {registry} answered with an invalid manifest for {reference}: {reason}")]
    BadManifest {
        registry: String,
        reference: String,
        reason: String,
    },
    #[error("unsupported manifest media type {media_type} for {reference}")]
    UnsupportedMediaType {
        media_type: String,
        reference: String,
    },
    #[error("registry {registry}: {message}")]
    Other { registry: String, message: String },
}

/// A manifest or index as the registry sent it, byte for byte.
#[derive(Debug, Clone)]
pub struct RawManifest {
    pub bytes: Bytes,
    pub digest: String,
    pub media_type: String,
}

/// What a manifest turned out to be.
pub enum ParsedManifest {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

impl RawManifest {
    pub fn parse(&self, registry: &str, reference: &str) -> Result<ParsedManifest, RegistryError> {
        let bad = |reason: String| RegistryError::BadManifest {
            registry: registry.to_string(),
            reference: reference.to_string(),
            reason,
        };
        match self.media_type.as_str() {
            OCI_MANIFEST | DOCKER_MANIFEST => ImageManifest::from_reader(&self.bytes[..])
                .map(|m| ParsedManifest::Image(Box::new(m)))
                .map_err(|e| bad(e.to_string())),
            OCI_INDEX | DOCKER_MANIFEST_LIST => ImageIndex::from_reader(&self.bytes[..])
                .map(|i| ParsedManifest::Index(Box::new(i)))
                .map_err(|e| bad(e.to_string())),
            other => Err(RegistryError::UnsupportedMediaType {
                media_type: other.to_string(),
                reference: reference.to_string(),
            }),
        }
    }
}

/// Works out a manifest's media type: its `mediaType` field, else the
/// Content-Type oci-client does not give us, else its shape (OCI allows the
/// field to be absent).
fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if let Some(mt) = value.get("mediaType").and_then(|v| v.as_str()) {
        return Some(mt.to_string());
    }
    if value.get("manifests").is_some() {
        Some(OCI_INDEX.to_string())
    } else if value.get("layers").is_some() {
        Some(OCI_MANIFEST.to_string())
    } else {
        None
    }
}

struct Endpoint {
    host: String,
    client: oci_client::Client,
    auth: RegistryAuth,
    has_credentials: bool,
}

/// A client for one repository of one registry (and its mirrors).
pub struct RegistryClient {
    reference: Reference,
    endpoints: Vec<Endpoint>,
    /// Index into `endpoints` of the one that served the manifest; blobs come from it too.
    chosen: std::sync::atomic::AtomicUsize,
    /// Credentials that could not be read (the pull goes on anonymously for that endpoint).
    pub warnings: Vec<String>,
}

impl RegistryClient {
    pub fn new(config: &Config, auth: &AuthStore, reference: &Reference) -> RegistryClient {
        let mut hosts: Vec<String> = config.mirrors_for(&reference.registry).to_vec();
        hosts.push(reference.registry.clone());
        let mut warnings = Vec::new();
        let endpoints = hosts
            .into_iter()
            .map(|host| {
                let protocol = if config.is_insecure(&host) {
                    ClientProtocol::Http
                } else {
                    ClientProtocol::Https
                };
                let client = oci_client::Client::new(ClientConfig {
                    protocol,
                    user_agent: concat!("berth/", env!("CARGO_PKG_VERSION")),
                    connect_timeout: Some(std::time::Duration::from_secs(15)),
                    read_timeout: Some(std::time::Duration::from_secs(120)),
                    ..Default::default()
                });
                // Credentials that cannot be read (a malformed docker config, say) must not
                // stop a pull that needs none: fall back to anonymous, and say so.
                let creds = match auth.lookup(&host) {
                    Ok(c) => c,
                    Err(e) => {
                        warnings.push(format!("credentials for {host}: {e}"));
                        None
                    }
                };
                let has_credentials = creds.is_some();
                let auth = creds
                    .map(|c| RegistryAuth::Basic(c.username, c.password))
                    .unwrap_or(RegistryAuth::Anonymous);
                Endpoint {
                    host,
                    client,
                    auth,
                    has_credentials,
                }
            })
            .collect();
        RegistryClient {
            reference: reference.clone(),
            endpoints,
            chosen: std::sync::atomic::AtomicUsize::new(0),
            warnings,
        }
    }

    fn oci_reference(
        &self,
        endpoint: &Endpoint,
        tag_or_digest: &TagOrDigest,
    ) -> oci_client::Reference {
        let registry = self.reference.registry.clone();
        let repository = self.reference.repository.clone();
        let mut r = match tag_or_digest {
            TagOrDigest::Tag(t) => oci_client::Reference::with_tag(registry, repository, t.clone()),
            TagOrDigest::Digest(d) => {
                oci_client::Reference::with_digest(registry, repository, d.clone())
            }
        };
        if endpoint.host != self.reference.registry {
            r.set_mirror_registry(endpoint.host.clone());
        } else if self.reference.registry == "docker.io" {
            r.set_mirror_registry("registry-1.docker.io".to_string());
        }
        r
    }

    /// Fetches a manifest by tag or digest, trying mirrors first. The digest is verified.
    pub async fn fetch_manifest(&self, what: &TagOrDigest) -> Result<RawManifest, RegistryError> {
        let mut last_err = None;
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            let r = self.oci_reference(endpoint, what);
            match endpoint
                .client
                .pull_manifest_raw(&r, &endpoint.auth, ACCEPTED_MANIFESTS)
                .await
            {
                Ok((bytes, digest)) => {
                    let media_type =
                        sniff_media_type(&bytes).ok_or_else(|| RegistryError::BadManifest {
                            registry: endpoint.host.clone(),
                            reference: self.display(what),
                            reason: "not a JSON manifest or index".into(),
                        })?;
                    self.chosen.store(i, std::sync::atomic::Ordering::Relaxed);
                    return Ok(RawManifest {
                        bytes,
                        digest,
                        media_type,
                    });
                }
                Err(e) => last_err = Some(self.map_error(endpoint, what, e)),
            }
        }
        Err(last_err.expect("at least one endpoint"))
    }

    /// Fetches a manifest by digest from the endpoint that served the first one.
    pub async fn fetch_manifest_by_digest(
        &self,
        digest: &str,
    ) -> Result<RawManifest, RegistryError> {
        let endpoint = self.endpoint();
        let what = TagOrDigest::Digest(digest.to_string());
        let r = self.oci_reference(endpoint, &what);
        let (bytes, digest) = endpoint
            .client
            .pull_manifest_raw(&r, &endpoint.auth, ACCEPTED_MANIFESTS)
            .await
            .map_err(|e| self.map_error(endpoint, &what, e))?;
        let media_type = sniff_media_type(&bytes).ok_or_else(|| RegistryError::BadManifest {
            registry: endpoint.host.clone(),
            reference: self.display(&what),
            reason: "not a JSON manifest".into(),
        })?;
        Ok(RawManifest {
            bytes,
            digest,
            media_type,
        })
    }

    fn endpoint(&self) -> &Endpoint {
        &self.endpoints[self.chosen.load(std::sync::atomic::Ordering::Relaxed)]
    }

    /// A stream of a blob's bytes; ends with an error if the digest does not match.
    pub async fn blob_stream(
        &self,
        descriptor: &Descriptor,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, RegistryError> {
        let endpoint = self.endpoint();
        let digest = descriptor.digest().to_string();
        let what = TagOrDigest::Digest(digest.clone());
        let r = self.oci_reference(endpoint, &what);
        let sized = endpoint
            .client
            .pull_blob_stream(&r, digest.as_str())
            .await
            .map_err(|e| self.map_error(endpoint, &what, e))?;
        Ok(sized.stream)
    }

    /// A whole small blob (an image config), digest-verified.
    pub async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<Vec<u8>, RegistryError> {
        use futures::TryStreamExt;
        const LIMIT: u64 = 64 << 20;
        if descriptor.size() > LIMIT {
            return Err(RegistryError::Other {
                registry: self.endpoint().host.clone(),
                message: format!(
                    "blob {} is too large for a config ({} bytes)",
                    descriptor.digest(),
                    descriptor.size()
                ),
            });
        }
        let mut stream = self.blob_stream(descriptor).await?;
        let mut out = Vec::with_capacity(descriptor.size() as usize);
        while let Some(chunk) = stream.try_next().await.map_err(|e| RegistryError::Other {
            registry: self.endpoint().host.clone(),
            message: format!("reading blob {}: {e}", descriptor.digest()),
        })? {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > LIMIT {
                return Err(RegistryError::Other {
                    registry: self.endpoint().host.clone(),
                    message: format!("blob {} is larger than it claims", descriptor.digest()),
                });
            }
        }
        Ok(out)
    }

    fn display(&self, what: &TagOrDigest) -> String {
        let name = self.reference.familiar_name();
        match what {
            TagOrDigest::Tag(t) => format!("{name}:{t}"),
            TagOrDigest::Digest(d) => format!("{name}@{d}"),
        }
    }

    fn map_error(
        &self,
        endpoint: &Endpoint,
        what: &TagOrDigest,
        e: OciDistributionError,
    ) -> RegistryError {
        let registry = endpoint.host.clone();
        match e {
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<String> = envelope
                    .errors
                    .iter()
                    .map(|e| format!("{:?}", e.code))
                    .collect();
                let text = codes.join(",").to_ascii_lowercase();
                if text.contains("manifestunknown") || text.contains("manifest_unknown") {
                    RegistryError::ManifestUnknown(self.display(what))
                } else if text.contains("nameunknown") || text.contains("name_unknown") {
                    RegistryError::NameUnknown(self.reference.familiar_name())
                } else if text.contains("unauthorized") || text.contains("denied") {
                    if endpoint.has_credentials {
                        RegistryError::BadCredentials { registry }
                    } else {
                        RegistryError::AccessDenied(self.reference.familiar_name())
                    }
                } else {
                    let messages: Vec<String> = envelope
                        .errors
                        .iter()
                        .map(|e| format!("{:?}: {}", e.code, e.message))
                        .collect();
                    RegistryError::Other {
                        registry,
                        message: messages.join("; "),
                    }
                }
            }
            OciDistributionError::ImageManifestNotFoundError(_) => {
                RegistryError::ManifestUnknown(self.display(what))
            }
            OciDistributionError::UnauthorizedError { .. } => {
                if endpoint.has_credentials {
                    RegistryError::BadCredentials { registry }
                } else {
                    RegistryError::AccessDenied(self.reference.familiar_name())
                }
            }
            OciDistributionError::AuthenticationFailure(_) => {
                RegistryError::BadCredentials { registry }
            }
            OciDistributionError::ServerError { code: 404, .. } => {
                RegistryError::ManifestUnknown(self.display(what))
            }
            OciDistributionError::RequestError(err) => {
                let mut reason = err.to_string();
                let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&err);
                while let Some(s) = source {
                    reason = s.to_string();
                    source = s.source();
                }
                RegistryError::Unreachable { registry, reason }
            }
            other => RegistryError::Other {
                registry,
                message: other.to_string(),
            },
        }
    }
}

/// What to fetch a manifest by.
#[derive(Debug, Clone)]
pub enum TagOrDigest {
    Tag(String),
    Digest(String),
}

/// The platform to pull, as `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid platform {0:?}: expected os/arch[/variant], e.g. linux/arm64/v8")]
pub struct PlatformError(String);

impl Platform {
    /// The platform berth runs on.
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            other => (other, None),
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: variant.map(String::from),
        }
    }

    pub fn parse(s: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &&str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(valid) {
            return Err(PlatformError(s.to_string()));
        }
        let architecture = normalize_arch(&parts[1].to_ascii_lowercase());
        let variant = parts.get(2).map(|v| v.to_ascii_lowercase());
        Ok(Platform {
            os: parts[0].to_ascii_lowercase(),
            architecture,
            variant,
        })
    }

    /// The variant an architecture implies when none is given.
    fn effective_variant(&self) -> Option<&str> {
        match (self.architecture.as_str(), self.variant.as_deref()) {
            (_, Some(v)) => Some(v),
            ("arm64", None) => Some("v8"),
            ("arm", None) => Some("v7"),
            _ => None,
        }
    }

    /// Whether an index entry with this os/arch/variant serves `self`.
    pub fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        let other = Platform {
            os: os.to_string(),
            architecture: normalize_arch(architecture),
            variant: variant.filter(|v| !v.is_empty()).map(String::from),
        };
        self.os == other.os
            && self.architecture == other.architecture
            && self.effective_variant() == other.effective_variant()
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn normalize_arch(arch: &str) -> String {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        other => other,
    }
    .to_string()
}

/// Picks the manifest for `platform` from an index.
pub fn select_platform<'a>(index: &'a ImageIndex, platform: &Platform) -> Option<&'a Descriptor> {
    index.manifests().iter().find(|d| {
        d.platform().as_ref().is_some_and(|p| {
            platform.matches(
                &p.os().to_string(),
                &p.architecture().to_string(),
                p.variant().as_deref(),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_parsing_and_matching() {
        let p = Platform::parse("linux/arm64").unwrap();
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(p.matches("linux", "arm64", None));
        assert!(!p.matches("linux", "amd64", None));
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert!(p.matches("linux", "arm64", None));
        let p = Platform::parse("linux/arm/v6").unwrap();
        assert!(!p.matches("linux", "arm", Some("v7")));
        assert!(p.matches("linux", "arm", Some("v6")));
        assert_eq!(
            Platform::parse("linux/x86_64").unwrap().architecture,
            "amd64"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Platform::parse("linux/arm64/v8").unwrap().to_string(),
            "linux/arm64/v8"
        );
    }

    #[test]
    fn media_type_sniffing() {
        assert_eq!(
            sniff_media_type(br#"{"schemaVersion":2,"manifests":[]}"#).unwrap(),
            OCI_INDEX
        );
        assert_eq!(
            sniff_media_type(br#"{"schemaVersion":2,"layers":[]}"#).unwrap(),
            OCI_MANIFEST
        );
        assert_eq!(
            sniff_media_type(
                br#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#
            )
            .unwrap(),
            DOCKER_MANIFEST
        );
        assert!(sniff_media_type(b"not json").is_none());
    }
}

/// Checks credentials the way `docker login` does: ask `/v2/` what it wants,
/// then answer a Basic challenge directly or get a token from a Bearer realm.
/// A wrong password is reported as such.
pub async fn verify_login(
    config: &Config,
    registry: &str,
    username: &str,
    password: &str,
) -> Result<(), RegistryError> {
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
    let client = reqwest::Client::builder()
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| RegistryError::Other {
            registry: registry.to_string(),
            message: e.to_string(),
        })?;
    let unreachable = |e: reqwest::Error| {
        let mut reason = e.to_string();
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        RegistryError::Unreachable {
            registry: registry.to_string(),
            reason,
        }
    };
    let url = format!("{scheme}://{host}/v2/");
    let probe = client.get(&url).send().await.map_err(unreachable)?;
    if probe.status().is_success() {
        return Ok(());
    }
    let challenge = probe
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bad = || RegistryError::BadCredentials {
        registry: registry.to_string(),
    };
    let status = if challenge.to_ascii_lowercase().starts_with("bearer") {
        let params = parse_challenge(&challenge);
        let realm = params.get("realm").ok_or_else(|| RegistryError::Other {
            registry: registry.to_string(),
            message: format!("bearer challenge without realm: {challenge}"),
        })?;
        let mut query = vec![("account", username.to_string())];
        if let Some(service) = params.get("service") {
            query.push(("service", service.clone()));
        }
        client
            .get(realm)
            .query(&query)
            .basic_auth(username, Some(password))
            .send()
            .await
            .map_err(unreachable)?
            .status()
    } else {
        client
            .get(&url)
            .basic_auth(username, Some(password))
            .send()
            .await
            .map_err(unreachable)?
            .status()
    };
    match status.as_u16() {
        200..=299 => Ok(()),
        401 | 403 => Err(bad()),
        code => Err(RegistryError::Other {
            registry: registry.to_string(),
            message: format!("login answered HTTP {code}"),
        }),
    }
}

/// `Bearer realm="…",service="…",scope="…"` → its parameters.
pub(crate) fn parse_challenge(header: &str) -> std::collections::HashMap<String, String> {
    let rest = header.split_once(' ').map(|(_, r)| r).unwrap_or("");
    let mut out = std::collections::HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        let key: String = chars
            .by_ref()
            .take_while(|&c| c != '=')
            .collect::<String>()
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_string();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
            // skip to the comma
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
        } else {
            value = chars
                .by_ref()
                .take_while(|&c| c != ',')
                .collect::<String>()
                .trim()
                .to_string();
        }
        out.insert(key.to_ascii_lowercase(), value);
    }
    out
}

#[cfg(test)]
mod challenge_tests {
    #[test]
    fn parses_bearer_challenges() {
        let p = super::parse_challenge(
            r#"Bearer realm="http://127.0.0.1:5001/token",service="reg",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(p["realm"], "http://127.0.0.1:5001/token");
        assert_eq!(p["service"], "reg");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
    }
}
