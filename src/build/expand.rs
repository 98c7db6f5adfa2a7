//! Variable substitution (BuildKit's shell lexer) and the build's variable
//! scopes.
//!
//! * [`expand_word`]: one word → its value: quotes removed (single quotes
//!   literal, double quotes expanding), the escape character escaping,
//!   `$VAR`, `${VAR}`, `${VAR:-w}`, `${VAR-w}`, `${VAR:+w}`, `${VAR+w}`,
//!   `${VAR:?msg}`, `${VAR?msg}`.
//! * [`Instruction::expand`]: the instruction with every word that BuildKit
//!   expands replaced by its value (ADD, COPY, ENV, EXPOSE, FROM, LABEL,
//!   STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults, and the values of
//!   `RUN --mount` options). RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
//!   ONBUILD and MAINTAINER are returned unchanged: their shell does it.
//! * Scopes: [`BuildArgs`] (`--build-arg` values and the platforms),
//!   [`meta_vars`] (the global scope of `FROM` lines), [`StageVars`] (one
//!   stage's ARGs and ENVs as the executor goes through it).

use std::collections::BTreeMap;

use super::dockerfile::{
    ArgDecl, CopyArgs, CopySource, Dockerfile, FromLine, Heredoc, Instruction, KeyValue, Mount, Run,
};

/// A substitution error (BuildKit's wording).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingle,
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnterminatedDouble,
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    #[error("invalid pattern ({pattern}) in substitution: {problem}")]
    Pattern { pattern: String, problem: String },
    #[error("unsupported modifier ({0}) in substitution")]
    Modifier(String),
    /// `${VAR?msg}` / `${VAR:?msg}` with VAR unset (or empty).
    #[error("{name}: {message}")]
    Required { name: String, message: String },
}

/// Where variables are looked up.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<&str>;
}

/// An ordered set of variables (later `set` of a name replaces in place).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    entries: Vec<(String, String)>,
}

impl Vars {
    pub fn new() -> Self {
        Vars::default()
    }
    /// From `KEY=VALUE` strings (an image config's `Env`); entries without
    /// `=` are ignored.
    pub fn from_env(env: &[String]) -> Self {
        let mut v = Vars::new();
        for e in env {
            if let Some((k, val)) = e.split_once('=') {
                v.set(k, val);
            }
        }
        v
    }
    pub fn set(&mut self, key: &str, value: &str) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value.to_string(),
            None => self.entries.push((key.to_string(), value.to_string())),
        }
    }
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k != key);
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// `KEY=VALUE` strings in order.
    pub fn to_env(&self) -> Vec<String> {
        self.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Lookup for Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }
}

/// Expands one word the way BuildKit's `ProcessWord` does.
pub fn expand_word(word: &str, escape: char, vars: &dyn Lookup) -> Result<String, ExpandError> {
    let chars: Vec<char> = word.chars().collect();
    let mut lx = Lexer {
        s: &chars,
        i: 0,
        escape,
        vars,
        quotes: true,
    };
    lx.run(None, false)
}

/// Expands `$` forms in a heredoc body (unquoted delimiter): quotes are
/// kept as written; the escape character only escapes `$` and itself.
pub fn expand_heredoc(
    content: &str,
    escape: char,
    vars: &dyn Lookup,
) -> Result<String, ExpandError> {
    let chars: Vec<char> = content.chars().collect();
    let mut lx = Lexer {
        s: &chars,
        i: 0,
        escape,
        vars,
        quotes: false,
    };
    lx.run(None, false)
}

