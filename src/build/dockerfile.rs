//! Dockerfile parser, following docker/BuildKit's documented semantics.
//!
//! [`parse`] turns the text into a [`Dockerfile`]: the parser directives, the
//! global `ARG`s before the first `FROM` ([`Dockerfile::meta_args`]) and the
//! [`Stage`]s with their [`Instruction`]s, each [`Located`] at its line.
//!
//! # What the parser does and does not do
//!
//! * Parser directives (`# escape=`, `# syntax=`, `# check=`) are read at the
//!   top only, until the first line that is not a directive (a blank line, a
//!   comment, an instruction, or an unknown directive, which is a comment).
//! * Lines: a trailing `\r` is dropped; lines whose first non-blank character
//!   is `#` are comments; an escape character followed only by blanks at the
//!   end of a line continues the instruction on the next line (the escape and
//!   the line break vanish, nothing is inserted); comment lines and blank
//!   lines inside a continuation are skipped, as BuildKit does.
//! * Heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`, several per line) follow `RUN`,
//!   `COPY` and `ADD` in shell form.
//! * Words that need variable substitution are kept **raw** (quotes and
//!   escapes included): [`Instruction::expand`] (in [`super::expand`]) turns
//!   them into their final values with the stage's variables, as BuildKit
//!   does when it dispatches the instruction. The executor must call it on
//!   every instruction before using it.
//!
//! Errors are [`ParseError`]s: file, line and BuildKit's wording.

use std::fmt;
use std::time::Duration;

/// The default escape character.
pub const DEFAULT_ESCAPE: char = '\\';

/// A parse error: where, and BuildKit's message.
///
/// `Display` prints `dockerfile parse error on line N: MESSAGE`, BuildKit's
/// words (what `docker build` prints after `ERROR: failed to solve: `);
/// [`ParseError::short`] gives `Dockerfile:N: MESSAGE`, and
/// [`ParseError::excerpt`] BuildKit's box of source lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dockerfile parse error on line {line}: {message}")]
pub struct ParseError {
    /// The file name given to [`parse`] (e.g. `Dockerfile`).
    pub file: String,
    /// 1-based line of the instruction (0 when the error concerns the whole file).
    pub line: usize,
    pub message: String,
}

impl ParseError {
    fn new(file: &str, line: usize, message: impl Into<String>) -> Self {
        ParseError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    /// `Dockerfile:3: unknown instruction: RUNN`.
    pub fn short(&self) -> String {
        format!("{}:{}: {}", self.file, self.line, self.message)
    }

    /// BuildKit's excerpt printed before the error: the file and line, then
    /// up to four lines before and the offending one marked with `>>>`.
    /// Empty when the error has no line.
    pub fn excerpt(&self, text: &str) -> String {
        if self.line == 0 {
            return String::new();
        }
        let lines: Vec<&str> = text.split('\n').collect();
        let first = self.line.saturating_sub(4).max(1);
        let last = (self.line + 1).min(lines.len());
        let width = last.to_string().len().max(3);
        let mut out = format!("{}:{}\n--------------------\n", self.file, self.line);
        for n in first..=last {
            let l = lines
                .get(n - 1)
                .copied()
                .unwrap_or("")
                .trim_end_matches('\r');
            let mark = if n == self.line { ">>>" } else { "   " };
            out.push_str(&format!("{n:>width$} | {mark} {l}\n"));
        }
        out.push_str("--------------------\n");
        out
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The name given to [`parse`], used in errors.
    pub file: String,
    /// The escape character (`\` or `` ` ``), from `# escape=`.
    pub escape: char,
    /// The `# syntax=` directive, recorded and otherwise ignored.
    pub syntax: Option<String>,
    /// `ARG`s before the first `FROM`: usable in `FROM` lines, and in a stage
    /// once re-declared there.
    pub meta_args: Vec<Located<Vec<ArgDecl>>>,
    /// The stages, in file order (`Stage::index` is the position).
    pub stages: Vec<Stage>,
    /// BuildKit's lint warnings for this file, in line order.
    pub warnings: Vec<Warning>,
}

/// A BuildKit lint warning (the build goes on). `Display` gives buildx's
/// line: `JSONArgsRecommended: JSON arguments recommended for CMD to
/// prevent unintended behavior related to OS signals (line 3)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    /// The rule name (`NoEmptyContinuation`, `MaintainerDeprecated`,
    /// `JSONArgsRecommended`, `StageNameCasing`).
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (line {})", self.rule, self.message, self.line)
    }
}

/// One build stage: a `FROM` and the instructions up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based position in the file (what `COPY --from=0` refers to).
    pub index: usize,
    /// `AS name`, lowercased (docker's stage names are case-insensitive).
    pub name: Option<String>,
    /// The `FROM` line (raw: expand it with [`super::expand::meta_vars`]).
    pub from: Located<FromLine>,
    /// Everything after `FROM`, in order.
    pub instructions: Vec<Located<Instruction>>,
}

/// A value with the place it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// 1-based first line of the instruction.
    pub line: usize,
    /// Last line (continuations and heredocs included).
    pub end_line: usize,
    /// The instruction as written on its logical line (continuations joined,
    /// heredoc bodies left out), e.g. `RUN echo hi` — what docker shows as
    /// the step and in `docker history`.
    pub original: String,
    pub value: T,
}

/// `FROM [--platform=P] IMAGE [AS NAME]`, raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromLine {
    /// Image reference, stage name or `scratch` (raw; may hold `$VAR`s).
    pub image: String,
    /// `--platform` (raw).
    pub platform: Option<String>,
    /// `AS name`, lowercased.
    pub name: Option<String>,
}

/// Shell form (a string run by the `SHELL`) or exec form (a JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    Shell(String),
    Exec(Vec<String>),
}

/// One heredoc: `<<NAME` … `NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter, quotes removed (for `COPY <<EOF /x` also the file name).
    pub name: String,
    /// The body, each line ending with `\n` (tabs stripped for `<<-`).
    pub content: String,
    /// False when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): no
    /// variable expansion in the body.
    pub expand: bool,
    /// `<<-`: leading tabs were stripped from the body and the delimiter.
    pub chomp: bool,
}

