//! `.dockerignore` with docker's semantics (moby/patternmatcher and
//! `ignorefile.ReadAll`), Go's `filepath.Match`/`filepath.Clean`, and where
//! the Dockerfile and the ignore file are found.
//!
//! Reading the file ([`IgnoreMatcher::parse`]): a line whose first
//! character is `#` is a comment (an indented `#` is not); lines are trimmed;
//! blank lines are skipped; a leading `!` makes an exception; the pattern is
//! cleaned with `filepath.Clean` and a leading `/` dropped (so `/foo`,
//! `./foo` and `foo/` are all `foo`).
//!
//! Patterns are Go `filepath.Match` patterns (`*` and `?` never match `/`,
//! `[a-z]`, `[^a-z]`, `\` escapes) plus `**`: `**/` matches any number of
//! directories (also none), a trailing `**` anything. As in docker, `[!a]`
//! is *not* a negation (Go only knows `[^a]`): it matches `!` or `a`.
//!
//! Matching ([`IgnoreMatcher::matches`]): a pattern matches a path if it
//! matches the path or one of its parent directories; patterns are applied
//! in order and the last one that matches decides (an exception
//! re-includes). A directory that is excluded is still walked when an
//! exception pattern might re-include something inside it
//! ([`IgnoreMatcher::must_walk_excluded_dir`], docker's prefix test).

use std::path::{Path, PathBuf};

/// A pattern that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// Go's `filepath.ErrBadPattern`.
    #[error("syntax error in pattern: {0:?}")]
    BadPattern(String),
    #[error("illegal exclusion pattern: \"!\"")]
    BareExclusion,
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `*`: any run of characters other than `/`.
    Star,
    /// `?`: one character other than `/`.
    One,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**` not at the end (regexp `(.*/)?`): nothing, or anything ending in `/`.
    DirStar,
    /// `**` at the end (regexp `.*`): anything.
    AnyStar,
}

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    toks: Vec<Tok>,
}

impl Glob {
    /// Compiles `pattern`; `double_star` enables patternmatcher's `**`
    /// (without it, this is Go's `filepath.Match`).
    pub fn new(pattern: &str, double_star: bool) -> Result<Glob, IgnoreError> {
        let bad = || IgnoreError::BadPattern(pattern.to_string());
        let cs: Vec<char> = pattern.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < cs.len() {
            let c = cs[i];
            i += 1;
            match c {
                '*' if double_star && cs.get(i) == Some(&'*') => {
                    i += 1;
                    if cs.get(i) == Some(&'/') {
                        i += 1;
                    }
                    toks.push(if i >= cs.len() {
                        Tok::AnyStar
                    } else {
                        Tok::DirStar
                    });
                }
                '*' => toks.push(Tok::Star),
                '?' => toks.push(Tok::One),
                '\\' => {
                    let n = *cs.get(i).ok_or_else(bad)?;
                    i += 1;
                    toks.push(Tok::Lit(n));
                }
                '[' => {
                    let mut negated = false;
                    if cs.get(i) == Some(&'^') {
                        negated = true;
                        i += 1;
                    }
                    let mut ranges = Vec::new();
                    loop {
                        let c = *cs.get(i).ok_or_else(bad)?;
                        if c == ']' && !ranges.is_empty() {
                            i += 1;
                            break;
                        }
                        let lo = class_char(&cs, &mut i).ok_or_else(bad)?;
                        let mut hi = lo;
                        if cs.get(i) == Some(&'-') {
                            i += 1;
                            hi = class_char(&cs, &mut i).ok_or_else(bad)?;
                            if hi < lo {
                                return Err(bad());
                            }
                        }
                        ranges.push((lo, hi));
                    }
                    toks.push(Tok::Class { negated, ranges });
                }
                c => toks.push(Tok::Lit(c)),
            }
        }
        Ok(Glob { toks })
    }

    /// Whether the whole of `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        let cs: Vec<char> = s.chars().collect();
        let w = cs.len() + 1;
        // memo[t * w + i]: 0 unknown, 1 false, 2 true.
        let mut memo = vec![0u8; (self.toks.len() + 1) * w];
        self.m(0, 0, &cs, &mut memo, w)
    }

    fn m(&self, t: usize, i: usize, s: &[char], memo: &mut [u8], w: usize) -> bool {
        let key = t * w + i;
        if memo[key] != 0 {
            return memo[key] == 2;
        }
        let r = match self.toks.get(t) {
            None => i == s.len(),
            Some(Tok::Lit(c)) => s.get(i) == Some(c) && self.m(t + 1, i + 1, s, memo, w),
            Some(Tok::One) => {
                s.get(i).is_some_and(|c| *c != '/') && self.m(t + 1, i + 1, s, memo, w)
            }
            Some(Tok::Class { negated, ranges }) => {
                s.get(i)
                    .is_some_and(|c| ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated)
                    && self.m(t + 1, i + 1, s, memo, w)
            }
            Some(Tok::Star) => {
                let mut j = i;
                loop {
                    if self.m(t + 1, j, s, memo, w) {
                        break true;
                    }
                    if j >= s.len() || s[j] == '/' {
                        break false;
                    }
                    j += 1;
                }
            }
            Some(Tok::AnyStar) => (i..=s.len()).any(|j| self.m(t + 1, j, s, memo, w)),
            Some(Tok::DirStar) => {
                self.m(t + 1, i, s, memo, w)
                    || (i..s.len()).any(|j| s[j] == '/' && self.m(t + 1, j + 1, s, memo, w))
            }
        };
        memo[key] = if r { 2 } else { 1 };
        r
    }
}