struct Lexer<'a> {
    s: &'a [char],
    i: usize,
    escape: char,
    vars: &'a dyn Lookup,
    /// Process quotes (false for heredoc bodies).
    quotes: bool,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    /// Reads until `stop` (consumed) or the end. With `raw_escapes` the
    /// escape character is kept in the result (for `${v#pattern}`).
    fn run(&mut self, stop: Option<char>, raw_escapes: bool) -> Result<String, ExpandError> {
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                if stop.is_some() {
                    return Err(ExpandError::MissingBrace);
                }
                return Ok(out);
            };
            if Some(c) == stop {
                self.i += 1;
                return Ok(out);
            }
            self.i += 1;
            if c == self.escape {
                match self.next() {
                    None => {}
                    Some(n) if raw_escapes || (!self.quotes && n != '$' && n != self.escape) => {
                        out.push(c);
                        out.push(n);
                    }
                    Some(n) => out.push(n),
                }
                continue;
            }
            match c {
                '\'' if self.quotes => loop {
                    match self.next() {
                        None => return Err(ExpandError::UnterminatedSingle),
                        Some('\'') => break,
                        Some(x) => out.push(x),
                    }
                },
                '"' if self.quotes => self.double(&mut out)?,
                '$' => out.push_str(&self.dollar()?),
                _ => out.push(c),
            }
        }
    }

    fn double(&mut self, out: &mut String) -> Result<(), ExpandError> {
        loop {
            match self.next() {
                None => return Err(ExpandError::UnterminatedDouble),
                Some('"') => return Ok(()),
                Some('$') => out.push_str(&self.dollar()?),
                Some(c) if c == self.escape => match self.peek() {
                    None => {}
                    Some(n) if n == '"' || n == '$' || n == self.escape => {
                        self.i += 1;
                        out.push(n);
                    }
                    _ => out.push(c),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// A name: a run of digits, one special parameter (`@*#?-$!0`), or
    /// letters, digits and `_`.
    fn name(&mut self) -> String {
        let mut n = String::new();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                    n.push(c);
                    self.i += 1;
                }
                return n;
            }
            Some(c) if "@*#?-$!".contains(c) => {
                self.i += 1;
                n.push(c);
                return n;
            }
            _ => {}
        }
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                n.push(c);
                self.i += 1;
            } else {
                break;
            }
        }
        n
    }

    /// After a `$`.
    fn dollar(&mut self) -> Result<String, ExpandError> {
        if self.peek() != Some('{') {
            let n = self.name();
            if n.is_empty() {
                return Ok("$".into());
            }
            return Ok(self.vars.get(&n).unwrap_or("").to_string());
        }
        self.i += 1;
        match self.peek() {
            None => return Err(ExpandError::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandError::BadSubstitution),
            _ => {}
        }
        let name = self.name();
        let value = self.vars.get(&name).map(str::to_string);
        let Some(c) = self.next() else {
            return Err(ExpandError::MissingBrace);
        };
        match c {
            '}' => Ok(value.unwrap_or_default()),
            '/' => {
                let all = self.peek() == Some('/');
                if all {
                    self.i += 1;
                }
                let pattern = self.run(Some('/'), true).map_err(|e| match e {
                    ExpandError::MissingBrace => ExpandError::MissingSlash,
                    e => e,
                })?;
                let repl = self.run(Some('}'), true)?;
                let v = value.unwrap_or_default();
                let pat = ShellPattern::new(&pattern)?;
                Ok(pat.replace(&v, &repl, all))
            }
            _ => {
                let colon = c == ':';
                let op = if colon {
                    self.next().ok_or(ExpandError::MissingBrace)?
                } else {
                    c
                };
                let modifier = if colon {
                    format!(":{op}")
                } else {
                    op.to_string()
                };
                if !matches!(op, '-' | '+' | '?' | '#' | '%') || (colon && matches!(op, '#' | '%'))
                {
                    return Err(ExpandError::Modifier(modifier));
                }
                let word = self.run(Some('}'), matches!(op, '#' | '%'))?;
                let set = match &value {
                    None => false,
                    Some(v) => !colon || !v.is_empty(),
                };
                match op {
                    '-' => Ok(if set { value.unwrap_or_default() } else { word }),
                    '+' => Ok(if set { word } else { String::new() }),
                    '?' => match value {
                        Some(v) if set => Ok(v),
                        v => Err(ExpandError::Required {
                            name,
                            message: if !word.is_empty() {
                                word
                            } else if v.is_none() {
                                "is not allowed to be unset".into()
                            } else {
                                "is not allowed to be empty".into()
                            },
                        }),
                    },
                    _ => {
                        let (greedy, word) = match word.strip_prefix(op) {
                            Some(w) => (true, w.to_string()),
                            None => (false, word),
                        };
                        let pat = ShellPattern::new(&word)?;
                        let v = value.unwrap_or_default();
                        Ok(if op == '#' {
                            pat.trim_prefix(&v, greedy)
                        } else {
                            pat.trim_suffix(&v, greedy)
                        })
                    }
                }
            }
        }
    }
}

/// A `${v#pattern}` pattern: `*`, `?`, and `\` escaping `*`, `?`, `\`
/// (and `}`/`/`, which only need it inside `${}`).
#[derive(Debug)]
struct ShellPattern {
    toks: Vec<PTok>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PTok {
    Star,
    One,
    Lit(char),
}

impl ShellPattern {
    fn new(p: &str) -> Result<ShellPattern, ExpandError> {
        let mut toks = Vec::new();
        let mut it = p.chars().peekable();
        while let Some(c) = it.next() {
            toks.push(match c {
                '*' => PTok::Star,
                '?' => PTok::One,
                '\\' => match it.next() {
                    Some(n @ ('*' | '?' | '\\' | '}' | '/')) => PTok::Lit(n),
                    Some(n) => {
                        return Err(ExpandError::Pattern {
                            pattern: p.to_string(),
                            problem: format!("invalid escape '\\{n}'"),
                        });
                    }
                    None => PTok::Lit('\\'),
                },
                c => PTok::Lit(c),
            });
        }
        Ok(ShellPattern { toks })
    }