/// `RUN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The command. In shell form with heredocs the heredoc markers are part
    /// of the string (`python3 <<EOF`): BuildKit runs a command that is only
    /// one heredoc (`RUN <<EOF`) as a script made of its body, and otherwise
    /// hands the shell the line followed by the bodies and delimiters.
    pub command: CommandLine,
    pub heredocs: Vec<Heredoc>,
    /// `--mount` options, in order.
    pub mounts: Vec<Mount>,
    /// `--network=default|none|host`.
    pub network: Option<Network>,
    /// `--security=sandbox|insecure`.
    pub security: Option<Security>,
}

/// How a RUN is executed (BuildKit's rules for heredocs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunScript {
    /// Exec form: this argv, no shell.
    Exec(Vec<String>),
    /// Run this string with the stage's `SHELL` (`/bin/sh -c` by default).
    Shell(String),
    /// `RUN <<EOF` whose body starts with `#!`: write `content` to a file
    /// named `name` (mode 0755; BuildKit mounts it under `/dev/pipes/`) and
    /// exec that file, without the shell.
    Shebang { name: String, content: String },
}

impl Run {
    /// What to execute: exec form as is; a command that is exactly one
    /// heredoc runs its body (a `#!` body as a script file); any other
    /// command with heredocs goes to the shell as the line followed by each
    /// body and its delimiter, so the shell reads the heredocs itself.
    pub fn script(&self) -> RunScript {
        let cmd = match &self.command {
            CommandLine::Exec(v) => return RunScript::Exec(v.clone()),
            CommandLine::Shell(c) => c,
        };
        let Some(first) = self.heredocs.first() else {
            return RunScript::Shell(cmd.clone());
        };
        let lone = {
            let t = cmd.trim();
            let marks = heredoc_marks(t, DEFAULT_ESCAPE);
            marks.len() == 1 && !t.contains([' ', '\t']) && t.starts_with("<<")
        };
        if lone {
            if first.content.starts_with("#!") {
                return RunScript::Shebang {
                    name: first.name.clone(),
                    content: first.content.clone(),
                };
            }
            return RunScript::Shell(first.content.clone());
        }
        let mut full = cmd.clone();
        for h in &self.heredocs {
            full.push('\n');
            full.push_str(&h.content);
            full.push_str(&h.name);
        }
        RunScript::Shell(full)
    }
}

/// BuildKit's summary of a heredoc for the step name: its first line,
/// with `...` when there are more (`RUN <<EOF (apt-get update...)`).
pub fn summarize_heredoc(content: &str) -> String {
    let t = content.trim();
    let mut lines = t.split('\n');
    let mut s = lines
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string();
    if lines.next().is_some() {
        s.push_str("...");
    }
    s
}

/// `RUN --network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Default,
    None,
    Host,
}

/// `RUN --security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Sandbox,
    Insecure,
}

/// `RUN --mount=type=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

/// `sharing=` of a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSharing {
    Shared,
    Private,
    Locked,
}

/// One `RUN --mount`, with BuildKit's defaults filled in. String fields are
/// raw until [`Instruction::expand`] (BuildKit expands mount options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub kind: MountType,
    /// Mount point in the container. Always set for bind/cache/tmpfs; for
    /// secret it defaults to `/run/secrets/<id>`, for ssh to
    /// `/run/buildkit/ssh_agent.<n>` (n counting ssh mounts from 0).
    pub target: String,
    /// `source`/`src`: path in `from` (bind, cache) — default its root.
    pub source: Option<String>,
    /// `from`: stage name, index or image (bind, cache); None = the context
    /// (bind) or an empty cache dir (cache).
    pub from: Option<String>,
    /// Bind mounts are read-only unless `rw`; caches read-write unless `ro`.
    pub readonly: bool,
    /// `id` (cache id, secret id, ssh id). Secret id defaults to the
    /// target's base name; cache id to the target.
    pub id: Option<String>,
    pub sharing: CacheSharing,
    /// `mode` (octal): cache default 0755, secret 0400, ssh 0600.
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `required` (secret, ssh): fail when not provided.
    pub required: bool,
    /// `size` of a tmpfs, in bytes.
    pub size: Option<u64>,
    /// `env` (secret): expose the secret as this variable instead of a file.
    pub env: Option<String>,
}

/// `COPY` and `ADD` (raw words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyArgs {
    /// Sources: context paths (may hold wildcards, URLs for ADD) or heredocs.
    pub sources: Vec<CopySource>,
    /// Destination (a trailing `/` means "into this directory").
    pub dest: String,
    /// `--from` (COPY only): stage name, index or image.
    pub from: Option<String>,
    /// `--chown=user[:group]`.
    pub chown: Option<String>,
    /// `--chmod` (octal, e.g. `0755`).
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
    /// True when written in JSON form.
    pub json: bool,
}

/// A `COPY`/`ADD` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    Path(String),
    /// `COPY <<EOF /dest`: a file named after the delimiter with the body.
    Heredoc(Heredoc),
}

/// One `ENV`/`LABEL` pair (raw until expanded: quotes still in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// One name in an `ARG` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    /// `=default` (raw until expanded); None when declared without `=`.
    pub default: Option<String>,
}

/// `HEALTHCHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check.
    None,
    Check(HealthConfig),
}

/// `HEALTHCHECK [OPTIONS] CMD …`, as docker stores it in the image config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// `["CMD", args…]` (exec form) or `["CMD-SHELL", "command"]`.
    pub test: Vec<String>,
    /// Zero means "not set" (docker's default applies), as in the image config.
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: u32,
}

/// `ONBUILD INSTRUCTION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onbuild {
    /// The trigger as written (what goes into the image config's `OnBuild`).
    pub expression: String,
    /// The trigger, parsed (validated; not expanded).
    pub instruction: Box<Instruction>,
}

/// One instruction after `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    Run(Run),
    Cmd(CommandLine),
    Entrypoint(CommandLine),
    /// `SHELL ["executable", "params"…]` (JSON form only).
    Shell(Vec<String>),
    Copy(CopyArgs),
    Add(CopyArgs),
    Env(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    Label(Vec<KeyValue>),
    /// Ports as written (`80`, `80/udp`, `8000-8010`).
    Expose(Vec<String>),
    Volume(Vec<String>),
    Workdir(String),
    User(String),
    StopSignal(String),
    Healthcheck(Healthcheck),
    Onbuild(Onbuild),
    /// Deprecated; docker records it as the image's `Author`.
    Maintainer(String),
}

