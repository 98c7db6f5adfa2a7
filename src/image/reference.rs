//! TEMPORARY stand-in; replaced by the refauth branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference { pub registry: String, pub repository: String, pub tag: Option<String>, pub digest: Option<String> }
#[derive(Debug, thiserror::Error)]
#[error("invalid reference format")]
pub struct ReferenceError;
impl Reference {
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let mut r = Self::parse_named(s)?;
        if r.tag.is_none() && r.digest.is_none() { r.tag = Some("latest".into()); }
        Ok(r)
    }
    pub fn parse_named(s: &str) -> Result<Reference, ReferenceError> {
        let (rest, digest) = match s.split_once('@') { Some((a, d)) => (a, Some(d.to_string())), None => (s, None) };
        let (name, tag) = match rest.rfind(':') { Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(rest[i+1..].to_string())), _ => (rest, None) };
        let (registry, repo) = match name.split_once('/') {
            Some((h, r)) if h.contains('.') || h.contains(':') || h == "localhost" => (h.to_string(), r.to_string()),
            _ => ("docker.io".to_string(), if name.contains('/') { name.to_string() } else { format!("library/{name}") }),
        };
        if repo.is_empty() { return Err(ReferenceError); }
        Ok(Reference { registry, repository: repo, tag, digest })
    }
    pub fn name(&self) -> String { format!("{}/{}", self.registry, self.repository) }
    pub fn familiar_name(&self) -> String {
        if self.registry == "docker.io" { self.repository.strip_prefix("library/").unwrap_or(&self.repository).to_string() } else { self.name() }
    }
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag { s.push(':'); s.push_str(t); }
        if let Some(d) = &self.digest { s.push('@'); s.push_str(d); }
        s
    }
}
impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(t) = &self.tag { write!(f, ":{t}")?; }
        if let Some(d) = &self.digest { write!(f, "@{d}")?; }
        Ok(())
    }
}