    /// Whether the whole of `s` matches.
    fn full(&self, s: &[char]) -> bool {
        // Classic wildcard matching with one backtrack point.
        let (mut t, mut i) = (0, 0);
        let mut back: Option<(usize, usize)> = None;
        while i < s.len() {
            match self.toks.get(t) {
                Some(PTok::Star) => {
                    back = Some((t, i));
                    t += 1;
                }
                Some(PTok::One) => {
                    t += 1;
                    i += 1;
                }
                Some(PTok::Lit(c)) if *c == s[i] => {
                    t += 1;
                    i += 1;
                }
                _ => match back {
                    Some((bt, bi)) => {
                        t = bt + 1;
                        i = bi + 1;
                        back = Some((bt, bi + 1));
                    }
                    None => return false,
                },
            }
        }
        self.toks[t..].iter().all(|t| *t == PTok::Star)
    }

    fn trim_prefix(&self, v: &str, greedy: bool) -> String {
        let cs: Vec<char> = v.chars().collect();
        let ends: Box<dyn Iterator<Item = usize>> = if greedy {
            Box::new((0..=cs.len()).rev())
        } else {
            Box::new(0..=cs.len())
        };
        for k in ends {
            if self.full(&cs[..k]) {
                return cs[k..].iter().collect();
            }
        }
        v.to_string()
    }

    fn trim_suffix(&self, v: &str, greedy: bool) -> String {
        let cs: Vec<char> = v.chars().collect();
        let starts: Box<dyn Iterator<Item = usize>> = if greedy {
            Box::new(0..=cs.len())
        } else {
            Box::new((0..=cs.len()).rev())
        };
        for k in starts {
            if self.full(&cs[k..]) {
                return cs[..k].iter().collect();
            }
        }
        v.to_string()
    }