impl Instruction {
    /// The instruction keyword, upper case (`RUN`, `COPY`, …).
    pub fn keyword(&self) -> &'static str {
        match self {
            Instruction::Run(_) => "RUN",
            Instruction::Cmd(_) => "CMD",
            Instruction::Entrypoint(_) => "ENTRYPOINT",
            Instruction::Shell(_) => "SHELL",
            Instruction::Copy(_) => "COPY",
            Instruction::Add(_) => "ADD",
            Instruction::Env(_) => "ENV",
            Instruction::Arg(_) => "ARG",
            Instruction::Label(_) => "LABEL",
            Instruction::Expose(_) => "EXPOSE",
            Instruction::Volume(_) => "VOLUME",
            Instruction::Workdir(_) => "WORKDIR",
            Instruction::User(_) => "USER",
            Instruction::StopSignal(_) => "STOPSIGNAL",
            Instruction::Healthcheck(_) => "HEALTHCHECK",
            Instruction::Onbuild(_) => "ONBUILD",
            Instruction::Maintainer(_) => "MAINTAINER",
        }
    }
}

const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parses a Dockerfile. `file` names it in errors (`Dockerfile`).
pub fn parse(text: &str, file: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Vec<&str> = text.split('\n').collect();
    let lines: Vec<&str> = raw
        .iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut p = Parser {
        file,
        lines,
        raw,
        pos: 0,
        escape: DEFAULT_ESCAPE,
        warnings: Vec::new(),
    };
    let syntax = p.directives()?;
    let mut df = Dockerfile {
        file: file.to_string(),
        escape: p.escape,
        syntax,
        meta_args: Vec::new(),
        stages: Vec::new(),
        warnings: Vec::new(),
    };
    let mut any = false;
    while let Some(logical) = p.next_logical()? {
        any = true;
        let line = logical.line;
        let (kw, _) = split_keyword(&logical.text);
        if kw.eq_ignore_ascii_case("from") {
            let from = parse_from(&logical, file)?;
            let words: Vec<&str> = logical.text.split_whitespace().collect();
            if let Some(n) = words.last().filter(|_| from.value.name.is_some())
                && *n != n.to_ascii_lowercase()
            {
                p.warnings.push(Warning {
                    line,
                    rule: "StageNameCasing",
                    message: format!("Stage name '{n}' should be lowercase"),
                });
            }
            let index = df.stages.len();
            df.stages.push(Stage {
                index,
                name: from.value.name.clone(),
                from,
                instructions: Vec::new(),
            });
            continue;
        }
        let instr = p.instruction(logical)?;
        match &instr.value {
            Instruction::Maintainer(_) => p.warnings.push(Warning {
                line,
                rule: "MaintainerDeprecated",
                message: "Maintainer instruction is deprecated in favor of using label".into(),
            }),
            Instruction::Cmd(CommandLine::Shell(_))
            | Instruction::Entrypoint(CommandLine::Shell(_)) => p.warnings.push(Warning {
                line,
                rule: "JSONArgsRecommended",
                message: format!(
                    "JSON arguments recommended for {} to prevent unintended behavior related to OS signals",
                    instr.value.keyword()
                ),
            }),
            _ => {}
        }
        match df.stages.last_mut() {
            Some(stage) => stage.instructions.push(instr),
            None => match instr.value {
                Instruction::Arg(decls) => df.meta_args.push(Located {
                    line: instr.line,
                    end_line: instr.end_line,
                    original: instr.original,
                    value: decls,
                }),
                _ => {
                    return Err(ParseError::new(
                        file,
                        line,
                        "no build stage in current context",
                    ));
                }
            },
        }
    }
    if !any {
        return Err(ParseError::new(file, 0, "file with no instructions"));
    }
    if df.stages.is_empty() {
        return Err(ParseError::new(
            file,
            0,
            "dockerfile contains no stages to build",
        ));
    }
    p.warnings.sort_by_key(|w| w.line);
    df.warnings = p.warnings;
    Ok(df)
}

/// One logical line: continuations joined, comments inside removed.
#[derive(Debug)]
struct Logical {
    line: usize,
    end_line: usize,
    text: String,
}

struct Parser<'a> {
    warnings: Vec<Warning>,
    file: &'a str,
    lines: Vec<&'a str>,
    /// The same lines with their `\r` (heredoc bodies).
    raw: Vec<&'a str>,
    pos: usize,
    escape: char,
}

fn is_blank(s: &str) -> bool {
    s.trim_matches([' ', '\t']).is_empty()
}

fn is_comment(s: &str) -> bool {
    s.trim_start_matches([' ', '\t']).starts_with('#')
}

