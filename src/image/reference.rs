//! Image references with docker's normalisation.
//!
//! `busybox` → `docker.io/library/busybox:latest`, `user/app` →
//! `docker.io/user/app:latest`, `localhost:5000/x` stays on `localhost:5000`.
//!
//! The grammar and the order of the checks follow docker's
//! `distribution/reference` (`ParseNormalizedNamed` + `TagNameOnly`), so that
//! the same strings are accepted and rejected, with docker's error messages:
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [domain "/"] remote-name
//! domain           := host [":" port-number]
//! host             := domain-name | "[" IPv6 "]"
//! domain-name      := domain-component ["." domain-component]*
//! domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! port-number      := /[0-9]+/
//! remote-name      := path-component ["/" path-component]*
//! path-component   := alpha-numeric [separator alpha-numeric]*
//! alpha-numeric    := /[a-z0-9]+/
//! separator        := /[_.]|__|[-]+/
//! tag              := /[\w][\w.-]{0,127}/
//! digest           := algorithm ":" hex   (sha256: 64, sha384: 96, sha512: 128 lowercase hex)
//! ```
//!
//! Normalisation (docker's `splitDockerDomain`): the part before the first `/`
//! is a registry when it contains `.` or `:`, is `localhost`, or contains an
//! uppercase letter; otherwise the registry is `docker.io`. `index.docker.io`
//! becomes `docker.io`, and a single-component docker.io repository gets the
//! `library/` prefix.
//!
//! One deliberate difference: docker accepts a first component that is
//! detected as a domain but is not a valid host name while the whole name is a
//! valid path (`a_b.c/x`), and then carries a reference with an *empty*
//! domain which fails later at the registry. berth has no use for a
//! reference without a registry and rejects it at once with `invalid
//! reference format`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// docker's default registry (the "familiar" domain).
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Where Docker Hub's registry API actually lives.
pub const DOCKER_HUB_API_REGISTRY: &str = "registry-1.docker.io";
/// The legacy name of Docker Hub, normalised to [`DEFAULT_REGISTRY`].
pub const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
/// The namespace of official images on Docker Hub.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag added when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest accepted repository path (without the registry), as docker
/// 28 (distribution/reference ≥ 0.6 counts the path only; older versions
/// counted registry + "/" + path).
pub const REPOSITORY_NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not an image reference. `Display` gives docker's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Anything that does not fit the grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// The repository part (after normalisation) has uppercase letters.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    RepositoryUppercase(String),
    /// The name has uppercase letters where the grammar forbids them, found
    /// by docker's second check (e.g. `Foo_Bar/x`: `Foo_Bar` is taken as a
    /// domain but is not a valid host name).
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// The repository path is longer than 255 characters.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// A bare 64-hex string: docker refuses it as a name (it looks like an ID).
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexadecimalName(String),
    /// Digest with a known algorithm whose hex part is not lowercase hex.
    #[error("invalid checksum digest format")]
    DigestInvalidFormat,
    /// Digest with a known algorithm whose hex part has the wrong length.
    #[error("invalid checksum digest length")]
    DigestInvalidLength,
    /// Digest with an algorithm other than sha256, sha384, sha512.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
}