    /// `${v/pattern/repl}` (first, longest match) and `${v//pattern/repl}`.
    fn replace(&self, v: &str, repl: &str, all: bool) -> String {
        let cs: Vec<char> = v.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        let mut replaced = false;
        while i <= cs.len() {
            if replaced && !all {
                out.extend(&cs[i..]);
                return out;
            }
            let found = (i..=cs.len()).rev().find(|&j| self.full(&cs[i..j]));
            match found {
                Some(j) => {
                    out.push_str(repl);
                    replaced = true;
                    if j == i {
                        if let Some(c) = cs.get(i) {
                            out.push(*c);
                        }
                        i += 1;
                    } else {
                        i = j;
                    }
                }
                None => {
                    if let Some(c) = cs.get(i) {
                        out.push(*c);
                    }
                    i += 1;
                }
            }
        }
        out
    }
}

fn ex(w: &str, escape: char, vars: &dyn Lookup) -> Result<String, ExpandError> {
    expand_word(w, escape, vars)
}

fn ex_opt(
    w: &Option<String>,
    escape: char,
    vars: &dyn Lookup,
) -> Result<Option<String>, ExpandError> {
    w.as_deref().map(|s| ex(s, escape, vars)).transpose()
}

fn ex_kvs(kvs: &[KeyValue], escape: char, vars: &dyn Lookup) -> Result<Vec<KeyValue>, ExpandError> {
    kvs.iter()
        .map(|kv| {
            Ok(KeyValue {
                key: ex(&kv.key, escape, vars)?,
                value: ex(&kv.value, escape, vars)?,
            })
        })
        .collect()
}

fn ex_heredoc(h: &Heredoc, escape: char, vars: &dyn Lookup) -> Result<Heredoc, ExpandError> {
    let mut h = h.clone();
    if h.expand {
        h.content = expand_heredoc(&h.content, escape, vars)?;
    }
    Ok(h)
}

fn ex_copy(c: &CopyArgs, escape: char, vars: &dyn Lookup) -> Result<CopyArgs, ExpandError> {
    let sources = c
        .sources
        .iter()
        .map(|s| {
            Ok(match s {
                CopySource::Path(p) if c.json => CopySource::Path(expand_json(p, escape, vars)?),
                CopySource::Path(p) => CopySource::Path(ex(p, escape, vars)?),
                CopySource::Heredoc(h) => CopySource::Heredoc(ex_heredoc(h, escape, vars)?),
            })
        })
        .collect::<Result<_, ExpandError>>()?;
    Ok(CopyArgs {
        sources,
        dest: if c.json {
            expand_json(&c.dest, escape, vars)?
        } else {
            ex(&c.dest, escape, vars)?
        },
        from: ex_opt(&c.from, escape, vars)?,
        chown: ex_opt(&c.chown, escape, vars)?,
        chmod: ex_opt(&c.chmod, escape, vars)?,
        link: c.link,
        exclude: c
            .exclude
            .iter()
            .map(|e| ex(e, escape, vars))
            .collect::<Result<_, _>>()?,
        json: c.json,
    })
}

/// JSON-form words are already unquoted: only `$` forms are expanded.
fn expand_json(w: &str, escape: char, vars: &dyn Lookup) -> Result<String, ExpandError> {
    expand_heredoc(w, escape, vars)
}

fn ex_mount(m: &Mount, escape: char, vars: &dyn Lookup) -> Result<Mount, ExpandError> {
    Ok(Mount {
        target: ex(&m.target, escape, vars)?,
        source: ex_opt(&m.source, escape, vars)?,
        from: ex_opt(&m.from, escape, vars)?,
        id: ex_opt(&m.id, escape, vars)?,
        env: ex_opt(&m.env, escape, vars)?,
        ..m.clone()
    })
}

impl Instruction {
    /// The instruction with its words substituted from `vars` (the stage's
    /// scope before this instruction: [`StageVars`]). Instructions that
    /// BuildKit does not expand come back unchanged. `escape` is
    /// [`Dockerfile::escape`].
    ///
    /// ENV: all pairs of one instruction see the variables as they were
    /// before it (`ENV a=1 b=$a` gives b the old a), as docker does.
    pub fn expand(&self, vars: &dyn Lookup, escape: char) -> Result<Instruction, ExpandError> {
        let e = |w: &str| ex(w, escape, vars);
        Ok(match self {
            Instruction::Run(r) => Instruction::Run(Run {
                mounts: r
                    .mounts
                    .iter()
                    .map(|m| ex_mount(m, escape, vars))
                    .collect::<Result<_, _>>()?,
                ..r.clone()
            }),
            Instruction::Copy(c) => Instruction::Copy(ex_copy(c, escape, vars)?),
            Instruction::Add(c) => Instruction::Add(ex_copy(c, escape, vars)?),
            Instruction::Env(kvs) => Instruction::Env(ex_kvs(kvs, escape, vars)?),
            Instruction::Label(kvs) => Instruction::Label(ex_kvs(kvs, escape, vars)?),
            Instruction::Arg(decls) => Instruction::Arg(
                decls
                    .iter()
                    .map(|d| {
                        Ok(ArgDecl {
                            name: d.name.clone(),
                            default: ex_opt(&d.default, escape, vars)?,
                        })
                    })
                    .collect::<Result<_, ExpandError>>()?,
            ),
            Instruction::Expose(ps) => {
                let mut out = Vec::new();
                for p in ps {
                    // An expanded value may hold several ports.
                    out.extend(e(p)?.split_whitespace().map(str::to_string));
                }
                Instruction::Expose(out)
            }
            Instruction::Volume(vs) => {
                Instruction::Volume(vs.iter().map(|v| e(v)).collect::<Result<_, _>>()?)
            }
            Instruction::Workdir(w) => Instruction::Workdir(e(w)?),
            Instruction::User(u) => Instruction::User(e(u)?),
            Instruction::StopSignal(s) => Instruction::StopSignal(e(s)?),
            Instruction::Cmd(_)
            | Instruction::Entrypoint(_)
            | Instruction::Shell(_)
            | Instruction::Healthcheck(_)
            | Instruction::Onbuild(_)
            | Instruction::Maintainer(_) => self.clone(),
        })
    }
}

impl FromLine {
    /// The `FROM` line expanded in the global scope ([`meta_vars`]).
    pub fn expand(&self, meta: &dyn Lookup, escape: char) -> Result<FromLine, ExpandError> {
        Ok(FromLine {
            image: expand_word(&self.image, escape, meta)?,
            platform: ex_opt(&self.platform, escape, meta)?,
            name: self.name.clone(),
        })
    }
}

/// A platform as `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform berth runs on (`linux/amd64`, `linux/arm64/v8`, …).
    pub fn host() -> Platform {
        let (arch, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            other => (other, None),
        };
        Platform {
            os: "linux".into(),
            architecture: arch.into(),
            variant: variant.map(str::to_string),
        }
    }

    /// Parses `os/arch[/variant]` (`linux/arm64`, `linux/arm/v7`).
    pub fn parse(s: &str) -> Option<Platform> {
        let mut it = s.split('/');
        let os = it.next().filter(|s| !s.is_empty())?;
        let arch = it.next().filter(|s| !s.is_empty())?;
        let variant = it.next().map(str::to_string);
        if it.next().is_some() {
            return None;
        }
        Some(Platform {
            os: os.to_ascii_lowercase(),
            architecture: arch.to_ascii_lowercase(),
            variant,
        })
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

/// The proxy variables docker passes to RUN without an ARG declaration
/// (when given with `--build-arg`), upper and lower case.
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The automatic platform ARGs.
pub const PLATFORM_ARGS: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

/// `--build-arg` values and the platforms of one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildArgs {
    /// `--build-arg K=V`. (`--build-arg K` without value takes the caller's
    /// environment; the CLI resolves that and leaves K out when unset.)
    pub values: BTreeMap<String, String>,
    /// The platform built for (`--platform`, default the host).
    pub target: Platform,
    /// The platform the build runs on (the host).
    pub build: Platform,
}

impl BuildArgs {
    /// No build args, building for the host on the host.
    pub fn host() -> BuildArgs {
        BuildArgs {
            values: BTreeMap::new(),
            target: Platform::host(),
            build: Platform::host(),
        }
    }