impl<'a> Parser<'a> {
    fn err(&self, line: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.file, line, msg)
    }

    /// Reads the parser directives at the top; returns `syntax`.
    fn directives(&mut self) -> Result<Option<String>, ParseError> {
        let mut syntax = None;
        let mut seen: Vec<String> = Vec::new();
        while self.pos < self.lines.len() {
            let l = self.lines[self.pos];
            let Some((key, value)) = directive(l) else {
                break;
            };
            let key = key.to_ascii_lowercase();
            if !matches!(key.as_str(), "escape" | "syntax" | "check") {
                // Unknown directive: a comment, and the end of directives.
                break;
            }
            let line = self.pos + 1;
            if seen.contains(&key) {
                return Err(self.err(line, format!("only one {key} parser directive can be used")));
            }
            seen.push(key.clone());
            match key.as_str() {
                "escape" => match value {
                    "\\" => self.escape = '\\',
                    "`" => self.escape = '`',
                    other => {
                        return Err(self.err(
                            line,
                            format!("invalid escape token '{other}' does not match ` or \\"),
                        ));
                    }
                },
                "syntax" => syntax = Some(value.to_string()),
                _ => {}
            }
            self.pos += 1;
        }
        Ok(syntax)
    }

    /// Whether `s` ends with the escape character followed only by blanks;
    /// returns the text without them.
    /// BuildKit's rule: an escape that is itself escaped (`echo \\` at the
    /// end of a line) does not continue the line, unless it is alone.
    fn continuation<'s>(&self, s: &'s str) -> Option<&'s str> {
        let t = s.trim_end_matches([' ', '\t']);
        let head = t.strip_suffix(self.escape)?;
        if head.ends_with(self.escape) {
            return None;
        }
        Some(head)
    }

    fn next_logical(&mut self) -> Result<Option<Logical>, ParseError> {
        while self.pos < self.lines.len() {
            let l = self.lines[self.pos];
            if is_blank(l) || is_comment(l) {
                self.pos += 1;
                continue;
            }
            let line = self.pos + 1;
            self.pos += 1;
            let mut text = String::new();
            let mut cur = l.trim_start_matches([' ', '\t']);
            let mut empty_continuation = false;
            loop {
                match self.continuation(cur) {
                    None => {
                        text.push_str(cur);
                        break;
                    }
                    Some(head) => {
                        text.push_str(head);
                        // Next non-blank, non-comment line continues it.
                        let mut next = None;
                        while self.pos < self.lines.len() {
                            let n = self.lines[self.pos];
                            self.pos += 1;
                            if is_comment(n) {
                                continue;
                            }
                            if is_blank(n) {
                                empty_continuation = true;
                                continue;
                            }
                            next = Some(n);
                            break;
                        }
                        match next {
                            Some(n) => cur = n,
                            None => break,
                        }
                    }
                }
            }
            if empty_continuation {
                self.warnings.push(Warning {
                    line: self.pos,
                    rule: "NoEmptyContinuation",
                    message: "Empty continuation line".into(),
                });
            }
            return Ok(Some(Logical {
                line,
                end_line: self.pos,
                text,
            }));
        }
        Ok(None)
    }

    /// Reads the bodies of `heredocs` (names/flags from the line) from the
    /// following lines.
    fn read_heredocs(
        &mut self,
        line: usize,
        marks: Vec<(String, bool, bool)>,
    ) -> Result<Vec<Heredoc>, ParseError> {
        let mut out = Vec::new();
        for (name, expand, chomp) in marks {
            let mut content = String::new();
            let mut found = false;
            while self.pos < self.lines.len() {
                // Bodies keep their line ends as written (a CRLF file keeps
                // its `\r`), as BuildKit's do.
                let raw = self.raw[self.pos];
                self.pos += 1;
                let l = if chomp {
                    raw.trim_start_matches('\t')
                } else {
                    raw
                };
                if l.trim_end_matches(['\r', '\n']) == name {
                    found = true;
                    break;
                }
                content.push_str(l);
                content.push('\n');
            }
            if !found {
                return Err(self.err(line, "unterminated heredoc"));
            }
            out.push(Heredoc {
                name,
                content,
                expand,
                chomp,
            });
        }
        Ok(out)
    }

    fn instruction(&mut self, logical: Logical) -> Result<Located<Instruction>, ParseError> {
        let line = logical.line;
        let (kw, rest) = split_keyword(&logical.text);
        let upper = kw.to_ascii_uppercase();
        let mut heredocs = Vec::new();
        // Heredocs follow RUN/COPY/ADD, also as an ONBUILD trigger.
        let (hkw, hrest) = if upper == "ONBUILD" {
            let (k, r) = split_keyword(rest);
            (k.to_ascii_uppercase(), r)
        } else {
            (upper.clone(), rest)
        };
        if matches!(hkw.as_str(), "RUN" | "COPY" | "ADD") && hrest.contains("<<") {
            let (_, args) = split_flags(hrest).map_err(|m| self.err(line, m))?;
            if parse_json_array(args).is_none() {
                let marks = heredoc_marks(args, self.escape);
                if !marks.is_empty() {
                    heredocs = self.read_heredocs(line, marks)?;
                }
            }
        }
        let value = build_instruction(&upper, kw, rest, heredocs, self.escape)
            .map_err(|m| self.err(line, m))?;
        Ok(Located {
            line,
            end_line: self.pos.max(logical.end_line),
            original: logical.text.trim_end_matches([' ', '\t']).to_string(),
            value,
        })
    }
}

/// `# key=value` at the top of the file.
fn directive(l: &str) -> Option<(&str, &str)> {
    let rest = l.strip_prefix('#')?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let key_len = rest
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphabetic() || (*i > 0 && c.is_ascii_digit())))
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    if key_len == 0 {
        return None;
    }
    let (key, after) = rest.split_at(key_len);
    let after = after.trim_start_matches([' ', '\t']);
    let value = after.strip_prefix('=')?.trim_matches([' ', '\t']);
    if value.is_empty() {
        return None;
    }
    Some((key, value))
}

fn split_keyword(text: &str) -> (&str, &str) {
    let t = text.trim_start_matches([' ', '\t']);
    match t.find([' ', '\t']) {
        Some(i) => (&t[..i], t[i..].trim_start_matches([' ', '\t'])),
        None => (t, ""),
    }
}

/// A `--flag[=value]` at the start of an instruction's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flag {
    name: String,
    value: Option<String>,
}

/// Splits the leading `--flags` from `rest` (BuildKit's extractBuilderFlags):
/// flags end at the first word not starting with `--` (or after a bare
/// `--`). Returns the flags (quotes removed, see [`read_flag_word`]) and the
/// remaining text.
fn split_flags(rest: &str) -> Result<(Vec<Flag>, &str), String> {
    let mut flags = Vec::new();
    let mut s = rest.trim_start_matches([' ', '\t']);
    loop {
        if !s.starts_with("--") {
            return Ok((flags, s));
        }
        let (word, len) = read_flag_word(s);
        let after = s[len..].trim_start_matches([' ', '\t']);
        if word == "--" {
            return Ok((flags, after));
        }
        let body = &word[2..];
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        flags.push(Flag { name, value });
        s = after;
    }
}