/// A normalised image reference.
///
/// `registry` is the registry as the user names it (`docker.io`,
/// `localhost:5000`, `[::1]:5000`, `ghcr.io`); `repository` is the path
/// inside it (`library/busybox`). At least one of `tag` and `digest` is set
/// by [`Reference::parse`]; [`Reference::parse_named`] may leave both unset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// docker's `ParseNormalizedNamed` followed by `TagNameOnly`: adds
    /// `docker.io`, `library/` and `:latest` (when neither a tag nor a
    /// digest is given).
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let mut r = Self::parse_named(s)?;
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some(DEFAULT_TAG.to_string());
        }
        Ok(r)
    }

    /// docker's `ParseNormalizedNamed`: like [`Reference::parse`] but never
    /// adds a default tag (for `images REPO`, `-f reference=`, `rmi` lookups).
    pub fn parse_named(s: &str) -> Result<Reference, ReferenceError> {
        if is_identifier(s) {
            return Err(ReferenceError::HexadecimalName(s.to_string()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = match remainder.find(':') {
            Some(i) => &remainder[..i],
            None => &remainder[..],
        };
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::RepositoryUppercase(remote.to_string()));
        }
        let full = format!("{domain}/{remainder}");
        let parts = match match_reference(&full) {
            Some(p) => p,
            None => {
                let lower = full.to_lowercase();
                if lower != full && match_reference(&lower).is_some() {
                    return Err(ReferenceError::NameContainsUppercase);
                }
                return Err(ReferenceError::InvalidFormat);
            }
        };
        if parts.path.len() > REPOSITORY_NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        if let Some(d) = parts.digest {
            validate_digest(d)?;
        }
        let Some(registry) = parts.domain else {
            // docker would return a reference with an empty domain here.
            return Err(ReferenceError::InvalidFormat);
        };
        Ok(Reference {
            registry: registry.to_string(),
            repository: parts.path.to_string(),
            tag: parts.tag.map(str::to_string),
            digest: parts.digest.map(str::to_string),
        })
    }

    /// The full name without tag or digest: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The name as docker shows it: `busybox`, `user/app`,
    /// `localhost:5000/x`, `library/a/b` (nested paths keep `library/`).
    pub fn familiar_name(&self) -> String {
        if self.registry != DEFAULT_REGISTRY {
            return self.name();
        }
        if let Some(rest) = self.repository.strip_prefix(OFFICIAL_REPO_PREFIX)
            && !rest.contains('/')
        {
            return rest.to_string();
        }
        self.repository.clone()
    }

    /// The reference as docker shows it: `busybox:latest`,
    /// `busybox@sha256:…`, `busybox:1@sha256:…`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        self.push_suffix(&mut s);
        s
    }

    /// A copy with `tag` as its tag (the digest, if any, is kept, as docker's
    /// `WithTag`). The tag is not validated: check it with [`is_valid_tag`]
    /// when it comes from the user.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_string()),
            ..self.clone()
        }
    }

    /// A copy with `d` as its digest (the tag, if any, is kept, as docker's
    /// `WithDigest`). Not validated: see [`validate_digest`].
    pub fn with_digest(&self, d: &str) -> Reference {
        Reference {
            digest: Some(d.to_string()),
            ..self.clone()
        }
    }

    /// The host to talk to for the registry API: `registry-1.docker.io` for
    /// `docker.io`, the registry itself otherwise.
    pub fn api_registry(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            DOCKER_HUB_API_REGISTRY
        } else {
            &self.registry
        }
    }

    /// True for registries docker talks plain HTTP to without configuration:
    /// `localhost[:port]`, `127.0.0.0/8[:port]`, `[::1][:port]`.
    pub fn is_insecure_default(&self) -> bool {
        is_insecure_default_registry(&self.registry)
    }

    fn push_suffix(&self, s: &mut String) {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
    }
}

impl fmt::Display for Reference {
    /// The full reference: `docker.io/library/busybox:latest`,
    /// `name@digest`, `name:tag@digest` when both are set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_suffix(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    /// Same as [`Reference::parse`] (adds `:latest`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

impl serde::Serialize for Reference {
    /// As its full string (`docker.io/library/busybox:latest`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    /// From a reference string, with [`Reference::parse_named`] (no default
    /// tag is added, so serialisation round-trips).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Reference::parse_named(&s).map_err(serde::de::Error::custom)
    }
}

/// True for registries docker talks plain HTTP to by default:
/// `localhost[:port]`, any `127.0.0.0/8` address `[:port]`, and `[::1][:port]`
/// (also a bare `::1`). `registry` is a registry as in [`Reference::registry`].
pub fn is_insecure_default_registry(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        match rest.find(']') {
            Some(i) => &rest[..i],
            None => return false,
        }
    } else if registry.matches(':').count() > 1 {
        registry // bare IPv6 without brackets or port
    } else {
        registry.split(':').next().unwrap_or(registry)
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return ip.is_loopback();
    }
    if let Ok(ip) = host.parse::<Ipv6Addr>() {
        return ip.is_loopback();
    }
    false
}

/// True when `tag` is a valid tag: `[\w][\w.-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// Checks a digest string (`sha256:<64 lowercase hex>`) as docker does for a
/// reference's digest: the reference grammar (`algo:` + at least 32 hex
/// digits) and then go-digest's validation, with its error messages.
pub fn validate_digest(d: &str) -> Result<(), ReferenceError> {
    if !matches_digest_pattern(d) {
        return Err(ReferenceError::InvalidFormat);
    }
    // matches_digest_pattern guarantees exactly one ':'.
    let (algo, hex) = d.split_once(':').unwrap_or((d, ""));
    let expected_len = match algo {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(if matches_go_digest_pattern(d) {
                ReferenceError::DigestUnsupported
            } else {
                ReferenceError::DigestInvalidFormat
            });
        }
    };
    if hex.len() != expected_len {
        return Err(ReferenceError::DigestInvalidLength);
    }
    if !hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ReferenceError::DigestInvalidFormat);
    }
    Ok(())
}

/// docker's `splitDockerDomain`: (domain, remainder) where the remainder still
/// carries the tag and digest.
fn split_docker_domain(s: &str) -> (&str, String) {
    let (domain, remainder) = match s.split_once('/') {
        None => return (DEFAULT_REGISTRY, format!("{OFFICIAL_REPO_PREFIX}{s}")),
        Some((first, rest)) => {
            if first == "localhost" {
                (first, rest)
            } else if first == LEGACY_DEFAULT_REGISTRY {
                (DEFAULT_REGISTRY, rest)
            } else if first.contains(['.', ':']) || first.to_lowercase() != first {
                (first, rest)
            } else {
                (DEFAULT_REGISTRY, s)
            }
        }
    };
    if domain == DEFAULT_REGISTRY && !remainder.contains('/') {
        (domain, format!("{OFFICIAL_REPO_PREFIX}{remainder}"))
    } else {
        (domain, remainder.to_string())
    }
}