    /// The value of an automatic platform ARG (`TARGETARCH` …), `--build-arg`
    /// overrides included.
    pub fn platform_arg(&self, name: &str) -> Option<String> {
        if let Some(v) = self.values.get(name) {
            return Some(v.clone());
        }
        let (p, what) = if let Some(w) = name.strip_prefix("TARGET") {
            (&self.target, w)
        } else if let Some(w) = name.strip_prefix("BUILD") {
            (&self.build, w)
        } else {
            return None;
        };
        Some(match what {
            "PLATFORM" => p.to_string(),
            "OS" => p.os.clone(),
            "ARCH" => p.architecture.clone(),
            "VARIANT" => p.variant.clone().unwrap_or_default(),
            _ => return None,
        })
    }
}

/// Why a scope could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {source}")]
pub struct ScopeError {
    pub file: String,
    pub line: usize,
    #[source]
    pub source: ExpandError,
}

/// The global scope: the automatic platform ARGs, then the ARGs before the
/// first FROM in order (a `--build-arg` overrides a default; an ARG with
/// neither stays unset). Use it to expand `FROM` lines
/// ([`FromLine::expand`]) and pass it to [`StageVars::declare_arg`].
pub fn meta_vars(df: &Dockerfile, args: &BuildArgs) -> Result<Vars, ScopeError> {
    let mut vars = Vars::new();
    for name in PLATFORM_ARGS {
        if let Some(v) = args.platform_arg(name) {
            vars.set(name, &v);
        }
    }
    for located in &df.meta_args {
        for d in &located.value {
            let default = ex_opt(&d.default, df.escape, &vars).map_err(|source| ScopeError {
                file: df.file.clone(),
                line: located.line,
                source,
            })?;
            match args.values.get(&d.name).cloned().or(default) {
                Some(v) => vars.set(&d.name, &v),
                None => vars.remove(&d.name),
            }
        }
    }
    Ok(vars)
}

/// One stage's variables as the executor walks its instructions: the ENV
/// (starting from the base image's) and the ARGs declared so far. Lookups
/// see ENV first (an ENV overrides an ARG of the same name, as docker
/// documents), then ARGs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageVars {
    env: Vars,
    args: Vars,
    /// ARG names declared in this stage (with or without value).
    declared: Vec<String>,
}

impl StageVars {
    /// A stage starting from its base image's `Env` (`KEY=VALUE` strings;
    /// for a stage built on another stage, that stage's final ENV).
    pub fn new(image_env: &[String]) -> StageVars {
        StageVars {
            env: Vars::from_env(image_env),
            ..StageVars::default()
        }
    }

    /// Applies one (expanded) `ARG` name: the value is the `--build-arg`, else
    /// the default given here, else the global ARG of that name, else the
    /// automatic platform value; else the ARG is declared without value.
    pub fn declare_arg(&mut self, decl: &ArgDecl, meta: &Vars, args: &BuildArgs) {
        let value = args
            .values
            .get(&decl.name)
            .cloned()
            .or_else(|| decl.default.clone())
            .or_else(|| meta.get(&decl.name).map(str::to_string))
            .or_else(|| {
                PLATFORM_ARGS
                    .contains(&decl.name.as_str())
                    .then(|| args.platform_arg(&decl.name))
                    .flatten()
            });
        match value {
            Some(v) => self.args.set(&decl.name, &v),
            None => self.args.remove(&decl.name),
        }
        if !self.declared.contains(&decl.name) {
            self.declared.push(decl.name.clone());
        }
    }

    /// Applies one (expanded) `ENV` pair.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.set(key, value);
    }

    /// The stage's ENV (what goes into the image config's `Env`).
    pub fn env(&self) -> &Vars {
        &self.env
    }

    /// The ARGs declared so far that have a value.
    pub fn args(&self) -> &Vars {
        &self.args
    }

    /// Whether `name` was declared with ARG in this stage.
    pub fn is_declared(&self, name: &str) -> bool {
        self.declared.iter().any(|d| d == name)
    }

    /// The environment of a RUN: the ENV, then the ARGs that no ENV
    /// overrides, then the proxy `--build-arg`s not otherwise set.
    pub fn run_env(&self, args: &BuildArgs) -> Vec<String> {
        let mut all = self.env.clone();
        for (k, v) in self.args.iter() {
            if self.env.get(k).is_none() {
                all.set(k, v);
            }
        }
        for p in PROXY_ARGS {
            if all.get(p).is_none()
                && let Some(v) = args.values.get(*p)
            {
                all.set(p, v);
            }
        }
        all.to_env()
    }
}