/// Reads one flag word at the start of `s` as BuildKit's extractBuilderFlags
/// does: quotes are removed (a quoted blank does not end the word) and a
/// backslash, whatever the escape directive, takes the next character
/// literally, inside quotes too. Returns the word and the bytes consumed.
fn read_flag_word(s: &str) -> (String, usize) {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        if quote.is_none() && c.is_whitespace() {
            return (out, i);
        }
        match c {
            '\\' => {
                if let Some((_, n)) = it.next() {
                    out.push(n);
                }
            }
            c if Some(c) == quote => quote = None,
            '"' | '\'' if quote.is_none() => quote = Some(c),
            c => out.push(c),
        }
    }
    (out, s.len())
}

/// Reads one whitespace-delimited word at the start of `s`, removing quotes
/// and escapes (for flag values). Returns the word and the bytes consumed.
fn read_word_unquoted(s: &str, escape: char) -> (String, usize) {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) if c == escape && quote == Some('"') => {
                if let Some((_, n)) = it.next() {
                    out.push(n);
                }
            }
            Some(_) => out.push(c),
            None if c == ' ' || c == '\t' => return (out, i),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == escape => {
                if let Some((_, n)) = it.next() {
                    out.push(n);
                }
            }
            None => out.push(c),
        }
    }
    (out, s.len())
}