/// The pieces of a string matching docker's anchored `ReferenceRegexp`.
struct Parts<'a> {
    /// `None` when the name only matches without a domain.
    domain: Option<&'a str>,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Matches `^(name)(?::(tag))?(?:@(digest))?$` and splits the name into domain
/// and path the way docker's `anchoredNameRegexp` captures them (a domain is
/// preferred when both readings match).
fn match_reference(s: &str) -> Option<Parts<'_>> {
    // '@' appears in neither name nor tag nor digest: at most one, as separator.
    let (left, digest) = match s.split_once('@') {
        Some((l, d)) => {
            if !matches_digest_pattern(d) {
                return None;
            }
            (l, Some(d))
        }
        None => (s, None),
    };
    // A ':' after the last '/' can only be the tag separator: inside a name a
    // ':' may only appear in the domain, which is always followed by '/'.
    let last_slash = left.rfind('/');
    let (name, tag) = match left.rfind(':') {
        Some(c) if last_slash.is_none_or(|sl| c > sl) => {
            let t = &left[c + 1..];
            if !is_valid_tag(t) {
                return None;
            }
            (&left[..c], Some(t))
        }
        _ => (left, None),
    };
    if let Some((first, rest)) = name.split_once('/')
        && is_domain_and_port(first)
        && is_remote_name(rest)
    {
        return Some(Parts {
            domain: Some(first),
            path: rest,
            tag,
            digest,
        });
    }
    if is_remote_name(name) {
        return Some(Parts {
            domain: None,
            path: name,
            tag,
            digest,
        });
    }
    None
}

/// `[a-f0-9]{64}`, anchored.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// remote-name := path-component ("/" path-component)*
fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [._] | __ | -+
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false; // empty component, or separator not followed by alnum
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// domain := (domain-name | "[" [a-fA-F0-9:]+ "]") (":" [0-9]+)?
fn is_domain_and_port(s: &str) -> bool {
    let (host_ok, rest) = if let Some(inner) = s.strip_prefix('[') {
        match inner.find(']') {
            Some(i) => {
                let addr = &inner[..i];
                let ok =
                    !addr.is_empty() && addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
                (ok, &inner[i + 1..])
            }
            None => return false,
        }
    } else {
        let (host, rest) = match s.find(':') {
            Some(i) => (&s[..i], &s[i..]),
            None => (s, ""),
        };
        (host.split('.').all(is_domain_component), rest)
    };
    if !host_ok {
        return false;
    }
    match rest.strip_prefix(':') {
        None => rest.is_empty(),
        Some(port) => !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()),
    }
}

/// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
fn is_domain_component(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
}