impl Lookup for StageVars {
    fn get(&self, name: &str) -> Option<&str> {
        self.env.get(name).or_else(|| self.args.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::dockerfile::parse;

    fn vars(kv: &[(&str, &str)]) -> Vars {
        let mut v = Vars::new();
        for (k, val) in kv {
            v.set(k, val);
        }
        v
    }

    fn w(s: &str) -> String {
        expand_word(
            s,
            '\\',
            &vars(&[("A", "a"), ("EMPTY", ""), ("SP", "x y"), ("B", "$A")]),
        )
        .unwrap()
    }

    #[test]
    fn simple_forms() {
        assert_eq!(w("$A"), "a");
        assert_eq!(w("${A}"), "a");
        assert_eq!(w("x${A}y"), "xay");
        assert_eq!(w("$Ab"), "");
        assert_eq!(w("${A}b"), "ab");
        assert_eq!(w("$UNSET"), "");
        assert_eq!(w("$"), "$");
        assert_eq!(w("a$ b"), "a$ b");
        assert_eq!(w("$1"), "");
        assert_eq!(w("$B"), "$A", "values are not re-expanded");
        assert_eq!(w("$A-$A"), "a-a");
    }

    #[test]
    fn modifiers() {
        assert_eq!(w("${A:-d}"), "a");
        assert_eq!(w("${UNSET:-d}"), "d");
        assert_eq!(w("${EMPTY:-d}"), "d");
        assert_eq!(w("${EMPTY-d}"), "");
        assert_eq!(w("${UNSET-d}"), "d");
        assert_eq!(w("${A:+alt}"), "alt");
        assert_eq!(w("${EMPTY:+alt}"), "");
        assert_eq!(w("${EMPTY+alt}"), "alt");
        assert_eq!(w("${UNSET+alt}"), "");
        assert_eq!(w("${UNSET:-$A}"), "a");
        assert_eq!(w("${UNSET:-${A}x}"), "ax");
        assert_eq!(w("${UNSET:-\"q w\"}"), "q w");
        assert_eq!(w("${A:?oops}"), "a");
        let e = expand_word("${UNSET:?must be set}", '\\', &Vars::new()).unwrap_err();
        assert_eq!(e.to_string(), "UNSET: must be set");
        let e = expand_word("${EMPTY?}", '\\', &vars(&[])).unwrap_err();
        assert_eq!(e.to_string(), "EMPTY: is not allowed to be unset");
    }

    #[test]
    fn pattern_modifiers() {
        let v = vars(&[
            ("P", "/usr/local/bin/tool.tar.gz"),
            ("S", "aXbXc"),
            ("T", "a*b"),
        ]);
        let e = |w: &str| expand_word(w, '\\', &v).unwrap();
        assert_eq!(e("${P#*/}"), "usr/local/bin/tool.tar.gz");
        assert_eq!(e("${P##*/}"), "tool.tar.gz");
        assert_eq!(e("${P%.*}"), "/usr/local/bin/tool.tar");
        assert_eq!(e("${P%%.*}"), "/usr/local/bin/tool");
        assert_eq!(e("${P#nomatch}"), "/usr/local/bin/tool.tar.gz");
        assert_eq!(e("${S/X/-}"), "a-bXc");
        assert_eq!(e("${S//X/-}"), "a-b-c");
        assert_eq!(e("${S/X*/}"), "a");
        assert_eq!(e("${S/?/_}"), "_XbXc");
        assert_eq!(e("${T#a\\*}"), "b");
        assert_eq!(e("${T#a*}"), "*b");
        assert_eq!(e("${UNSET#x}"), "");
        assert_eq!(e("${S/\\/x/y}"), "aXbXc");
        assert_eq!(
            expand_word("${S#\\q}", '\\', &v).unwrap_err().to_string(),
            "invalid pattern (\\q) in substitution: invalid escape '\\q'"
        );
        assert_eq!(
            expand_word("${S/X", '\\', &v).unwrap_err().to_string(),
            "syntax error: missing '/' in ${}"
        );
    }

    #[test]
    fn names_and_special_parameters() {
        let v = vars(&[("É", "e"), ("12", "twelve"), ("@", "at")]);
        let e = |w: &str| expand_word(w, '\\', &v).unwrap();
        assert_eq!(e("$12x"), "twelvex");
        assert_eq!(e("$@x"), "atx");
        assert_eq!(e("$Éa"), "");
        assert_eq!(e("${É}a"), "ea");
        assert_eq!(e("$$"), "");
        let e = expand_word("${A:?}", '\\', &vars(&[("A", "")])).unwrap_err();
        assert_eq!(e.to_string(), "A: is not allowed to be empty");
        assert_eq!(expand_word("${A?}", '\\', &vars(&[("A", "")])).unwrap(), "");
        assert_eq!(
            expand_word("${:-x}", '\\', &Vars::new()).unwrap_err(),
            ExpandError::BadSubstitution
        );
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(w("'$A'"), "$A");
        assert_eq!(w("\"$A\""), "a");
        assert_eq!(w("\"'$A'\""), "'a'");
        assert_eq!(w("'\"$A\"'"), "\"$A\"");
        assert_eq!(w("\\$A"), "$A");
        assert_eq!(w("\\\\$A"), "\\a");
        assert_eq!(w("\"\\$A\""), "$A");
        assert_eq!(w("\"\\n\""), "\\n");
        assert_eq!(w("\"a\\\"b\""), "a\"b");
        assert_eq!(w("a\\ b"), "a b");
        assert_eq!(w("\"x y\""), "x y");
        assert_eq!(w("$SP"), "x y");
        assert_eq!(expand_word("`$A", '`', &vars(&[("A", "a")])).unwrap(), "$A");
        assert_eq!(
            expand_word("c:\\dir\\$A", '`', &vars(&[("A", "a")])).unwrap(),
            "c:\\dir\\a"
        );
    }

    #[test]
    fn errors() {
        let v = Vars::new();
        assert_eq!(
            expand_word("'abc", '\\', &v).unwrap_err(),
            ExpandError::UnterminatedSingle
        );
        assert_eq!(
            expand_word("\"abc", '\\', &v).unwrap_err(),
            ExpandError::UnterminatedDouble
        );
        assert_eq!(
            expand_word("${A", '\\', &v).unwrap_err(),
            ExpandError::MissingBrace
        );
        assert_eq!(
            expand_word("${}", '\\', &v).unwrap_err(),
            ExpandError::BadSubstitution
        );
        assert_eq!(
            expand_word("${A:x}", '\\', &v).unwrap_err().to_string(),
            "unsupported modifier (:x) in substitution"
        );
    }

    #[test]
    fn heredoc_body_keeps_quotes() {
        let v = vars(&[("A", "a")]);
        assert_eq!(
            expand_heredoc("echo \"$A\" '$A' \\$A\n", '\\', &v).unwrap(),
            "echo \"a\" 'a' $A\n"
        );
    }

    fn stage_instrs(text: &str) -> Vec<Instruction> {
        let df = parse(text, "Dockerfile").unwrap();
        df.stages[0]
            .instructions
            .iter()
            .map(|l| l.value.clone())
            .collect()
    }

    #[test]
    fn env_pairs_see_previous_scope() {
        let df = parse(
            "FROM x\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n",
            "Dockerfile",
        )
        .unwrap();
        let mut s = StageVars::new(&[]);
        for l in &df.stages[0].instructions {
            if let Instruction::Env(kvs) = l.value.expand(&s, '\\').unwrap() {
                for kv in kvs {
                    s.set_env(&kv.key, &kv.value);
                }
            }
        }
        assert_eq!(s.env().get("def"), Some("hello"));
        assert_eq!(s.env().get("ghi"), Some("bye"));
    }

    #[test]
    fn which_instructions_expand() {
        let v = vars(&[("V", "val"), ("P", "/p")]);
        let ins = stage_instrs(
            "FROM x\nRUN echo $V\nCMD echo $V\nENTRYPOINT [\"$V\"]\nWORKDIR $P/w\nUSER $V:$V\n\
             EXPOSE $V 80/tcp\nVOLUME $P\nSTOPSIGNAL $V\nLABEL \"k $V\"=\"$V\"\nCOPY --chown=$V $P/a ${P}b/\n\
             ONBUILD RUN $V\nHEALTHCHECK CMD $V\nMAINTAINER $V\nRUN --mount=type=cache,target=$P/c true\n",
        );
        let got: Vec<Instruction> = ins.iter().map(|i| i.expand(&v, '\\').unwrap()).collect();
        assert_eq!(got[0], ins[0]);
        assert_eq!(got[1], ins[1]);
        assert_eq!(got[2], ins[2]);
        assert_eq!(got[3], Instruction::Workdir("/p/w".into()));
        assert_eq!(got[4], Instruction::User("val:val".into()));
        assert_eq!(
            got[5],
            Instruction::Expose(vec!["val".into(), "80/tcp".into()])
        );
        assert_eq!(got[6], Instruction::Volume(vec!["/p".into()]));
        assert_eq!(got[7], Instruction::StopSignal("val".into()));
        assert_eq!(
            got[8],
            Instruction::Label(vec![KeyValue {
                key: "k val".into(),
                value: "val".into()
            }])
        );
        match &got[9] {
            Instruction::Copy(c) => {
                assert_eq!(c.chown.as_deref(), Some("val"));
                assert_eq!(c.sources, vec![CopySource::Path("/p/a".into())]);
                assert_eq!(c.dest, "/pb/");
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(got[10], ins[10]);
        assert_eq!(got[11], ins[11]);
        assert_eq!(got[12], ins[12]);
        match &got[13] {
            Instruction::Run(r) => assert_eq!(r.mounts[0].target, "/p/c"),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn copy_heredoc_expansion_depends_on_quoting() {
        let v = vars(&[("V", "val")]);
        let ins = stage_instrs("FROM x\nCOPY <<EOF <<'RAW' /d/\n$V \"q\"\nEOF\n$V\nRAW\n");
        let Instruction::Copy(c) = ins[0].expand(&v, '\\').unwrap() else {
            panic!()
        };
        let bodies: Vec<String> = c
            .sources
            .iter()
            .map(|s| match s {
                CopySource::Heredoc(h) => h.content.clone(),
                CopySource::Path(p) => p.clone(),
            })
            .collect();
        assert_eq!(bodies, vec!["val \"q\"\n".to_string(), "$V\n".to_string()]);
    }

    #[test]
    fn json_copy_is_not_unquoted_again() {
        let v = vars(&[("V", "val")]);
        let ins = stage_instrs("FROM x\nCOPY [\"a'b $V\", \"/d\"]\n");
        let Instruction::Copy(c) = ins[0].expand(&v, '\\').unwrap() else {
            panic!()
        };
        assert_eq!(c.sources, vec![CopySource::Path("a'b val".into())]);
    }

    fn args_with(kv: &[(&str, &str)]) -> BuildArgs {
        let mut a = BuildArgs {
            values: BTreeMap::new(),
            target: Platform::parse("linux/arm64/v8").unwrap(),
            build: Platform::parse("linux/amd64").unwrap(),
        };
        for (k, v) in kv {
            a.values.insert(k.to_string(), v.to_string());
        }
        a
    }

    #[test]
    fn meta_args_scope_and_overrides() {
        let df = parse(
            "ARG BASE=alpine\nARG TAG=${BASE}-1\nARG NOVAL\nFROM $BASE:$TAG AS one\nFROM ${NOVAL:-busybox}\n",
            "Dockerfile",
        )
        .unwrap();
        let m = meta_vars(&df, &args_with(&[])).unwrap();
        assert_eq!(m.get("TAG"), Some("alpine-1"));
        assert_eq!(m.get("NOVAL"), None);
        assert_eq!(m.get("TARGETARCH"), Some("arm64"));
        assert_eq!(m.get("TARGETPLATFORM"), Some("linux/arm64/v8"));
        assert_eq!(m.get("BUILDPLATFORM"), Some("linux/amd64"));
        assert_eq!(m.get("BUILDVARIANT"), Some(""));
        let f = df.stages[0].from.value.expand(&m, '\\').unwrap();
        assert_eq!(f.image, "alpine:alpine-1");
        let f = df.stages[1].from.value.expand(&m, '\\').unwrap();
        assert_eq!(f.image, "busybox");
        let m = meta_vars(&df, &args_with(&[("BASE", "debian")])).unwrap();
        assert_eq!(
            df.stages[0].from.value.expand(&m, '\\').unwrap().image,
            "debian:debian-1"
        );
    }

    #[test]
    fn global_args_need_redeclaration_in_stage() {
        let df = parse(
            "ARG V=global\nARG W=w\nFROM x\nARG V\nARG X=$W\nARG TARGETOS\nARG NONE\n",
            "Dockerfile",
        )
        .unwrap();
        let ba = args_with(&[("HTTP_PROXY", "http://p"), ("V", "cli")]);
        let meta = meta_vars(&df, &ba).unwrap();
        let mut s = StageVars::new(&["PATH=/bin".to_string()]);
        assert_eq!(
            s.get("V"),
            None,
            "global ARG invisible before redeclaration"
        );
        for l in &df.stages[0].instructions {
            let Instruction::Arg(decls) = l.value.expand(&s, '\\').unwrap() else {
                panic!()
            };
            for d in &decls {
                s.declare_arg(d, &meta, &ba);
            }
        }
        assert_eq!(s.get("V"), Some("cli"));
        assert_eq!(s.get("X"), Some(""), "W was not redeclared in the stage");
        assert_eq!(s.get("TARGETOS"), Some("linux"));
        assert_eq!(s.get("NONE"), None);
        assert!(s.is_declared("NONE"));
        s.set_env("V", "env-wins");
        assert_eq!(s.get("V"), Some("env-wins"));
        let env = s.run_env(&ba);
        assert_eq!(
            env,
            vec![
                "PATH=/bin",
                "V=env-wins",
                "X=",
                "TARGETOS=linux",
                "HTTP_PROXY=http://p"
            ]
        );
    }

    #[test]
    fn platform_parse_and_display() {
        assert_eq!(
            Platform::parse("linux/arm/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("a/b/c/d").is_none());
        assert_eq!(Platform::host().os, "linux");
    }

    proptest::proptest! {
        #[test]
        fn expand_never_panics(s in ".{0,64}", esc in proptest::sample::select(vec!['\\', '`'])) {
            let v = vars(&[("A", "a"), ("E", "")]);
            let _ = expand_word(&s, esc, &v);
            let _ = expand_heredoc(&s, esc, &v);
        }

        #[test]
        fn plain_words_are_identity(s in "[a-zA-Z0-9_./:,=@%+-]{0,40}") {
            proptest::prop_assert_eq!(expand_word(&s, '\\', &Vars::new()).unwrap(), s);
        }

        #[test]
        fn single_quoting_is_literal(s in "[^']{0,40}") {
            let q = format!("'{s}'");
            proptest::prop_assert_eq!(expand_word(&q, '\\', &vars(&[("A", "a")])).unwrap(), s);
        }
    }
}