/// BuildKit's parseWords: whitespace-separated words, quotes and escapes
/// kept (a quoted or escaped blank does not split).
pub(crate) fn split_words_raw(s: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if quote.is_none() && (c == ' ' || c == '\t') {
            if in_word {
                words.push(std::mem::take(&mut cur));
                in_word = false;
            }
            continue;
        }
        in_word = true;
        cur.push(c);
        if c == escape && quote != Some('\'') {
            if let Some(n) = it.next() {
                cur.push(n);
            }
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            _ => {}
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Finds heredoc markers (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) among the
/// unquoted words of a shell-form line: (name, expand, chomp).
fn heredoc_marks(args: &str, escape: char) -> Vec<(String, bool, bool)> {
    let mut out = Vec::new();
    for w in split_words_raw(args, escape) {
        let w = w.trim_start_matches(|c: char| c.is_ascii_digit());
        let Some(rest) = w.strip_prefix("<<") else {
            continue;
        };
        let (chomp, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if rest.contains('<') {
            continue;
        }
        let quoted = rest.contains(['"', '\'']);
        let (name, _) = read_word_unquoted(rest, escape);
        if name.is_empty() {
            continue;
        }
        out.push((name, !quoted, chomp));
    }
    out
}

/// BuildKit's parseJSON: a JSON array of strings, or None.
pub(crate) fn parse_json_array(s: &str) -> Option<Vec<String>> {
    let t = s.trim_matches([' ', '\t']);
    if !t.starts_with('[') || !t.ends_with(']') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let arr = v.as_array()?;
    arr.iter().map(|x| x.as_str().map(str::to_string)).collect()
}

/// Instruction-level flag set: which flags an instruction accepts.
struct Flags {
    instr: &'static str,
    flags: Vec<Flag>,
}

impl Flags {
    fn new(instr: &'static str, flags: Vec<Flag>, allowed: &[&str]) -> Result<Self, String> {
        for f in &flags {
            if !allowed.contains(&f.name.as_str()) {
                return Err(format!("unknown flag: --{}", f.name));
            }
        }
        Ok(Flags { instr, flags })
    }
    fn string(&self, name: &str) -> Result<Option<String>, String> {
        let mut found = None;
        for f in self.flags.iter().filter(|f| f.name == name) {
            if found.is_some() {
                return Err(format!("duplicate flag specified: --{name}"));
            }
            match &f.value {
                Some(v) => found = Some(v.clone()),
                None => return Err(format!("missing a value on flag: --{name}")),
            }
        }
        Ok(found)
    }
    fn list(&self, name: &str) -> Result<Vec<String>, String> {
        self.flags
            .iter()
            .filter(|f| f.name == name)
            .map(|f| {
                f.value
                    .clone()
                    .ok_or_else(|| format!("missing a value on flag: --{name}"))
            })
            .collect()
    }
    fn boolean(&self, name: &str) -> Result<bool, String> {
        let mut found = false;
        let mut seen = false;
        for f in self.flags.iter().filter(|f| f.name == name) {
            if seen {
                return Err(format!("duplicate flag specified: --{name}"));
            }
            seen = true;
            found = match f.value.as_deref() {
                None => true,
                Some("") => return Err(format!("missing a value on flag: --{name}")),
                Some(v) if v.eq_ignore_ascii_case("true") => true,
                Some(v) if v.eq_ignore_ascii_case("false") => false,
                Some(v) => {
                    return Err(format!(
                        "expecting boolean value for flag --{name}, not: {v}"
                    ));
                }
            };
        }
        Ok(found)
    }
    fn reject(&self, name: &str, why: &str) -> Result<(), String> {
        if self.flags.iter().any(|f| f.name == name) {
            return Err(format!(
                "{} --{name} is not supported by berth yet ({why})",
                self.instr
            ));
        }
        Ok(())
    }
}

fn parse_from(logical: &Logical, file: &str) -> Result<Located<FromLine>, ParseError> {
    let err = |m: String| ParseError::new(file, logical.line, m);
    let (_, rest) = split_keyword(&logical.text);
    let (flags, args) = split_flags(rest).map_err(&err)?;
    let flags = Flags::new("FROM", flags, &["platform"]).map_err(&err)?;
    let platform = flags.string("platform").map_err(&err)?;
    let words: Vec<&str> = args.split_whitespace().collect();
    let name = match words.len() {
        1 => None,
        3 if words[1].eq_ignore_ascii_case("as") => {
            let n = words[2].to_ascii_lowercase();
            if !valid_stage_name(&n) {
                return Err(err(format!(
                    "invalid name for build stage: \"{}\", name can't start with a number or contain symbols",
                    words[2]
                )));
            }
            Some(n)
        }
        _ => return Err(err("FROM requires either one or three arguments".into())),
    };
    Ok(Located {
        line: logical.line,
        end_line: logical.end_line,
        original: logical.text.trim_end().to_string(),
        value: FromLine {
            image: words[0].to_string(),
            platform,
            name,
        },
    })
}

/// BuildKit's stage name rule: `^[a-z][a-z0-9-_.]*$` (after lowercasing).
pub fn valid_stage_name(n: &str) -> bool {
    let mut cs = n.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_lowercase())
        && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn suggestion(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_uppercase();
    let mut best: Option<(&'static str, usize)> = None;
    for cand in INSTRUCTIONS {
        let d = levenshtein(&w, cand);
        if d <= 2 && d < w.len() && best.is_none_or(|(_, b)| d < b) {
            best = Some((cand, d));
        }
    }
    best.map(|(c, _)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn no_flags(instr: &'static str, flags: Vec<Flag>) -> Result<(), String> {
    Flags::new(instr, flags, &[]).map(|_| ())
}

fn command_line(args: &str) -> CommandLine {
    match parse_json_array(args) {
        Some(v) => CommandLine::Exec(v),
        None => CommandLine::Shell(args.to_string()),
    }
}

/// Builds the instruction from its keyword (upper case) and argument text.
fn build_instruction(
    upper: &str,
    written: &str,
    rest: &str,
    heredocs: Vec<Heredoc>,
    escape: char,
) -> Result<Instruction, String> {
    let (flags, args) = split_flags(rest)?;
    let args = args.trim_end_matches([' ', '\t']);
    let need_one = |name: &str| -> Result<(), String> {
        if args.is_empty() {
            Err(format!("{name} requires at least one argument"))
        } else {
            Ok(())
        }
    };
    Ok(match upper {
        "RUN" => {
            let f = Flags::new("RUN", flags, &["mount", "network", "security"])?;
            need_one("RUN")?;
            let network = match f.string("network")?.as_deref() {
                None => None,
                Some("default") => Some(Network::Default),
                Some("none") => Some(Network::None),
                Some("host") => Some(Network::Host),
                Some(o) => return Err(format!("unsupported network mode {o:?}")),
            };
            let security = match f.string("security")?.as_deref() {
                None => None,
                Some("sandbox") => Some(Security::Sandbox),
                Some("insecure") => Some(Security::Insecure),
                Some(o) => return Err(format!("unsupported security mode {o:?}")),
            };
            let mut mounts = Vec::new();
            let mut ssh = 0;
            for m in f.list("mount")? {
                let mount = parse_mount(&m, ssh)?;
                if mount.kind == MountType::Ssh {
                    ssh += 1;
                }
                mounts.push(mount);
            }
            Instruction::Run(Run {
                command: command_line(args),
                heredocs,
                mounts,
                network,
                security,
            })
        }
        "CMD" | "ENTRYPOINT" => {
            no_flags(if upper == "CMD" { "CMD" } else { "ENTRYPOINT" }, flags)?;
            let c = command_line(args);
            if upper == "CMD" {
                Instruction::Cmd(c)
            } else {
                Instruction::Entrypoint(c)
            }
        }
        "SHELL" => {
            no_flags("SHELL", flags)?;
            need_one("SHELL")?;
            match parse_json_array(args) {
                Some(v) if !v.is_empty() => Instruction::Shell(v),
                Some(_) => return Err("SHELL requires at least one argument".into()),
                None => return Err("SHELL requires the arguments to be in JSON form".into()),
            }
        }
        "COPY" | "ADD" => {
            let is_copy = upper == "COPY";
            let allowed: &[&str] = if is_copy {
                &["from", "chown", "chmod", "link", "parents", "exclude"]
            } else {
                &[
                    "chown",
                    "chmod",
                    "link",
                    "exclude",
                    "checksum",
                    "keep-git-dir",
                    "unpack",
                ]
            };
            let name = if is_copy { "COPY" } else { "ADD" };
            let f = Flags::new(name, flags, allowed)?;
            f.reject("parents", "keep the parent directories")?;
            f.reject("checksum", "verify a remote source")?;
            f.reject("keep-git-dir", "git sources")?;
            f.reject("unpack", "choose archive extraction")?;
            let (words, json) = match parse_json_array(args) {
                Some(v) => (v, true),
                None => (split_words_raw(args, escape), false),
            };
            if words.len() < 2 {
                return Err(format!(
                    "{name} requires at least two arguments, but only one was provided. Destination could not be determined"
                ));
            }
            let mut docs = heredocs.into_iter();
            let mut sources = Vec::new();
            for w in &words[..words.len() - 1] {
                let is_mark = !json && {
                    let t = w.trim_start_matches(|c: char| c.is_ascii_digit());
                    t.starts_with("<<") && t.len() > 2
                };
                match (is_mark, is_mark.then(|| docs.next()).flatten()) {
                    (true, Some(h)) => sources.push(CopySource::Heredoc(h)),
                    _ => sources.push(CopySource::Path(w.clone())),
                }
            }
            let dest = words[words.len() - 1].clone();
            if !json && dest.starts_with("<<") {
                return Err(format!("{name} cannot accept a heredoc as a destination"));
            }
            Instruction::from_copy(
                is_copy,
                CopyArgs {
                    sources,
                    dest,
                    from: if is_copy { f.string("from")? } else { None },
                    chown: f.string("chown")?,
                    chmod: f.string("chmod")?,
                    link: f.boolean("link")?,
                    exclude: f.list("exclude")?,
                    json,
                },
            )
        }
        "ENV" | "LABEL" => {
            let name = if upper == "ENV" { "ENV" } else { "LABEL" };
            no_flags(name, flags)?;
            need_one(name)?;
            let kvs = parse_name_val(args, name, escape)?;
            if upper == "ENV" {
                Instruction::Env(kvs)
            } else {
                Instruction::Label(kvs)
            }
        }
        "ARG" => {
            no_flags("ARG", flags)?;
            need_one("ARG")?;
            let mut decls = Vec::new();
            for w in split_words_raw(args, escape) {
                let (name, default) = match w.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (w.clone(), None),
                };
                if name.is_empty() {
                    return Err("ARG names can not be blank".into());
                }
                decls.push(ArgDecl { name, default });
            }
            Instruction::Arg(decls)
        }
        "EXPOSE" => {
            no_flags("EXPOSE", flags)?;
            need_one("EXPOSE")?;
            // BuildKit sorts the ports as written.
            let mut ports: Vec<String> = args.split_whitespace().map(str::to_string).collect();
            ports.sort();
            Instruction::Expose(ports)
        }
        "VOLUME" => {
            no_flags("VOLUME", flags)?;
            need_one("VOLUME")?;
            let v = match parse_json_array(args) {
                Some(v) => v,
                None => split_words_raw(args, escape),
            };
            if v.iter().any(|s| s.trim().is_empty()) || v.is_empty() {
                return Err("VOLUME specified can not be an empty string".into());
            }
            Instruction::Volume(v)
        }
        "WORKDIR" | "USER" | "STOPSIGNAL" | "MAINTAINER" => {
            let name: &'static str = match upper {
                "WORKDIR" => "WORKDIR",
                "USER" => "USER",
                "STOPSIGNAL" => "STOPSIGNAL",
                _ => "MAINTAINER",
            };
            no_flags(name, flags)?;
            if args.is_empty() {
                return Err(format!("{name} requires exactly one argument"));
            }
            let v = args.to_string();
            match name {
                "WORKDIR" => Instruction::Workdir(v),
                "USER" => Instruction::User(v),
                "STOPSIGNAL" => Instruction::StopSignal(v),
                _ => Instruction::Maintainer(v),
            }
        }
        "HEALTHCHECK" => Instruction::Healthcheck(parse_healthcheck(flags, args)?),
        "ONBUILD" => {
            no_flags("ONBUILD", flags)?;
            need_one("ONBUILD")?;
            let (kw, trest) = split_keyword(args);
            let tu = kw.to_ascii_uppercase();
            match tu.as_str() {
                "ONBUILD" => {
                    return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into());
                }
                "FROM" | "MAINTAINER" => {
                    return Err(format!("{tu} isn't allowed as an ONBUILD trigger"));
                }
                _ => {}
            }
            if !INSTRUCTIONS.contains(&tu.as_str()) {
                return Err(unknown_instruction(kw));
            }
            // BuildKit's expression: the trigger line, then each heredoc's
            // body and delimiter.
            let mut expression = args.to_string();
            for h in &heredocs {
                expression.push('\n');
                expression.push_str(&h.content);
                expression.push_str(&h.name);
            }
            let inner = build_instruction(&tu, kw, trest, heredocs, escape)?;
            Instruction::Onbuild(Onbuild {
                expression,
                instruction: Box::new(inner),
            })
        }
        _ => return Err(unknown_instruction(written)),
    })
}

fn unknown_instruction(written: &str) -> String {
    match suggestion(written) {
        Some(s) => format!("unknown instruction: {written} (did you mean {s}?)"),
        None => format!("unknown instruction: {written}"),
    }
}

impl Instruction {
    fn from_copy(is_copy: bool, c: CopyArgs) -> Instruction {
        if is_copy {
            Instruction::Copy(c)
        } else {
            Instruction::Add(c)
        }
    }
}

/// BuildKit's parseNameVal for ENV and LABEL.
fn parse_name_val(args: &str, name: &str, escape: char) -> Result<Vec<KeyValue>, String> {
    let words = split_words_raw(args, escape);
    if words.is_empty() {
        return Err(format!("{name} requires at least one argument"));
    }
    if !words[0].contains('=') {
        // Old form: KEY value (the rest of the line).
        let t = args.trim_start_matches([' ', '\t']);
        let Some(i) = t.find([' ', '\t']) else {
            return Err(format!("{name} must have two arguments"));
        };
        let value = t[i..].trim_start_matches([' ', '\t']);
        if value.is_empty() {
            return Err(format!("{name} must have two arguments"));
        }
        return Ok(vec![KeyValue {
            key: t[..i].to_string(),
            value: value.to_string(),
        }]);
    }
    let mut out = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in \"{w}\". Must be of the form: name=value"
            ));
        };
        if k.is_empty() {
            return Err(format!("{name} names can not be blank"));
        }
        out.push(KeyValue {
            key: k.to_string(),
            value: v.to_string(),
        });
    }
    Ok(out)
}