fn class_char(cs: &[char], i: &mut usize) -> Option<char> {
    let c = *cs.get(*i)?;
    if c == '-' || c == ']' {
        return None;
    }
    *i += 1;
    if c == '\\' {
        let n = *cs.get(*i)?;
        *i += 1;
        return Some(n);
    }
    Some(c)
}

/// `s` with its glob metacharacters escaped.
pub fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `filepath.Match(pattern, name)`.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, IgnoreError> {
    Ok(Glob::new(pattern, false)?.matches(name))
}

/// Whether a string holds `filepath.Match` metacharacters.
pub fn has_wildcards(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// One rule of an ignore file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The cleaned pattern, without `!`.
    pub text: String,
    /// `!pattern`: re-include.
    pub exclusion: bool,
    glob: Glob,
    /// patternmatcher's fast path for `**` followed by literal text: a
    /// plain suffix test (so `**foo` also matches `xfoo`, unlike the
    /// general rule), or the path equal to the text after `**/`.
    suffix: Option<String>,
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.suffix {
            Some(suf) => {
                path.ends_with(suf.as_str()) || suf.strip_prefix('/').is_some_and(|s| s == path)
            }
            None => self.glob.matches(path),
        }
    }
}

/// The rules of a `.dockerignore`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreMatcher {
    patterns: Vec<Pattern>,
}