/// The reference grammar's digest:
/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`.
fn matches_digest_pattern(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    if hex.len() < 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    algo.split(['-', '_', '+', '.']).all(|comp| {
        let b = comp.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(|c| c.is_ascii_alphanumeric())
    })
}

/// go-digest's `DigestRegexpAnchored`:
/// `[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`.
fn matches_go_digest_pattern(d: &str) -> bool {
    let Some((algo, enc)) = d.split_once(':') else {
        return false;
    };
    let lower_alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !enc.is_empty()
        && enc
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-'))
        && algo
            .split(['.', '+', '_', '-'])
            .all(|comp| !comp.is_empty() && comp.bytes().all(lower_alnum))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn full(s: &str) -> String {
        match Reference::parse(s) {
            Ok(r) => r.to_string(),
            Err(e) => panic!("{s:?} should parse, got {e}"),
        }
    }

    fn err(s: &str) -> String {
        match Reference::parse(s) {
            Ok(r) => panic!("{s:?} should be rejected, parsed as {r}"),
            Err(e) => e.to_string(),
        }
    }

    /// distribution/reference TestValidateReferenceName and
    /// TestValidateRemoteName (valid names).
    #[test]
    fn docker_valid_names() {
        let valid = [
            "docker/docker",
            "library/debian",
            "debian",
            "docker.io/docker/docker",
            "docker.io/library/debian",
            "docker.io/debian",
            "index.docker.io/docker/docker",
            "index.docker.io/library/debian",
            "index.docker.io/debian",
            "127.0.0.1:5000/docker/docker",
            "127.0.0.1:5000/library/debian",
            "127.0.0.1:5000/debian",
            "192.168.0.1",
            "192.168.0.1:80",
            "192.168.0.1:8/debian",
            "192.168.0.2:25000/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker",
            "[fc00::1]:5000/docker/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker",
            "DOCKER/docker",
            "docker-rules/docker",
            "docker---rules/docker",
            "doc/docker",
            "d/docker",
            "jess/t",
            "dock__er/docker",
        ];
        for name in valid {
            if let Err(e) = Reference::parse(name) {
                panic!("{name:?} should be valid: {e}");
            }
        }
    }

    /// distribution/reference TestValidateReferenceName and
    /// TestValidateRemoteName (invalid names).
    #[test]
    fn docker_invalid_names() {
        let long_ns =
            "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(4);
        let long = format!("{long_ns}/docker");
        let invalid = [
            "https://github.com/docker/docker",
            "docker/Docker",
            "-docker",
            "-docker/docker",
            "-docker.io/docker/docker",
            "docker///docker",
            "docker.io/docker/Docker",
            "docker.io/docker///docker",
            "[fc00::1]",
            "[fc00::1]:5000",
            "fc00::1:5000/debian",
            "[fe80::1%eth0]:5000/debian",
            "[2001:db8:3:4::192.0.2.33]:5000/debian",
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "docker-/docker",
            "-docker-/docker",
            "____/____",
            "_docker/_docker",
            "dock..er/docker",
            "dock_.er/docker",
            "dock-.er/docker",
            "docker/",
            &long,
            // reference_test.go
            "",
            ":justtag",
            "@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "repo@sha256:ffffffffffffffffffffffffffffffffff",
            "validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "Uppercase:tag",
            "test:5000/Uppercase/lowercase:tag",
            "aa/asdf$$^/aa",
            "[2001:db8::1]",
            "[2001:db8::1]:5000",
            "[2001:db8::1]:tag",
            "[fe80::1%eth0]:5000/repo",
            "[fe80::1%@invalidzone]:5000/repo",
            // more
            "busybox:",
            "busybox@",
            "busybox:-tag",
            "busybox:.tag",
            "busybox:a:b",
            "busybox@sha256:x",
            "busybox@@sha256:ffffffffffffffffffffffffffffffff",
            " busybox",
            "busybox ",
            "bus box",
            "foo:bar/baz",
            "a_b.c/x",
            "localhost:/x",
            "localhost:abc/x",
            "ex-.com/x",
            "[]/x",
            "[::1/x",
            "/busybox",
            "busybox/",
            "ünicode",
            "_/x",
        ];
        for name in invalid {
            if let Ok(r) = Reference::parse(name) {
                panic!("{name:?} should be invalid, parsed as {r}");
            }
        }
        let tag129 = format!("busybox:{}", "a".repeat(129));
        assert!(Reference::parse(&tag129).is_err());
        let tag128 = format!("busybox:{}", "a".repeat(128));
        assert!(Reference::parse(&tag128).is_ok());
    }

    /// distribution/reference TestParseRepositoryInfo: familiar, full and
    /// ambiguous spellings of the same repository.
    #[test]
    fn docker_repository_info() {
        // (registry, repository, familiar, full, ambiguous)
        let cases = [
            (
                "docker.io",
                "fooo/bar",
                "fooo/bar",
                "docker.io/fooo/bar",
                Some("index.docker.io/fooo/bar"),
            ),
            (
                "docker.io",
                "library/ubuntu",
                "ubuntu",
                "docker.io/library/ubuntu",
                Some("library/ubuntu"),
            ),
            (
                "docker.io",
                "nonlibrary/ubuntu",
                "nonlibrary/ubuntu",
                "docker.io/nonlibrary/ubuntu",
                None,
            ),
            (
                "docker.io",
                "other/library",
                "other/library",
                "docker.io/other/library",
                None,
            ),
            (
                "127.0.0.1:8000",
                "private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                "127.0.0.1:8000/private/moonbase",
                None,
            ),
            (
                "127.0.0.1:8000",
                "privatebase",
                "127.0.0.1:8000/privatebase",
                "127.0.0.1:8000/privatebase",
                None,
            ),
            (
                "example.com",
                "private/moonbase",
                "example.com/private/moonbase",
                "example.com/private/moonbase",
                None,
            ),
            (
                "example.com",
                "privatebase",
                "example.com/privatebase",
                "example.com/privatebase",
                None,
            ),
            (
                "example.com:8000",
                "private/moonbase",
                "example.com:8000/private/moonbase",
                "example.com:8000/private/moonbase",
                None,
            ),
            (
                "example.com:8000",
                "privatebasee",
                "example.com:8000/privatebasee",
                "example.com:8000/privatebasee",
                None,
            ),
            (
                "docker.io",
                "library/ubuntu-12.04-base",
                "ubuntu-12.04-base",
                "docker.io/library/ubuntu-12.04-base",
                Some("index.docker.io/library/ubuntu-12.04-base"),
            ),
            (
                "docker.io",
                "library/foo",
                "foo",
                "docker.io/library/foo",
                Some("docker.io/foo"),
            ),
            (
                "docker.io",
                "library/foo/bar",
                "library/foo/bar",
                "docker.io/library/foo/bar",
                None,
            ),
            (
                "docker.io",
                "store/foo/bar",
                "store/foo/bar",
                "docker.io/store/foo/bar",
                None,
            ),
            ("Foo", "bar", "Foo/bar", "Foo/bar", None),
            ("FOO", "bar", "FOO/bar", "FOO/bar", None),
        ];
        for (registry, repository, familiar, fullname, ambiguous) in cases {
            for input in [Some(familiar), Some(fullname), ambiguous]
                .into_iter()
                .flatten()
            {
                let r = Reference::parse_named(input).unwrap_or_else(|e| panic!("{input}: {e}"));
                assert_eq!(r.registry, registry, "{input}");
                assert_eq!(r.repository, repository, "{input}");
                assert_eq!(r.familiar_name(), familiar, "{input}");
                assert_eq!(r.name(), fullname, "{input}");
                assert_eq!(r.tag, None);
                assert_eq!(r.digest, None);
            }
        }
    }

    /// distribution/reference TestNormalizedSplitHostname.
    #[test]
    fn docker_split_hostname() {
        let cases = [
            ("test.com/foo", "test.com", "foo"),
            ("test_com/foo", "docker.io", "test_com/foo"),
            ("docker/migrator", "docker.io", "docker/migrator"),
            ("test.com:8080/foo", "test.com:8080", "foo"),
            ("test-com:8080/foo", "test-com:8080", "foo"),
            ("foo", "docker.io", "library/foo"),
            ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
            ("docker.io/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
            ("localhost/foo", "localhost", "foo"),
            ("localhost:5000/foo/bar", "localhost:5000", "foo/bar"),
            ("[::1]:5000/foo", "[::1]:5000", "foo"),
            ("[2001:db8::1]/repo", "[2001:db8::1]", "repo"),
        ];
        for (input, registry, repository) in cases {
            let r = Reference::parse_named(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (r.registry.as_str(), r.repository.as_str()),
                (registry, repository),
                "{input}"
            );
        }
    }

    /// distribution/reference TestParseDockerRef and TestParseAnyReference,
    /// plus reference_test.go's TestReferenceParse cases (normalised).
    #[test]
    fn docker_normalisation_table() {
        let d = format!("sha256:{H64}");
        let d512 = format!("sha512:{}", "f".repeat(128));
        let cases: Vec<(String, String)> = vec![
            ("busybox".into(), "docker.io/library/busybox:latest".into()),
            (
                "busybox:latest".into(),
                "docker.io/library/busybox:latest".into(),
            ),
            (
                format!("busybox@{d}"),
                format!("docker.io/library/busybox@{d}"),
            ),
            (
                "library/busybox".into(),
                "docker.io/library/busybox:latest".into(),
            ),
            (
                "docker.io/busybox".into(),
                "docker.io/library/busybox:latest".into(),
            ),
            (
                "docker.io/library/busybox".into(),
                "docker.io/library/busybox:latest".into(),
            ),
            (
                "docker.io/busybox:latest".into(),
                "docker.io/library/busybox:latest".into(),
            ),
            (
                "library/busybox:latest".into(),
                "docker.io/library/busybox:latest".into(),
            ),
            (
                "gcr.io/library/busybox".into(),
                "gcr.io/library/busybox:latest".into(),
            ),
            (
                format!("gcr.io/library/busybox:latest@{d}"),
                format!("gcr.io/library/busybox:latest@{d}"),
            ),
            (
                format!("busybox:latest@{d}"),
                format!("docker.io/library/busybox:latest@{d}"),
            ),
            ("redis".into(), "docker.io/library/redis:latest".into()),
            (
                "dmcgowan/myapp".into(),
                "docker.io/dmcgowan/myapp:latest".into(),
            ),
            (
                "dmcgowan/myapp:latest".into(),
                "docker.io/dmcgowan/myapp:latest".into(),
            ),
            (
                format!("dmcgowan/myapp@{d}"),
                format!("docker.io/dmcgowan/myapp@{d}"),
            ),
            // 63 hex is a name, not an ID
            (
                H64[..63].into(),
                format!("docker.io/library/{}:latest", &H64[..63]),
            ),
            ("dbcc1".into(), "docker.io/library/dbcc1:latest".into()),
            // `sha256:<hex>` is, for ParseNormalizedNamed, repository "sha256" tagged <hex>
            (d.clone(), format!("docker.io/library/{d}")),
            (
                "test_com".into(),
                "docker.io/library/test_com:latest".into(),
            ),
            (
                "test.com:tag".into(),
                "docker.io/library/test.com:tag".into(),
            ),
            (
                "test.com:5000".into(),
                "docker.io/library/test.com:5000".into(),
            ),
            ("test.com/repo:tag".into(), "test.com/repo:tag".into()),
            ("test:5000/repo".into(), "test:5000/repo:latest".into()),
            ("test:5000/repo:tag".into(), "test:5000/repo:tag".into()),
            (format!("test:5000/repo@{d}"), format!("test:5000/repo@{d}")),
            (
                format!("test:5000/repo:tag@{d}"),
                format!("test:5000/repo:tag@{d}"),
            ),
            (
                "lowercase:Uppercase".into(),
                "docker.io/library/lowercase:Uppercase".into(),
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux".into(),
                "sub-dom1.foo.com/bar/baz/quux:latest".into(),
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
            ),
            (
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
                "b.gcr.io/test.example.com/my-app:test.example.com".into(),
            ),
            (
                "xn--n3h.com/myimage:xn--n3h.com".into(),
                "xn--n3h.com/myimage:xn--n3h.com".into(),
            ),
            (
                format!("xn--7o8h.com/myimage:xn--7o8h.com@{d512}"),
                format!("xn--7o8h.com/myimage:xn--7o8h.com@{d512}"),
            ),
            (
                "foo_bar.com:8080".into(),
                "docker.io/library/foo_bar.com:8080".into(),
            ),
            (
                "foo/foo_bar.com:8080".into(),
                "docker.io/foo/foo_bar.com:8080".into(),
            ),
            (
                "192.168.1.1".into(),
                "docker.io/library/192.168.1.1:latest".into(),
            ),
            (
                "192.168.1.1:tag".into(),
                "docker.io/library/192.168.1.1:tag".into(),
            ),
            (
                "192.168.1.1:5000".into(),
                "docker.io/library/192.168.1.1:5000".into(),
            ),
            ("192.168.1.1/repo".into(), "192.168.1.1/repo:latest".into()),
            (
                "192.168.1.1:5000/repo".into(),
                "192.168.1.1:5000/repo:latest".into(),
            ),
            (
                "192.168.1.1:5000/repo:5050".into(),
                "192.168.1.1:5000/repo:5050".into(),
            ),
            (
                "[2001:db8::1]/repo".into(),
                "[2001:db8::1]/repo:latest".into(),
            ),
            (
                "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
                "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
            ),
            (
                "[2001:db8::1]:5000/repo".into(),
                "[2001:db8::1]:5000/repo:latest".into(),
            ),
            (
                "[2001:db8::1]:5000/repo:tag".into(),
                "[2001:db8::1]:5000/repo:tag".into(),
            ),
            (
                format!("[2001:db8::1]:5000/repo@{d}"),
                format!("[2001:db8::1]:5000/repo@{d}"),
            ),
            (
                format!("[2001:db8::1]:5000/repo:tag@{d}"),
                format!("[2001:db8::1]:5000/repo:tag@{d}"),
            ),
            (
                "[2001:db8::]:5000/repo".into(),
                "[2001:db8::]:5000/repo:latest".into(),
            ),
            ("[::1]:5000/repo".into(), "[::1]:5000/repo:latest".into()),
            (
                "localhost".into(),
                "docker.io/library/localhost:latest".into(),
            ),
            (
                "localhost:5000".into(),
                "docker.io/library/localhost:5000".into(),
            ),
            ("localhost/x".into(), "localhost/x:latest".into()),
            ("Foo/bar".into(), "Foo/bar:latest".into()),
            (
                "index.docker.io/busybox".into(),
                "docker.io/library/busybox:latest".into(),
            ),
            (
                "registry-1.docker.io/busybox".into(),
                "registry-1.docker.io/busybox:latest".into(),
            ),
            (
                "ubuntu:22.04".into(),
                "docker.io/library/ubuntu:22.04".into(),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(full(&input), expected, "input {input:?}");
            // The output is itself a valid, already normalised reference.
            assert_eq!(full(&expected), expected, "re-parse of {expected:?}");
        }
    }

    /// docker 28 limits the repository path (255), not registry + path.
    #[test]
    fn length_limit_is_on_the_path() {
        let ok = format!("docker.io/x/{}", "a".repeat(253));
        assert_eq!(Reference::parse(&ok).unwrap().repository.len(), 255);
        let too_long = format!("docker.io/x/{}", "a".repeat(254));
        assert_eq!(
            err(&too_long),
            "repository name must not be more than 255 characters"
        );
        // the implicit "library/" counts
        assert!(Reference::parse(&"a".repeat(255 - 8)).is_ok());
        assert_eq!(
            Reference::parse(&"a".repeat(255 - 7)),
            Err(ReferenceError::NameTooLong)
        );
        // reference_test.go: the tag does not count
        let s = format!("{}a:tag-puts-this-over-max", "a/".repeat(127));
        assert_eq!(Reference::parse(&s).unwrap().repository.len(), 255);
        let s = format!("{}a:tag", "a/".repeat(128));
        assert_eq!(Reference::parse(&s), Err(ReferenceError::NameTooLong));
        // a long registry does not count
        let s = format!("{}.com/{}", "a".repeat(60), "b".repeat(255));
        assert!(Reference::parse(&s).is_ok());
    }

    /// Messages checked against docker 28's CLI.
    #[test]
    fn docker_error_messages() {
        assert_eq!(
            err("Busybox"),
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
        assert_eq!(
            err("localhost:5000/Foo:tag"),
            "invalid reference format: repository name (Foo) must be lowercase"
        );
        assert_eq!(err("Foo_Bar/x"), "repository name must be lowercase");
        assert_eq!(err(""), "invalid reference format");
        assert_eq!(err("busybox@sha256:abcd"), "invalid reference format");
        assert_eq!(
            err(&format!("busybox@sha256:{}", "f".repeat(34))),
            "invalid checksum digest length"
        );
        assert_eq!(
            err(&format!("busybox@sha256:{}", "F".repeat(64))),
            "invalid checksum digest format"
        );
        assert_eq!(
            err(&format!("busybox@foo:{H64}")),
            "unsupported digest algorithm"
        );
        assert_eq!(
            err(&format!("busybox@Foo:{H64}")),
            "invalid reference format: repository name (library/busybox@Foo) must be lowercase"
        );
        assert_eq!(
            err(&format!("x/y@Foo_x:{H64}")),
            "invalid reference format: repository name (x/y@Foo_x) must be lowercase"
        );
        let hex = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
        assert_eq!(
            err(hex),
            format!("invalid repository name ({hex}), cannot specify 64-byte hexadecimal strings")
        );
        assert_eq!(Reference::parse(""), Err(ReferenceError::InvalidFormat));
    }

    #[test]
    fn digests() {
        assert_eq!(validate_digest(&format!("sha256:{H64}")), Ok(()));
        assert_eq!(
            validate_digest(&format!("sha384:{}", "0".repeat(96))),
            Ok(())
        );
        assert_eq!(
            validate_digest(&format!("sha512:{}", "0".repeat(128))),
            Ok(())
        );
        assert_eq!(
            validate_digest(&format!("sha512:{H64}")),
            Err(ReferenceError::DigestInvalidLength)
        );
        assert_eq!(
            validate_digest(&format!("sha256:{}", "A".repeat(64))),
            Err(ReferenceError::DigestInvalidFormat)
        );
        assert_eq!(
            validate_digest(&format!("Sha256:{H64}")),
            Err(ReferenceError::DigestInvalidFormat)
        );
        assert_eq!(
            validate_digest(&format!("sha256+b64:{H64}")),
            Err(ReferenceError::DigestUnsupported)
        );
        assert_eq!(
            validate_digest("sha256:abc"),
            Err(ReferenceError::InvalidFormat)
        );
        assert_eq!(validate_digest(H64), Err(ReferenceError::InvalidFormat));
        assert_eq!(validate_digest(""), Err(ReferenceError::InvalidFormat));
        let r = Reference::parse(&format!("busybox@sha384:{}", "0".repeat(96))).unwrap();
        assert!(r.digest.unwrap().starts_with("sha384:"));
    }

    #[test]
    fn familiar_forms() {
        let d = format!("sha256:{H64}");
        let cases = [
            (
                "busybox".to_string(),
                "busybox",
                "busybox:latest".to_string(),
            ),
            (format!("busybox@{d}"), "busybox", format!("busybox@{d}")),
            (
                format!("busybox:1@{d}"),
                "busybox",
                format!("busybox:1@{d}"),
            ),
            ("user/app:v1".into(), "user/app", "user/app:v1".into()),
            (
                "docker.io/library/a/b".into(),
                "library/a/b",
                "library/a/b:latest".into(),
            ),
            (
                "localhost:5000/x".into(),
                "localhost:5000/x",
                "localhost:5000/x:latest".into(),
            ),
            (
                "ghcr.io/o/r:t".into(),
                "ghcr.io/o/r",
                "ghcr.io/o/r:t".into(),
            ),
        ];
        for (input, name, string) in cases {
            let r = Reference::parse(&input).unwrap();
            assert_eq!(r.familiar_name(), name, "{input}");
            assert_eq!(r.familiar_string(), string, "{input}");
            assert_eq!(
                Reference::parse(&r.familiar_string()).unwrap(),
                r,
                "{input}"
            );
        }
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(r.name(), "docker.io/library/busybox");
        assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
    }

    #[test]
    fn parse_named_adds_no_tag() {
        let r = Reference::parse_named("busybox").unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.to_string(), "docker.io/library/busybox");
        let r = Reference::parse_named("busybox:1").unwrap();
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(
            "busybox".parse::<Reference>().unwrap().tag.as_deref(),
            Some("latest")
        );
    }

    #[test]
    fn with_tag_and_digest() {
        let d = format!("sha256:{H64}");
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            r.with_tag("1.36").to_string(),
            "docker.io/library/busybox:1.36"
        );
        let rd = r.with_digest(&d);
        assert_eq!(
            rd.to_string(),
            format!("docker.io/library/busybox:latest@{d}")
        );
        assert_eq!(
            rd.with_tag("x").to_string(),
            format!("docker.io/library/busybox:x@{d}")
        );
        assert!(is_valid_tag("v1.0-rc_1"));
        assert!(!is_valid_tag("-x"));
        assert!(!is_valid_tag(""));
        assert!(!is_valid_tag("a/b"));
    }

    #[test]
    fn api_registry_and_insecure() {
        assert_eq!(
            Reference::parse("busybox").unwrap().api_registry(),
            "registry-1.docker.io"
        );
        assert_eq!(
            Reference::parse("ghcr.io/a/b").unwrap().api_registry(),
            "ghcr.io"
        );
        for (s, insecure) in [
            ("localhost/x", true),
            ("localhost:5000/x", true),
            ("127.0.0.1/x", true),
            ("127.0.0.1:5000/x", true),
            ("127.1.2.3:45/x", true),
            ("[::1]/x", true),
            ("[::1]:5000/x", true),
            ("[0:0:0:0:0:0:0:1]:5000/x", true),
            ("LOCALHOST:5000/x", true),
            ("busybox", false),
            ("128.0.0.1:5000/x", false),
            ("localhost.example.com/x", false),
            ("[::2]:5000/x", false),
            ("example.com:5000/x", false),
        ] {
            assert_eq!(
                Reference::parse(s).unwrap().is_insecure_default(),
                insecure,
                "{s}"
            );
        }
        assert!(is_insecure_default_registry("::1"));
    }

    #[test]
    fn serde_round_trip() {
        let r = Reference::parse_named("localhost:5000/a/b").unwrap();
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(j, "\"localhost:5000/a/b\"");
        assert_eq!(serde_json::from_str::<Reference>(&j).unwrap(), r);
        assert!(serde_json::from_str::<Reference>("\"Bad\"").is_err());
    }

    fn domain_strategy() -> impl Strategy<Value = String> {
        let comp = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,4}[a-zA-Z0-9])?";
        prop_oneof![
            Just("docker.io".to_string()),
            Just("localhost".to_string()),
            "localhost:[0-9]{1,5}",
            prop::string::string_regex(&format!("{comp}(\\.{comp}){{1,3}}(:[0-9]{{1,5}})?"))
                .unwrap(),
            prop::string::string_regex(&format!("{comp}:[0-9]{{1,5}}")).unwrap(),
            "[A-Z][a-zA-Z0-9]{0,5}",
            "\\[[a-fA-F0-9]{0,4}:[a-fA-F0-9:]{0,10}\\](:[0-9]{1,5})?",
        ]
        // docker rewrites exactly this first component to docker.io
        .prop_filter("legacy domain", |d| d != LEGACY_DEFAULT_REGISTRY)
    }

    fn reference_strategy() -> impl Strategy<Value = Reference> {
        let path =
            prop::collection::vec("[a-z0-9]{1,4}((\\.|_|__|-{1,3})[a-z0-9]{1,4}){0,2}", 1..4);
        let tag = prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}");
        let digest = prop::option::of(prop_oneof![
            "[a-f0-9]{64}".prop_map(|h| format!("sha256:{h}")),
            "[a-f0-9]{128}".prop_map(|h| format!("sha512:{h}")),
        ]);
        (domain_strategy(), path, tag, digest)
            .prop_map(|(registry, path, tag, digest)| {
                let mut repository = path.join("/");
                if registry == DEFAULT_REGISTRY && !repository.contains('/') {
                    repository = format!("{OFFICIAL_REPO_PREFIX}{repository}");
                }
                Reference {
                    registry,
                    repository,
                    tag,
                    digest,
                }
            })
            .prop_filter("name too long", |r| {
                r.repository.len() <= REPOSITORY_NAME_TOTAL_LENGTH_MAX
            })
    }

    proptest! {
        #[test]
        fn display_round_trips(r in reference_strategy()) {
            prop_assert_eq!(Reference::parse_named(&r.to_string()), Ok(r.clone()));
            if r.tag.is_some() || r.digest.is_some() {
                prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r.clone()));
                // As in docker, the familiar form is ambiguous when a docker.io
                // namespace looks like a domain (`docker.io/a.b/c` → `a.b/c`).
                let first = r.repository.split('/').next().unwrap_or_default();
                if r.registry != DEFAULT_REGISTRY || !first.contains(['.', ':']) {
                    prop_assert_eq!(Reference::parse(&r.familiar_string()), Ok(r.clone()));
                }
            } else {
                prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r.with_tag("latest")));
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            if let Ok(r) = Reference::parse(&s) {
                prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r.clone()));
            }
        }

        #[test]
        fn parse_never_panics_near_grammar(s in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,40}") {
            if let Ok(r) = Reference::parse(&s) {
                prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r.clone()));
                prop_assert!(r.tag.is_some() || r.digest.is_some());
                prop_assert!(!r.registry.is_empty());
            }
        }
    }
}