fn parse_healthcheck(flags: Vec<Flag>, args: &str) -> Result<Healthcheck, String> {
    let (kind, rest) = split_keyword(args);
    if kind.is_empty() {
        return Err("HEALTHCHECK requires at least one argument".into());
    }
    if kind.eq_ignore_ascii_case("none") {
        // BuildKit does not look at the flags of HEALTHCHECK NONE.
        if !rest.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(Healthcheck::None);
    }
    let f = Flags::new(
        "HEALTHCHECK",
        flags,
        &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
    )?;
    if !kind.eq_ignore_ascii_case("cmd") {
        return Err(format!(
            "Unknown type \"{}\" in HEALTHCHECK (try CMD)",
            kind.to_ascii_uppercase()
        ));
    }
    if rest.is_empty() {
        return Err("Missing command after HEALTHCHECK CMD".into());
    }
    let test = match parse_json_array(rest) {
        Some(mut v) => {
            v.insert(0, "CMD".into());
            v
        }
        None => vec!["CMD-SHELL".into(), rest.to_string()],
    };
    let dur = |name: &str| -> Result<Duration, String> {
        match f.string(name)? {
            None => Ok(Duration::ZERO),
            Some(v) => {
                let d = parse_go_duration(&v)
                    .ok_or_else(|| format!("time: invalid duration \"{v}\""))?;
                if d != Duration::ZERO && d < Duration::from_millis(1) {
                    return Err(format!("Interval \"{name}\" cannot be less than 1ms"));
                }
                Ok(d)
            }
        }
    };
    let retries = match f.string("retries")? {
        None => 0,
        Some(v) => {
            let n: i64 = v
                .parse()
                .map_err(|_| format!("strconv.ParseInt: parsing \"{v}\": invalid syntax"))?;
            if n < 0 {
                return Err(format!("--retries cannot be negative ({n})"));
            }
            u32::try_from(n).map_err(|_| format!("--retries out of range ({n})"))?
        }
    };
    Ok(Healthcheck::Check(HealthConfig {
        test,
        interval: dur("interval")?,
        timeout: dur("timeout")?,
        start_period: dur("start-period")?,
        start_interval: dur("start-interval")?,
        retries,
    }))
}