impl IgnoreMatcher {
    /// Reads an ignore file's text (`ignorefile.ReadAll` then
    /// `NewPatternMatcher`).
    pub fn parse(text: &str) -> Result<IgnoreMatcher, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut p = line.trim();
            if p.is_empty() {
                continue;
            }
            let invert = p.starts_with('!');
            if invert {
                p = p[1..].trim();
            }
            let mut p = if p.is_empty() {
                String::new()
            } else {
                let c = clean_path(p);
                match c.strip_prefix('/') {
                    Some(r) if !r.is_empty() => r.to_string(),
                    _ => c,
                }
            };
            if invert {
                p.insert(0, '!');
            }
            lines.push(p);
        }
        IgnoreMatcher::new(&lines)
    }

    /// `NewPatternMatcher` over already-read patterns (`!` prefix for
    /// exceptions).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<IgnoreMatcher, IgnoreError> {
        let mut out = Vec::new();
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let p = clean_path(p);
            let (exclusion, body) = match p.strip_prefix('!') {
                Some("") => return Err(IgnoreError::BareExclusion),
                Some(b) => (true, b.to_string()),
                None => (false, p),
            };
            let glob = Glob::new(&body, true)?;
            let suffix = body
                .strip_prefix("**")
                .filter(|rest| !rest.contains(['*', '?', '[', ']', '\\']))
                .map(str::to_string);
            out.push(Pattern {
                text: body,
                exclusion,
                glob,
                suffix,
            });
        }
        Ok(IgnoreMatcher { patterns: out })
    }

    /// Reads the ignore file at `path`.
    pub fn from_file(path: &Path) -> Result<IgnoreMatcher, IgnoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| IgnoreError::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        IgnoreMatcher::parse(&text)
    }

    /// The legacy builder's rule (`TrimBuildFilesFromExcludes`): when the
    /// rules exclude one of `files` (the Dockerfile's and the ignore file's
    /// paths in the context), append an exception so it is sent anyway.
    /// BuildKit does not do this (an excluded Dockerfile is still read, but
    /// `COPY . .` leaves it out); call it only to mimic the classic builder.
    pub fn keep_build_files(&mut self, files: &[&str]) {
        for f in files {
            let f = clean_path(f);
            let f = f.trim_start_matches('/');
            if f.is_empty() || f == "." || !self.matches(f) {
                continue;
            }
            if let Ok(glob) = Glob::new(&escape_glob(f), true) {
                self.patterns.push(Pattern {
                    text: f.to_string(),
                    exclusion: true,
                    glob,
                    suffix: None,
                });
            }
        }
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any rule is an exception (`!`).
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Whether `path` (relative to the context root, `/`-separated) is
    /// excluded: `MatchesOrParentMatches`.
    pub fn matches(&self, path: &str) -> bool {
        let file = clean_path(path);
        let file = file.trim_start_matches('/');
        let parent = match file.rfind('/') {
            Some(i) => &file[..i],
            None => ".",
        };
        let parent_dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut m = p.matches(file);
            if !m && parent != "." {
                let mut prefix = String::new();
                for (i, d) in parent_dirs.iter().enumerate() {
                    if i > 0 {
                        prefix.push('/');
                    }
                    prefix.push_str(d);
                    if p.matches(&prefix) {
                        m = true;
                        break;
                    }
                }
            }
            if m {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// For an excluded directory: whether it must still be walked because
    /// an exception pattern starts with it (docker's test: the exception's
    /// text plus `/` begins with `dir/`). Exceptions with wildcards in the
    /// directory part do not count, as in docker.
    pub fn must_walk_excluded_dir(&self, dir: &str) -> bool {
        let dir_slash = format!("{}/", clean_path(dir).trim_start_matches('/'));
        self.patterns
            .iter()
            .any(|p| p.exclusion && format!("{}/", p.text).starts_with(&dir_slash))
    }
}

/// The Dockerfile used when `-f` is not given: `Dockerfile` in the context,
/// else `Containerfile` (podman's name), else None.
pub fn default_dockerfile(context: &Path) -> Option<PathBuf> {
    ["Dockerfile", "Containerfile"]
        .iter()
        .map(|n| context.join(n))
        .find(|p| p.is_file())
}

/// The ignore file for a build: `<dockerfile>.dockerignore` next to the
/// Dockerfile wins, then `.dockerignore` in the context root, then
/// `.containerignore` (podman's name). `dockerfile` is None when the
/// Dockerfile comes from stdin.
pub fn find_ignore_file(context: &Path, dockerfile: Option<&Path>) -> Option<PathBuf> {
    if let Some(df) = dockerfile {
        let mut s = df.as_os_str().to_os_string();
        s.push(".dockerignore");
        let p = PathBuf::from(s);
        if p.is_file() {
            return Some(p);
        }
    }
    [".dockerignore", ".containerignore"]
        .iter()
        .map(|n| context.join(n))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &[&str], path: &str) -> bool {
        IgnoreMatcher::new(patterns).unwrap().matches(path)
    }

    #[test]
    fn clean() {
        for (i, o) in [
            ("", "."),
            (".", "."),
            ("./foo", "foo"),
            ("foo/", "foo"),
            ("/foo", "/foo"),
            ("a//b/./c/..", "a/b"),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("a/../..", ".."),
            ("a/..", "."),
        ] {
            assert_eq!(clean_path(i), o, "{i}");
        }
    }

    #[test]
    fn go_filepath_match() {
        let cases: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abe", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a?b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[!a]", "!", true),
            ("[!a]", "b", false),
        ];
        for (p, s, want) in cases {
            assert_eq!(go_match(p, s).unwrap(), *want, "{p} {s}");
        }
        for bad in ["[", "[^", "[]a]", "[-]", "[x-]", "[z-a]", "a\\", "[a"] {
            assert!(go_match(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn docker_documented_examples() {
        let pats = ["*/temp*", "*/*/temp*", "temp?"];
        assert!(m(&pats, "somedir/temporary.txt"));
        assert!(m(&pats, "somedir/temp"));
        assert!(m(&pats, "somedir/subdir/temporary.txt"));
        assert!(m(&pats, "tempa"));
        assert!(m(&pats, "tempb/file"));
        assert!(!m(&pats, "temporary.txt"));
        assert!(!m(&pats, "a/b/c/temp"));
        // **
        assert!(m(&["**/*.go"], "main.go"));
        assert!(m(&["**/*.go"], "a/b/c.go"));
        assert!(!m(&["**/*.go"], "a/b/c.gox"));
        // exceptions: the last matching line wins.
        let pats = ["*.md", "!README*.md", "README-secret.md"];
        assert!(m(&pats, "CHANGES.md"));
        assert!(!m(&pats, "README.md"));
        assert!(m(&pats, "README-secret.md"));
        let pats = ["*.md", "README-secret.md", "!README*.md"];
        assert!(!m(&pats, "README-secret.md"));
    }

    #[test]
    fn patternmatcher_cases() {
        // A directory pattern excludes everything below it.
        assert!(m(&["docs"], "docs/a/b.txt"));
        assert!(m(&["docs/"], "docs/a"));
        assert!(IgnoreMatcher::parse("/docs\n").unwrap().matches("docs"));
        assert!(
            !m(&["/docs"], "docs"),
            "NewPatternMatcher itself keeps the slash; ReadAll drops it"
        );
        assert!(m(&["./docs"], "docs/x"));
        assert!(!m(&["docs"], "mydocs"));
        assert!(!m(&["docs"], "a/docs"));
        assert!(m(&["*"], "fileutils.go"));
        assert!(!m(&["*.go"], "a/b.go"), "* does not cross /");
        assert!(m(&["*.go"], "b.go"));
        assert!(m(&["**"], "a/b/c"));
        assert!(m(&["**/"], "a/b"));
        assert!(m(&["dir/**"], "dir/a/b"));
        assert!(
            !m(&["dir/**"], "dir"),
            "dir itself is not matched by dir/**"
        );
        assert!(m(&["**/dir"], "dir"));
        assert!(m(&["**/dir"], "a/b/dir/file"));
        assert!(m(&["a/**/b"], "a/b"));
        assert!(m(&["a/**/b"], "a/x/y/b"));
        assert!(!m(&["a/**/b"], "a/xb"));
        assert!(m(&["**foo"], "a/xfoo"), "patternmatcher's suffix fast path");
        assert!(m(&["**.txt"], "a/b.txt"));
        assert!(!m(&["**/foo"], "xfoo"));
        assert!(m(&["a**b"], "ab"));
        assert!(m(&["a**b"], "ax/b"));
        assert!(!m(&["a**b"], "axb"), "patternmatcher's (.*/)? quirk");
        assert!(m(&["abc.def"], "abc.def"));
        assert!(!m(&["abc.def"], "abcxdef"), ". is literal");
        assert!(m(&["a(b)+c$"], "a(b)+c$"));
        assert!(m(&["docs", "!docs/README.md"], "docs/x"));
        assert!(!m(&["docs", "!docs/README.md"], "docs/README.md"));
        assert!(!m(&["*", "!keep"], "keep"));
        assert!(!m(&["*", "!keep"], "keep/inner"));
        assert!(m(&["*", "!keep", "keep/x*"], "keep/xy"));
        assert!(!m(&["a/b", "!a"], "a/b/c"), "the last matching rule wins");
        assert!(!m(&["a", "!a/b"], "a/b/c"));
    }

    #[test]
    fn read_file_rules() {
        let text = "\u{feff}# comment\n\n  \n *.log \n!important.log\n/abs/\n./dot\n  # not a comment\n! spaced \nsub/../up\n";
        let mm = IgnoreMatcher::parse(text).unwrap();
        let texts: Vec<(String, bool)> = mm
            .patterns()
            .iter()
            .map(|p| (p.text.clone(), p.exclusion))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("*.log".into(), false),
                ("important.log".into(), true),
                ("abs".into(), false),
                ("dot".into(), false),
                ("# not a comment".into(), false),
                ("spaced".into(), true),
                ("up".into(), false),
            ]
        );
        assert!(mm.matches("x.log"));
        assert!(!mm.matches("important.log"));
        assert!(mm.matches("abs/x"));
        assert!(mm.matches("# not a comment"));
        assert!(matches!(
            IgnoreMatcher::parse("!\n").unwrap_err(),
            IgnoreError::BareExclusion
        ));
        assert!(matches!(
            IgnoreMatcher::parse("[\n").unwrap_err(),
            IgnoreError::BadPattern(_)
        ));
    }

    #[test]
    fn walk_excluded_dirs_only_when_an_exception_may_apply() {
        let mm = IgnoreMatcher::new(&["docs", "!docs/keep.md", "vendor", "!*/x"]).unwrap();
        assert!(mm.must_walk_excluded_dir("docs"));
        assert!(
            !mm.must_walk_excluded_dir("vendor"),
            "wildcard exceptions do not count"
        );
        let mm = IgnoreMatcher::new(&["a", "!a/b/c"]).unwrap();
        assert!(mm.must_walk_excluded_dir("a"));
        assert!(mm.must_walk_excluded_dir("a/b"));
        assert!(!mm.must_walk_excluded_dir("a/c"));
        assert!(!mm.must_walk_excluded_dir("ab"));
    }

    #[test]
    fn keep_build_files_like_the_classic_builder() {
        let mut mm = IgnoreMatcher::new(&["*", "!src"]).unwrap();
        mm.keep_build_files(&["Dockerfile", ".dockerignore", "./src/x"]);
        assert!(!mm.matches("Dockerfile"));
        assert!(!mm.matches(".dockerignore"));
        assert!(mm.matches("other"));
        assert_eq!(
            mm.patterns().len(),
            4,
            "src/x was not excluded: no rule added"
        );
        let mut mm = IgnoreMatcher::new(&["docs"]).unwrap();
        mm.keep_build_files(&["docs/Dockerfile[1]"]);
        assert!(!mm.matches("docs/Dockerfile[1]"));
        assert!(mm.matches("docs/other"));
    }

    #[test]
    fn lookup_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(default_dockerfile(d), None);
        std::fs::write(d.join("Containerfile"), "FROM x").unwrap();
        assert_eq!(default_dockerfile(d), Some(d.join("Containerfile")));
        std::fs::write(d.join("Dockerfile"), "FROM x").unwrap();
        assert_eq!(default_dockerfile(d), Some(d.join("Dockerfile")));
        let df = d.join("sub/app.Dockerfile");
        assert_eq!(find_ignore_file(d, Some(&df)), None);
        std::fs::write(d.join(".containerignore"), "").unwrap();
        assert_eq!(
            find_ignore_file(d, Some(&df)),
            Some(d.join(".containerignore"))
        );
        std::fs::write(d.join(".dockerignore"), "").unwrap();
        assert_eq!(find_ignore_file(d, None), Some(d.join(".dockerignore")));
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/app.Dockerfile.dockerignore"), "").unwrap();
        assert_eq!(
            find_ignore_file(d, Some(&df)),
            Some(d.join("sub/app.Dockerfile.dockerignore"))
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_and_match_never_panic(text in "(?s).{0,200}", path in "[a-z/.*?!\\[\\]\\\\^-]{0,30}") {
            if let Ok(mm) = IgnoreMatcher::parse(&text) {
                let _ = mm.matches(&path);
                let _ = mm.must_walk_excluded_dir(&path);
            }
        }

        #[test]
        fn literal_patterns_match_themselves_and_children(
            p in "[a-z]{1,6}(/[a-z]{1,6}){0,3}",
            child in "[a-z]{1,6}",
        ) {
            let mm = IgnoreMatcher::new(&[p.as_str()]).unwrap();
            proptest::prop_assert!(mm.matches(&p));
            let c = format!("{p}/{child}");
            proptest::prop_assert!(mm.matches(&c));
            let neg = IgnoreMatcher::new(&[p.as_str(), &format!("!{p}")]).unwrap();
            proptest::prop_assert!(!neg.matches(&p));
        }

        #[test]
        fn clean_is_idempotent(p in "[a./]{0,20}") {
            let c = clean_path(&p);
            proptest::prop_assert_eq!(clean_path(&c), c);
        }

        #[test]
        fn star_never_crosses_slash(a in "[a-z]{1,5}", b in "[a-z]{1,5}") {
            let s = format!("{a}/{b}");
            proptest::prop_assert!(!go_match("*", &s).unwrap());
            proptest::prop_assert!(go_match("*/*", &s).unwrap());
        }
    }
}