/// Go's `time.ParseDuration` for non-negative values (`1m30s`, `1.5h`,
/// `300ms`, `0`).
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Some(Duration::ZERO);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += num * scale;
    }
    if !total.is_finite() || total > 1e10 {
        return None;
    }
    Some(Duration::from_secs_f64(total))
}

/// Splits a CSV record (Go's encoding/csv, one line): commas separate,
/// double quotes quote, `""` inside quotes is a quote.
fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            ',' => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            '"' if at_start => quoted = true,
            _ => cur.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err(format!("extraneous or missing \" in quoted-field: {s}"));
    }
    out.push(cur);
    Ok(out)
}

fn parse_bool(key: &str, v: Option<&str>) -> Result<bool, String> {
    match v {
        None => Ok(true),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" => Ok(true),
            "0" | "f" | "false" => Ok(false),
            _ => Err(format!("invalid value for {key}: {v}")),
        },
    }
}

/// Parses one `--mount` value (BuildKit's runmount.go).
fn parse_mount(value: &str, ssh_index: usize) -> Result<Mount, String> {
    let fields = csv_fields(value)?;
    let mut kind = MountType::Bind;
    // type first, since defaults depend on it.
    for f in &fields {
        if let Some(t) = f.trim().strip_prefix("type=") {
            kind = match t.to_ascii_lowercase().as_str() {
                "bind" => MountType::Bind,
                "cache" => MountType::Cache,
                "tmpfs" => MountType::Tmpfs,
                "secret" => MountType::Secret,
                "ssh" => MountType::Ssh,
                _ => return Err(format!("unsupported mount type \"{t}\"")),
            };
        }
    }
    let mut m = Mount {
        kind,
        target: String::new(),
        source: None,
        from: None,
        readonly: kind == MountType::Bind,
        id: None,
        sharing: CacheSharing::Shared,
        mode: None,
        uid: None,
        gid: None,
        required: false,
        size: None,
        env: None,
    };
    for f in &fields {
        let f = f.trim();
        if f.is_empty() {
            continue;
        }
        let (key, val) = match f.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v)),
            None => (f.to_ascii_lowercase(), None),
        };
        let need = |v: Option<&str>| -> Result<String, String> {
            v.map(str::to_string)
                .ok_or_else(|| format!("invalid field '{f}' must be a key=value pair"))
        };
        match key.as_str() {
            "type" => {}
            "readonly" | "ro" => m.readonly = parse_bool(&key, val)?,
            "readwrite" | "rw" => m.readonly = !parse_bool(&key, val)?,
            "required" if matches!(kind, MountType::Secret | MountType::Ssh) => {
                m.required = parse_bool(&key, val)?
            }
            "target" | "dst" | "destination" => m.target = need(val)?,
            "source" | "src" if !matches!(kind, MountType::Tmpfs) => m.source = Some(need(val)?),
            "from" if matches!(kind, MountType::Bind | MountType::Cache) => {
                m.from = Some(need(val)?)
            }
            "id" if !matches!(kind, MountType::Tmpfs | MountType::Bind) => m.id = Some(need(val)?),
            "sharing" if kind == MountType::Cache => {
                m.sharing = match need(val)?.to_ascii_lowercase().as_str() {
                    "shared" => CacheSharing::Shared,
                    "private" => CacheSharing::Private,
                    "locked" => CacheSharing::Locked,
                    o => return Err(format!("unsupported sharing value \"{o}\"")),
                }
            }
            "mode" if !matches!(kind, MountType::Bind | MountType::Tmpfs) => {
                let v = need(val)?;
                m.mode = Some(
                    u32::from_str_radix(&v, 8)
                        .map_err(|_| format!("invalid value {v} for mode"))?,
                );
            }
            "uid" | "gid" if !matches!(kind, MountType::Bind | MountType::Tmpfs) => {
                let v = need(val)?;
                let n: u32 = v
                    .parse()
                    .map_err(|_| format!("invalid value {v} for {key}"))?;
                if key == "uid" {
                    m.uid = Some(n)
                } else {
                    m.gid = Some(n)
                }
            }
            "size" if kind == MountType::Tmpfs => {
                let v = need(val)?;
                m.size = Some(parse_size(&v).ok_or_else(|| format!("invalid size {v}"))?);
            }
            "env" if kind == MountType::Secret => m.env = Some(need(val)?),
            _ => return Err(format!("unexpected key '{key}' in '{f}'")),
        }
    }
    match kind {
        MountType::Secret => {
            if m.target.is_empty() && m.env.is_none() {
                let id =
                    m.id.clone()
                        .ok_or("secret mount requires an id or a target")?;
                m.target = format!("/run/secrets/{id}");
            }
            if m.id.is_none() {
                let base = m.target.rsplit('/').next().unwrap_or("").to_string();
                if base.is_empty() {
                    return Err("secret mount requires an id".into());
                }
                m.id = Some(base);
            }
            m.mode.get_or_insert(0o400);
        }
        MountType::Ssh => {
            if m.target.is_empty() {
                m.target = format!("/run/buildkit/ssh_agent.{ssh_index}");
            }
            m.id.get_or_insert_with(|| "default".into());
            m.mode.get_or_insert(0o600);
        }
        MountType::Cache => {
            if m.target.is_empty() {
                return Err("mount target is required for cache mounts".into());
            }
            m.mode.get_or_insert(0o755);
        }
        MountType::Bind | MountType::Tmpfs => {
            if m.target.is_empty() {
                return Err(format!(
                    "mount target is required for {} mounts",
                    if kind == MountType::Bind {
                        "bind"
                    } else {
                        "tmpfs"
                    }
                ));
            }
        }
    }
    Ok(m)
}

/// go-units RAMInBytes: `64m`, `1g`, `1024` (binary multiples).
fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let n = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let num: f64 = t[..n].parse().ok()?;
    let unit = t[n..].trim().to_ascii_lowercase();
    let mult: f64 = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return None,
    };
    let v = num * mult;
    (v.is_finite() && (0.0..1.8e19).contains(&v)).then_some(v as u64)
}

impl fmt::Display for MountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        })
    }
}

#[cfg(test)]
#[path = "dockerfile_tests.rs"]
mod tests;
