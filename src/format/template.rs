//! docker's `--format` templates: Go `text/template` (through `gotmpl`) with
//! docker's functions, over data that berth builds with serde.
//!
//! ```
//! use berth::format::template::{Template, TemplateData};
//! use serde_json::json;
//!
//! let inspect = json!({"Id": "abc", "State": {"Running": true, "Health": null},
//!                      "Config": {"Env": ["A=1", "B=2"], "Labels": {"k": "v"}}});
//! let data = TemplateData::from_json(&inspect);
//! let t = Template::parse("{{.State.Running}} {{.Config.Env}} {{index .Config.Labels \"k\"}}").unwrap();
//! assert_eq!(t.render(&data).unwrap(), "true [A=1 B=2] v");
//! let t = Template::parse("{{.State.Health}} {{.Nope}} {{json .Config}}").unwrap();
//! assert_eq!(t.render(&data).unwrap(),
//!            r#"<nil> <no value> {"Env":["A=1","B=2"],"Labels":{"k":"v"}}"#);
//!
//! // Rows of list commands get methods with arguments, like docker's `.Label "k"`.
//! let row = TemplateData::from_json(&json!({"Names": "web"}))
//!     .with_method("Label", 1, |args| if args[0] == "tier" { "front".into() } else { String::new() });
//! let t = Template::parse(r#"{{.Names}}={{.Label "tier"}}"#).unwrap();
//! assert_eq!(t.render(&row).unwrap(), "web=front");
//! ```
//!
//! # How Go's semantics are kept
//!
//! * JSON objects become Go maps: `.Field` access, `<no value>` for a missing
//!   key, `map[k:v]` printing with sorted keys, `range` in key order. JSON
//!   arrays become slices (`[A=1 B=2]`), numbers print as Go ints or float64
//!   (`1e+06`), `null` prints `<nil>` (a nil pointer) and is false in `if`.
//! * `{{json .}}` keeps each object's key order as serialised (Go's struct
//!   order), and encodes like docker's `json` function (no HTML escaping,
//!   Go's float and string rules). For list rows it sorts keys and escapes
//!   `<>&` as docker's `MarshalJSON` does.
//! * `gotmpl` cannot call methods with arguments on a field, so the parsed
//!   tree is rewritten: `.Label "k"` becomes a call of an internal function
//!   with the field's function value. Every printed action goes through an
//!   internal printer that formats values as Go's `fmt` does. Functions and
//!   variables are checked at parse time, as Go does.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock};

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, Number, Parser, PipeNode, SmolStr};
use gotmpl::{FuncMap, Value, ValueFunc};

use super::units::{decimal_digits, go_format_float, push_exp_form, push_fixed_form};

/// A template error, worded like Go's `text/template` errors:
/// `template: :1: function "foo" not defined`. docker prefixes these with
/// `template parsing error: ` ([`TemplateError::docker_message`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template does not parse (syntax, unknown function or variable).
    #[error("{0}")]
    Parse(String),
    /// Executing the template failed.
    #[error("{0}")]
    Exec(String),
}

impl TemplateError {
    /// The message docker prints for this error:
    /// `template parsing error: template: :1: …` (docker uses that prefix for
    /// execution errors too).
    pub fn docker_message(&self) -> String {
        format!("template parsing error: {self}")
    }
}

// Internal functions inserted by the rewrite. Their names contain a space, so
// template source can never name them.
const PRINT_FN: &str = "berth print";
const METHOD_FN: &str = "berth method";
const ARG_FN: &str = "berth arg";
const ROOT: &str = "";

const GO_BUILTINS: [&str; 19] = [
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];
const DOCKER_FUNCS: [&str; 8] = [
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];

/// JSON `null`: an empty map (so it is false in `if` and empty in `range`)
/// recognised by identity, so that it prints `<nil>` and encodes as `null`.
static NULL: LazyLock<Value> = LazyLock::new(|| Value::Map(Arc::new(BTreeMap::new())));

fn is_null(v: &Value) -> bool {
    match (v, &*NULL) {
        (Value::Map(a), Value::Map(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

fn map_id(m: &Arc<BTreeMap<Arc<str>, Value>>) -> usize {
    Arc::as_ptr(m) as usize
}

/// Key order of every object converted from JSON, by map identity.
type Orders = HashMap<usize, Arc<[Arc<str>]>>;

/// Data for a template: a converted `serde_json::Value`, plus methods.
#[derive(Clone)]
pub struct TemplateData {
    root: Value,
    orders: Arc<Orders>,
}

impl fmt::Debug for TemplateData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateData")
            .field("root", &go_sprint(&self.root))
            .finish()
    }
}

impl From<&serde_json::Value> for TemplateData {
    fn from(v: &serde_json::Value) -> Self {
        TemplateData::from_json(v)
    }
}

impl TemplateData {
    /// Converts JSON data (an inspect object, a list row) for templates.
    pub fn from_json(value: &serde_json::Value) -> Self {
        let mut orders = Orders::new();
        let root = convert(value, &mut orders);
        TemplateData {
            root,
            orders: Arc::new(orders),
        }
    }

    /// Serialises `value` with serde and converts it ([`Self::from_json`]).
    pub fn from_serialize<T: serde::Serialize + ?Sized>(
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self::from_json(&serde_json::to_value(value)?))
    }

    /// Attaches a method callable as `{{.Name "arg" …}}` (or
    /// `{{"arg" | .Name}}`, `{{call .Name "arg"}}`) taking `arity` string
    /// arguments, like docker's `ContainerContext.Label(name string)`. A
    /// method of arity 0 is called when printed (`{{.Name}}`). Methods are not
    /// part of `{{json .}}`. Only an object can have methods; on other data
    /// this does nothing.
    pub fn with_method<F>(mut self, name: &str, arity: usize, f: F) -> Self
    where
        F: Fn(&[&str]) -> String + Send + Sync + 'static,
    {
        let Value::Map(m) = &self.root else {
            return self;
        };
        let method_name = name.to_string();
        let func: ValueFunc = Arc::new(move |args: &[Value]| {
            if args.len() != arity {
                return Err(exec(format!(
                    "wrong number of args for {method_name}: want {arity} got {}",
                    args.len()
                )));
            }
            let strs = args.iter().map(arg_str).collect::<Result<Vec<_>, _>>()?;
            Ok(Value::String(f(&strs).into()))
        });
        let old = map_id(m);
        let mut map = (**m).clone();
        map.insert(name.into(), Value::Function(func));
        let new = Arc::new(map);
        let orders = Arc::make_mut(&mut self.orders);
        if let Some(keys) = orders.remove(&old) {
            orders.insert(map_id(&new), keys);
        }
        self.root = Value::Map(new);
        self
    }

    /// The header context docker renders a table's header row with: each
    /// field name maps to its column title (`ID` → `CONTAINER ID`), and
    /// `{{.Label "com.x.y-z"}}` gives `y z` (docker's `SubHeaderContext`).
    pub fn header(columns: &[(&str, &str)]) -> Self {
        let map = columns
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>();
        TemplateData::from_json(&serde_json::Value::Object(map)).with_method("Label", 1, |args| {
            let last = args[0].rsplit('.').next().unwrap_or_default();
            last.replace(['-', '_'], " ")
        })
    }
}

fn convert(v: &serde_json::Value, orders: &mut Orders) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => NULL.clone(),
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        J::String(s) => Value::String(Arc::from(s.as_str())),
        J::Array(a) => Value::List(a.iter().map(|v| convert(v, orders)).collect()),
        J::Object(o) => {
            let keys: Arc<[Arc<str>]> = o.keys().map(|k| Arc::from(k.as_str())).collect();
            let map: BTreeMap<Arc<str>, Value> = keys
                .iter()
                .zip(o.values())
                .map(|(k, v)| (Arc::clone(k), convert(v, orders)))
                .collect();
            let map = Arc::new(map);
            orders.insert(map_id(&map), keys);
            Value::Map(map)
        }
    }
}

/// A parsed `--format` template.
#[derive(Clone)]
pub struct Template {
    source: String,
    normal: gotmpl::Template,
    header: gotmpl::Template,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("source", &self.source)
            .finish()
    }
}

impl Template {
    /// Parses `src` as docker's `templates.Parse` does (an unnamed template
    /// with docker's functions). Unknown functions and undefined variables
    /// are parse errors, as in Go.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let parsed = Parser::new(src, "{{", "}}").and_then(|p| p.parse());
        let (mut tree, mut defines) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                // A block-structure error earlier in the source comes first,
                // as does Go's wording for `{{if}}` without a pipeline.
                let line = match &e {
                    gotmpl::TemplateError::Parse { line, .. }
                    | gotmpl::TemplateError::Lex { line, .. } => *line,
                    _ => usize::MAX,
                };
                let go = parse_error(e);
                if let Err((off, msg)) = check_structure(src) {
                    let structure_line = src[..off].matches('\n').count() + 1;
                    let empty_command = go.to_string().ends_with("empty command");
                    if structure_line < line
                        || (structure_line == line
                            && empty_command
                            && msg.contains("missing value"))
                    {
                        return Err(TemplateError::Parse(msg));
                    }
                }
                return Err(go);
            }
        };
        // gotmpl accepts unbalanced {{end}}/{{else}} and a missing {{end}};
        // Go does not. Report whichever error comes first in the source.
        let structure = check_structure(src).err();
        let mut vars = vec![SmolStr::new_static("$")];
        let mut rewrite = rewrite_list(&mut tree, &mut vars).err();
        for d in &mut defines {
            let mut vars = vec![SmolStr::new_static("$")];
            if let Err(e) = rewrite_list(&mut d.body, &mut vars) {
                rewrite = Some(rewrite.map_or(e.clone(), |r: ParseErr| r.min(e)));
            }
        }
        let first = match (structure, rewrite) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some((_, msg)) = first {
            return Err(TemplateError::Parse(msg));
        }
        let build = |funcs: FuncMap| {
            let mut t = gotmpl::Template::new("")
                .funcs(funcs)
                .add_parse_tree(ROOT, tree.clone());
            for d in &defines {
                t = t.add_parse_tree(&d.name, d.body.clone());
            }
            t
        };
        Ok(Template {
            source: src.to_string(),
            normal: build(funcs(false)),
            header: build(funcs(true)),
        })
    }

    /// The source this template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders the template once against `data`.
    pub fn render(&self, data: &TemplateData) -> Result<String, TemplateError> {
        let mut out = String::new();
        execute(&self.normal, data, false, &mut out)?;
        Ok(out)
    }

    /// Renders against a JSON value ([`TemplateData::from_json`]).
    pub fn render_json(&self, value: &serde_json::Value) -> Result<String, TemplateError> {
        self.render(&TemplateData::from_json(value))
    }

    /// Renders a list row: like [`Self::render`], but `{{json .}}` of the row
    /// itself sorts its keys and escapes `<`, `>`, `&`, as docker's row
    /// contexts (marshalled through a Go map) do.
    pub(crate) fn render_row(&self, data: &TemplateData) -> Result<String, TemplateError> {
        let mut out = String::new();
        execute(&self.normal, data, true, &mut out)?;
        Ok(out)
    }

    /// Renders the header row the way docker does: with header functions
    /// (`json`, `split`, `join`, `title`, `lower`, `upper`, `truncate` return
    /// their string unchanged), ignoring errors and keeping what was written
    /// before one.
    pub(crate) fn render_header(&self, data: &TemplateData) -> String {
        let mut out = String::new();
        let _ = execute(&self.header, data, false, &mut out);
        out
    }
}

fn execute(
    t: &gotmpl::Template,
    data: &TemplateData,
    row: bool,
    out: &mut String,
) -> Result<(), TemplateError> {
    let row_root = match (&data.root, row) {
        (Value::Map(m), true) => map_id(m),
        _ => 0,
    };
    CTX.with(|c| {
        c.borrow_mut().push(Ctx {
            orders: Arc::clone(&data.orders),
            row_root,
        })
    });
    let _guard = CtxGuard;
    t.execute_template_fmt(out, ROOT, &data.root)
        .map_err(exec_error)
}

// ---------------------------------------------------------------------------
// Render context for `json`: key orders of the data being rendered.

struct Ctx {
    orders: Arc<Orders>,
    row_root: usize,
}

thread_local! {
    static CTX: RefCell<Vec<Ctx>> = const { RefCell::new(Vec::new()) };
}

struct CtxGuard;

impl Drop for CtxGuard {
    fn drop(&mut self) {
        CTX.with(|c| {
            c.borrow_mut().pop();
        });
    }
}

// ---------------------------------------------------------------------------
// Errors

fn exec(msg: impl Into<String>) -> gotmpl::TemplateError {
    gotmpl::TemplateError::Exec(msg.into())
}

fn parse_error(e: gotmpl::TemplateError) -> TemplateError {
    match e {
        gotmpl::TemplateError::Parse { line, message, .. }
        | gotmpl::TemplateError::Lex { line, message, .. } => {
            // Go's wording where gotmpl's differs.
            let message = match message.as_str() {
                "unterminated string" => "unterminated quoted string",
                "unterminated raw string" => "unterminated raw quoted string",
                "unclosed comment" | "comment not terminated by closing delimiter" => {
                    "comment ends before closing delimiter"
                }
                m => m,
            };
            TemplateError::Parse(format!("template: :{line}: {message}"))
        }
        other => TemplateError::Parse(format!("template: {other}")),
    }
}

fn exec_error(e: gotmpl::TemplateError) -> TemplateError {
    use gotmpl::TemplateError as G;
    let msg = match e {
        G::Exec(s) => s,
        G::IndexOutOfRange { index } => format!("error calling index: index out of range: {index}"),
        G::MissingKey { key } => format!("map has no entry for key {key:?}"),
        G::UndefinedTemplate(n) => format!("template {n:?} not defined"),
        G::UndefinedFunction(n) => format!("function {n:?} not defined"),
        G::UndefinedVariable(n) => format!("undefined variable {n:?}"),
        G::ArgCount {
            name,
            expected,
            got,
        } => {
            let at_least = ["printf", "call", "slice", "and", "or", "eq"].contains(&name.as_str());
            let want = if at_least { "want at least" } else { "want" };
            format!("wrong number of args for {name}: {want} {expected} got {got}")
        }
        G::NotIterable(s) => format!("range can't iterate over {s}"),
        G::RecursionLimit => "exceeded maximum template depth".to_string(),
        other => other.to_string(),
    };
    TemplateError::Exec(format!("template: executing \"\": {msg}"))
}

/// Go's type names in "wrong type" errors.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) if is_null(v) => "<nil>",
        Value::Map(_) => "map[string]interface {}",
        Value::Function(_) => "func",
        #[allow(unreachable_patterns)]
        _ => "interface {}",
    }
}

fn arg_str(v: &Value) -> Result<&str, gotmpl::TemplateError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(exec(format!(
            "wrong type for value; expected string; got {}",
            go_type(other)
        ))),
    }
}

fn arg_int(v: &Value) -> Result<i64, gotmpl::TemplateError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Uint(u) if i64::try_from(*u).is_ok() => Ok(*u as i64),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
        other => Err(exec(format!(
            "wrong type for value; expected int; got {}",
            go_type(other)
        ))),
    }
}

fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), gotmpl::TemplateError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(exec(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )))
    }
}

// ---------------------------------------------------------------------------
// Parse-tree rewrite and checks

/// A parse error found after gotmpl's parse: source offset and message.
type ParseErr = (usize, String);
type RewriteResult = Result<(), ParseErr>;

fn parse_err_at(pos: gotmpl::parse::Pos, msg: String) -> ParseErr {
    (pos.offset, format!("template: :{}: {msg}", pos.line))
}

/// Go's block structure rules that gotmpl's parser does not enforce:
/// every `if`/`range`/`with`/`define`/`block` closed by one `{{end}}`,
/// `{{else}}` only inside `if`/`range`/`with`, `{{break}}`/`{{continue}}`
/// only inside `range`. Scans the actions of an already lexed template.
fn check_structure(src: &str) -> RewriteResult {
    let b = src.as_bytes();
    let line_at = |off: usize| b[..off].iter().filter(|&&c| c == b'\n').count() + 1;
    let err = |off: usize, msg: &str| Err((off, format!("template: :{}: {msg}", line_at(off))));
    let mut stack: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(rel) = src[i..].find("{{") {
        let mut j = i + rel + 2;
        if b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 2;
        }
        if src[j..].starts_with("/*") {
            // A comment: skip past "*/" and its closing delimiter.
            let close = src[j..].find("*/").map_or(src.len(), |k| j + k + 2);
            i = src[close..].find("}}").map_or(src.len(), |k| close + k + 2);
            continue;
        }
        // The first word of the action.
        let mut w = j;
        while b.get(w).is_some_and(|c| c.is_ascii_whitespace()) {
            w += 1;
        }
        let mut e = w;
        while b
            .get(e)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            e += 1;
        }
        let rest_empty =
            src[e..].trim_start().starts_with("}}") || src[e..].trim_start().starts_with("-}}");
        let problem = match &src[w..e] {
            kw @ ("if" | "range" | "with") if rest_empty => Some(format!("missing value for {kw}")),
            kw @ ("if" | "range" | "with" | "define" | "block") => {
                stack.push(kw);
                None
            }
            "end" => stack
                .pop()
                .is_none()
                .then(|| "unexpected {{end}}".to_string()),
            "else" => (!matches!(stack.last(), Some(&("if" | "range" | "with"))))
                .then(|| "unexpected {{else}}".to_string()),
            kw @ ("break" | "continue") => {
                (!stack.contains(&"range")).then(|| format!("{{{{{kw}}}}} outside {{{{range}}}}"))
            }
            _ => None,
        };
        if let Some(msg) = problem {
            return err(w, &msg);
        }
        // Skip to the end of the action, stepping over quoted text.
        let mut k = e;
        while k < b.len() {
            match b[k] {
                b'}' if b.get(k + 1) == Some(&b'}') => break,
                q @ (b'"' | b'\'') => {
                    let open = k;
                    k += 1;
                    while k < b.len() && b[k] != q {
                        if b[k] == b'\n' {
                            // Go's lexer: only raw strings span lines.
                            return err(
                                open,
                                if q == b'"' {
                                    "unterminated quoted string"
                                } else {
                                    "unterminated character constant"
                                },
                            );
                        }
                        k += if b[k] == b'\\' { 2 } else { 1 };
                    }
                }
                b'`' => {
                    k += 1;
                    while k < b.len() && b[k] != b'`' {
                        k += 1;
                    }
                }
                _ => {}
            }
            k += 1;
        }
        i = (k + 2).min(src.len());
    }
    if !stack.is_empty() {
        return err(src.len(), "unexpected EOF");
    }
    Ok(())
}

fn rewrite_list(list: &mut ListNode, vars: &mut Vec<SmolStr>) -> RewriteResult {
    for node in &mut list.nodes {
        rewrite_node(node, vars)?;
    }
    Ok(())
}

fn rewrite_node(node: &mut Node, vars: &mut Vec<SmolStr>) -> RewriteResult {
    match node {
        Node::Action(a) => {
            rewrite_pipe(&mut a.pipe, vars)?;
            if a.pipe.decl.is_empty() {
                let pos = a.pipe.pos;
                a.pipe.commands.push(CommandNode {
                    pos,
                    args: vec![Expr::Identifier(pos, SmolStr::new_static(PRINT_FN))],
                });
            }
        }
        Node::If(b) | Node::With(b) | Node::Range(b) => {
            // Go drops a control structure's variables at its {{end}}.
            let mark = vars.len();
            rewrite_pipe(&mut b.pipe, vars)?;
            rewrite_list(&mut b.body, vars)?;
            if let Some(e) = &mut b.else_body {
                rewrite_list(e, vars)?;
            }
            vars.truncate(mark);
        }
        Node::Template(t) => {
            if let Some(p) = &mut t.pipe {
                rewrite_pipe(p, vars)?;
            }
        }
        Node::List(l) => rewrite_list(l, vars)?,
        Node::Define(d) => {
            let mut vars = vec![SmolStr::new_static("$")];
            rewrite_list(&mut d.body, &mut vars)?;
        }
        Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
    }
    Ok(())
}

fn rewrite_pipe(pipe: &mut PipeNode, vars: &mut Vec<SmolStr>) -> RewriteResult {
    // Go declares the pipeline's variables before parsing its commands.
    vars.extend(pipe.decl.iter().cloned());
    let commands = std::mem::take(&mut pipe.commands);
    for (i, mut cmd) in commands.into_iter().enumerate() {
        for arg in &mut cmd.args {
            rewrite_expr(arg, vars)?;
        }
        let piped = i > 0;
        let Some(first) = cmd.args.first() else {
            pipe.commands.push(cmd);
            continue;
        };
        if let Some(text) = field_text(first)
            && (cmd.args.len() > 1 || piped)
        {
            // `.Label "k"`: a method call with arguments.
            let pos = cmd.pos;
            cmd.args
                .insert(0, Expr::String(pos, Arc::from(text.as_str())));
            cmd.args
                .insert(0, Expr::Identifier(pos, SmolStr::new_static(METHOD_FN)));
        } else if matches!(first, Expr::Identifier(_, n) if n == "printf")
            && let Some(format) = cmd.args.get(1).cloned()
        {
            // Each value argument goes through ARG_FN with the format and its
            // index, which formats it as Go's fmt would where gotmpl differs.
            let arg_fn = |pos, index: usize| {
                vec![
                    Expr::Identifier(pos, SmolStr::new_static(ARG_FN)),
                    format.clone(),
                    Expr::Number(pos, Number::Int(index as i64)),
                ]
            };
            for (index, arg) in cmd.args.iter_mut().skip(2).enumerate() {
                let pos = arg.pos();
                let inner = std::mem::replace(arg, Expr::Nil(pos));
                let mut args = arg_fn(pos, index);
                args.push(inner);
                *arg = Expr::Pipe(
                    pos,
                    PipeNode {
                        pos,
                        decl: Vec::new(),
                        commands: vec![CommandNode { pos, args }],
                        is_assign: false,
                    },
                );
            }
            if piped {
                let args = arg_fn(cmd.pos, cmd.args.len() - 2);
                pipe.commands.push(CommandNode { pos: cmd.pos, args });
            }
        }
        pipe.commands.push(cmd);
    }
    Ok(())
}

fn rewrite_expr(e: &mut Expr, vars: &mut Vec<SmolStr>) -> RewriteResult {
    match e {
        Expr::Identifier(pos, name) => {
            if !GO_BUILTINS.contains(&name.as_str()) && !DOCKER_FUNCS.contains(&name.as_str()) {
                return Err(parse_err_at(
                    *pos,
                    format!("function {:?} not defined", name.as_str()),
                ));
            }
        }
        Expr::Variable(pos, name, _) => {
            if !vars.contains(name) {
                return Err(parse_err_at(
                    *pos,
                    format!("undefined variable {:?}", name.as_str()),
                ));
            }
        }
        Expr::Pipe(_, p) => rewrite_pipe(p, vars)?,
        Expr::Chain(_, inner, _) => rewrite_expr(inner, vars)?,
        Expr::Dot(_)
        | Expr::Field(..)
        | Expr::String(..)
        | Expr::Number(..)
        | Expr::Bool(..)
        | Expr::Nil(_) => {}
    }
    Ok(())
}

/// The source text of a field chain that can be a method: `.A.B`, `$x.A`.
fn field_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Field(_, fields) if !fields.is_empty() => Some(format!(".{}", fields.join("."))),
        Expr::Variable(_, name, fields) if !fields.is_empty() => {
            Some(format!("{name}.{}", fields.join(".")))
        }
        Expr::Chain(_, inner, fields)
            if !fields.is_empty() && !matches!(**inner, Expr::Identifier(..)) =>
        {
            Some(format!("(…).{}", fields.join(".")))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Functions

fn funcs(header: bool) -> FuncMap {
    let mut m = FuncMap::new();
    let mut add = |name: &str, f: ValueFunc| {
        m.insert(name.to_string(), f);
    };

    add(
        PRINT_FN,
        Arc::new(|args: &[Value]| {
            let v = args.first().cloned().unwrap_or(Value::Nil);
            let v = match v {
                Value::Function(f) => f(&[])?,
                v => v,
            };
            Ok(match v {
                Value::Nil | Value::String(_) => v,
                v => Value::String(go_sprint(&v).into()),
            })
        }),
    );
    add(
        METHOD_FN,
        Arc::new(|args: &[Value]| {
            let text = args.first().and_then(Value::as_str).unwrap_or_default();
            match args.get(1) {
                Some(Value::Function(f)) => f(&args[2..]),
                _ => Err(exec(format!("can't give argument to non-function {text}"))),
            }
        }),
    );
    add(ARG_FN, Arc::new(printf_arg));
    add(
        "print",
        Arc::new(|args: &[Value]| {
            let mut out = String::new();
            for (i, a) in args.iter().enumerate() {
                let is_str = |v: &Value| matches!(v, Value::String(_));
                if i > 0 && !is_str(a) && !is_str(&args[i - 1]) {
                    out.push(' ');
                }
                go_sprint_into(a, &mut out);
            }
            Ok(Value::String(out.into()))
        }),
    );
    add(
        "println",
        Arc::new(|args: &[Value]| {
            let parts: Vec<String> = args.iter().map(go_sprint).collect();
            Ok(Value::String(format!("{}\n", parts.join(" ")).into()))
        }),
    );
    add("index", Arc::new(go_index));
    add("pad", Arc::new(pad));

    if header {
        // docker's HeaderFunctions: keep the column title intact.
        for (name, extra) in [
            ("json", None),
            ("title", None),
            ("lower", None),
            ("upper", None),
            ("split", Some(false)),
            ("join", Some(false)),
            ("truncate", Some(true)),
        ] {
            add(
                name,
                Arc::new(move |args: &[Value]| {
                    want_args(name, args, if extra.is_some() { 2 } else { 1 })?;
                    let s = arg_str(&args[0])?;
                    match extra {
                        Some(true) => {
                            arg_int(&args[1])?;
                        }
                        Some(false) => {
                            arg_str(&args[1])?;
                        }
                        None => {}
                    }
                    Ok(Value::String(s.into()))
                }),
            );
        }
        return m;
    }

    add("json", Arc::new(json_func));
    add(
        "split",
        Arc::new(|args: &[Value]| {
            want_args("split", args, 2)?;
            let (s, sep) = (arg_str(&args[0])?, arg_str(&args[1])?);
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars()
                    .map(|c| Value::String(c.to_string().into()))
                    .collect()
            } else {
                s.split(sep).map(|p| Value::String(p.into())).collect()
            };
            Ok(Value::List(parts.into()))
        }),
    );
    add(
        "join",
        Arc::new(|args: &[Value]| {
            want_args("join", args, 2)?;
            let sep = arg_str(&args[1])?;
            let items: Vec<&str> = match &args[0] {
                Value::List(l) => l
                    .iter()
                    .map(|v| {
                        v.as_str().ok_or_else(|| {
                            exec("wrong type for value; expected []string; got []interface {}")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                v if is_null(v) => Vec::new(),
                other => {
                    return Err(exec(format!(
                        "wrong type for value; expected []string; got {}",
                        go_type(other)
                    )));
                }
            };
            Ok(Value::String(items.join(sep).into()))
        }),
    );
    add(
        "title",
        Arc::new(|args: &[Value]| string_fn("title", args, go_title)),
    );
    add(
        "lower",
        Arc::new(|args: &[Value]| {
            string_fn("lower", args, |s| {
                s.chars()
                    .map(|c| simple_case(c, c.to_lowercase()))
                    .collect()
            })
        }),
    );
    add(
        "upper",
        Arc::new(|args: &[Value]| {
            string_fn("upper", args, |s| {
                s.chars()
                    .map(|c| simple_case(c, c.to_uppercase()))
                    .collect()
            })
        }),
    );
    add(
        "truncate",
        Arc::new(|args: &[Value]| {
            want_args("truncate", args, 2)?;
            let s = arg_str(&args[0])?;
            let n = arg_int(&args[1])?;
            if n < 0 {
                return Err(exec(format!(
                    "error calling truncate: runtime error: slice bounds out of range [:{n}]"
                )));
            }
            let n = n as usize;
            if s.len() < n {
                return Ok(Value::String(s.into()));
            }
            // docker cuts bytes; a cut inside a character shows as U+FFFD,
            // which is what a terminal shows for docker's invalid UTF-8.
            Ok(Value::String(
                String::from_utf8_lossy(&s.as_bytes()[..n])
                    .into_owned()
                    .into(),
            ))
        }),
    );
    m
}

fn string_fn(
    name: &str,
    args: &[Value],
    f: impl Fn(&str) -> String,
) -> Result<Value, gotmpl::TemplateError> {
    want_args(name, args, 1)?;
    Ok(Value::String(f(arg_str(&args[0])?).into()))
}

/// Go's `unicode.ToUpper`/`ToLower` map one rune to one rune; keep a
/// character whose full mapping would expand (`ß` stays `ß`).
fn simple_case(c: char, mut mapped: impl Iterator<Item = char>) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}

/// Go's deprecated `strings.Title`: upper-case the first letter of each word,
/// words being separated by anything but letters, digits and `_`.
fn go_title(s: &str) -> String {
    let is_sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphabetic() || c.is_numeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_sep(prev) { title_case(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// Go's `unicode.ToTitle`: upper case, except the digraphs that have a
/// distinct title case (`ǆ` → `ǅ`).
fn title_case(c: char) -> char {
    match c {
        '\u{1c4}'..='\u{1c6}' => '\u{1c5}',
        '\u{1c7}'..='\u{1c9}' => '\u{1c8}',
        '\u{1ca}'..='\u{1cc}' => '\u{1cb}',
        '\u{1f1}'..='\u{1f3}' => '\u{1f2}',
        c => simple_case(c, c.to_uppercase()),
    }
}

fn pad(args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    want_args("pad", args, 3)?;
    let s = arg_str(&args[0])?;
    let (before, after) = (arg_int(&args[1])?, arg_int(&args[2])?);
    if s.is_empty() {
        return Ok(Value::String(s.into()));
    }
    if before < 0 || after < 0 {
        return Err(exec("error calling pad: strings: negative Repeat count"));
    }
    let spaces = |n: i64| " ".repeat(n as usize);
    Ok(Value::String(
        format!("{}{s}{}", spaces(before), spaces(after)).into(),
    ))
}

/// A `printf` argument (`[format, index, value]`) made ready for gotmpl's
/// printf: JSON null becomes nil, and where gotmpl's formatting differs from
/// Go's (`%v` of a float, slice or map, `%s` of a slice of strings) the value
/// is pre-formatted as Go prints it.
fn printf_arg(args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    let [format, index, value] = args else {
        return Ok(args.last().map_or(Value::Nil, denull));
    };
    let value = denull(value);
    let verb = match (format, index) {
        (Value::String(f), Value::Int(i)) => {
            printf_verbs(f).and_then(|verbs| verbs.get(usize::try_from(*i).ok()?).copied())
        }
        _ => None,
    };
    let all_strings = |v: &Value| match v {
        Value::List(l) => l.iter().all(|v| matches!(v, Value::String(_))),
        Value::Map(m) => m.values().all(|v| matches!(v, Value::String(_))),
        _ => false,
    };
    Ok(match (verb, &value) {
        (Some(('v', true)), Value::Float(_) | Value::List(_) | Value::Map(_)) => {
            Value::String(go_sprint(&value).into())
        }
        (Some(('s', true)), Value::List(_) | Value::Map(_)) if all_strings(&value) => {
            Value::String(go_sprint(&value).into())
        }
        _ => value,
    })
}

/// The verb each printf argument is consumed by, and whether it is plain
/// (no precision, no `+`/`#` flag); `None` with explicit argument indexes.
fn printf_verbs(format: &str) -> Option<Vec<(char, bool)>> {
    let chars: Vec<char> = format.chars().collect();
    let mut verbs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            i += 1;
            continue;
        }
        i += 1;
        let mut plain = true;
        while let Some(&c) = chars.get(i) {
            match c {
                '+' | '#' => plain = false,
                '-' | ' ' | '0' => {}
                _ => break,
            }
            i += 1;
        }
        if chars.get(i) == Some(&'[') {
            return None;
        }
        if chars.get(i) == Some(&'*') {
            verbs.push(('*', true));
            i += 1;
        }
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if chars.get(i) == Some(&'.') {
            plain = false;
            i += 1;
            if chars.get(i) == Some(&'*') {
                verbs.push(('*', true));
                i += 1;
            }
            while chars.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
        }
        let Some(&verb) = chars.get(i) else { break };
        i += 1;
        if verb != '%' {
            verbs.push((verb, plain));
        }
    }
    Some(verbs)
}

/// Go's `index`, with Go's zero value for a missing map key: `""` in maps of
/// strings (docker's `Labels`), `<nil>` in maps of objects, `[]` in maps of
/// lists.
fn go_index(args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    let Some(first) = args.first() else {
        return Err(exec(
            "wrong number of args for index: want at least 1 got 0",
        ));
    };
    let mut item = first.clone();
    for idx in &args[1..] {
        item = match &item {
            Value::List(l) => {
                let i = index_int(idx, "slice/array")?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| l.get(i))
                    .cloned()
                    .ok_or_else(|| exec(format!("error calling index: index out of range: {i}")))?
            }
            Value::String(s) => {
                let i = index_int(idx, "string")?;
                let b = usize::try_from(i).ok().and_then(|i| s.as_bytes().get(i));
                Value::Int(i64::from(*b.ok_or_else(|| {
                    exec(format!("error calling index: index out of range: {i}"))
                })?))
            }
            Value::Map(m) => {
                let Value::String(k) = idx else {
                    return Err(exec(format!(
                        "error calling index: value has type {}; should be string",
                        go_type(idx)
                    )));
                };
                m.get(&**k).cloned().unwrap_or_else(|| zero_value_of(m))
            }
            Value::Nil => return Err(exec("error calling index: index of untyped nil")),
            other => {
                return Err(exec(format!(
                    "error calling index: can't index item of type {}",
                    go_type(other)
                )));
            }
        };
    }
    Ok(item)
}

fn index_int(idx: &Value, what: &str) -> Result<i64, gotmpl::TemplateError> {
    match idx {
        Value::Int(i) => Ok(*i),
        Value::Uint(u) => Ok(i64::try_from(*u).unwrap_or(i64::MAX)),
        other => Err(exec(format!(
            "error calling index: cannot index {what} with type {}",
            go_type(other)
        ))),
    }
}

fn zero_value_of(m: &BTreeMap<Arc<str>, Value>) -> Value {
    let mut kinds = m.values().filter(|v| !is_null(v));
    let Some(first) = kinds.next() else {
        // No typed value to learn from: empty (Labels) or all null.
        return if m.is_empty() {
            Value::String("".into())
        } else {
            NULL.clone()
        };
    };
    let same = |a: &Value, b: &Value| std::mem::discriminant(a) == std::mem::discriminant(b);
    if !kinds.all(|v| same(v, first)) {
        return Value::Nil;
    }
    match first {
        Value::String(_) => Value::String("".into()),
        Value::List(_) => Value::List(Vec::new().into()),
        Value::Map(_) => NULL.clone(),
        Value::Int(_) => Value::Int(0),
        Value::Uint(_) => Value::Uint(0),
        Value::Float(_) => Value::Float(0.0),
        Value::Bool(_) => Value::Bool(false),
        _ => Value::Nil,
    }
}

/// JSON nulls become Go nil for `printf`.
fn denull(v: &Value) -> Value {
    if is_null(v) {
        return Value::Nil;
    }
    match v {
        Value::List(l) if l.iter().any(|v| is_null(v) || has_null(v)) => {
            Value::List(l.iter().map(denull).collect())
        }
        Value::Map(m) if m.values().any(|v| is_null(v) || has_null(v)) => Value::Map(Arc::new(
            m.iter().map(|(k, v)| (Arc::clone(k), denull(v))).collect(),
        )),
        v => v.clone(),
    }
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::List(l) => l.iter().any(|v| is_null(v) || has_null(v)),
        Value::Map(m) => m.values().any(|v| is_null(v) || has_null(v)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Go fmt printing

/// Formats a value as Go's `fmt.Sprint` does: `<nil>`, `[a b]`,
/// `map[k:v]` (sorted keys), floats as `%v` (`1e+06`).
pub(crate) fn go_sprint(v: &Value) -> String {
    let mut out = String::new();
    go_sprint_into(v, &mut out);
    out
}

fn go_sprint_into(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Map(_) if is_null(v) => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&go_format_float(*f, None)),
        Value::String(s) => out.push_str(s),
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_sprint_into(item, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            let fields = m.iter().filter(|(_, v)| !v.is_function());
            for (i, (k, v)) in fields.enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                go_sprint_into(v, out);
            }
            out.push(']');
        }
        Value::Function(_) => out.push_str("<func>"),
        #[allow(unreachable_patterns)]
        other => out.push_str(&other.to_string()),
    }
}

// ---------------------------------------------------------------------------
// JSON, as Go's encoding/json writes it

/// docker's `json` template function: Go's `json.Encoder` with HTML escaping
/// off; an unencodable value (NaN) gives an empty string, as in docker.
fn json_func(args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    want_args("json", args, 1)?;
    let v = match &args[0] {
        Value::Function(f) => f(&[])?,
        v => v.clone(),
    };
    let out = CTX.with(|c| {
        let c = c.borrow();
        let mut out = String::new();
        match encode_value(&v, c.last(), false, &mut out) {
            Ok(()) => out,
            Err(()) => String::new(),
        }
    });
    Ok(Value::String(out.into()))
}

fn encode_value(v: &Value, ctx: Option<&Ctx>, html: bool, out: &mut String) -> Result<(), ()> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Map(_) if is_null(v) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&go_json_float(*f).ok_or(())?),
        Value::String(s) => quote_json(s, html, out),
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_value(item, ctx, html, out)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            let id = map_id(m);
            let is_row = ctx.is_some_and(|c| c.row_root == id);
            let html = html || is_row;
            let ordered = if is_row {
                None
            } else {
                ctx.and_then(|c| c.orders.get(&id))
            };
            let mut entries: Vec<(&str, &Value)> = match ordered {
                Some(keys) => keys
                    .iter()
                    .filter_map(|k| m.get(k).map(|v| (&**k, v)))
                    .collect(),
                None => m.iter().map(|(k, v)| (&**k, v)).collect(),
            };
            entries.retain(|(_, v)| !v.is_function());
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                quote_json(k, html, out);
                out.push(':');
                encode_value(v, ctx, html, out)?;
            }
            out.push('}');
        }
        Value::Function(_) => return Err(()),
        #[allow(unreachable_patterns)]
        _ => return Err(()),
    }
    Ok(())
}

/// A JSON string as Go writes it: `\n \r \t \b \f` short escapes, other
/// control characters as `\u00XX`, U+2028/U+2029 always escaped, and with
/// `html` also `<`, `>`, `&` (`\u003c`…).
pub(crate) fn quote_json(s: &str, html: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float64 as Go's `encoding/json` writes it (`1000000`, `1.5`, `1e+21`,
/// `1e-7`); `None` for NaN and infinities, which Go refuses.
pub(crate) fn go_json_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    let (digits, dp) = decimal_digits(abs, None);
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        push_exp_form(&mut out, &digits, dp, digits.len().saturating_sub(1));
        // Go cleans up e-07 to e-7.
        let n = out.len();
        if n >= 4 && &out[n - 4..n - 1] == "e-0" {
            out.remove(n - 2);
        }
    } else {
        push_fixed_form(
            &mut out,
            &digits,
            dp,
            (digits.len() as i64 - dp).max(0) as usize,
        );
    }
    Some(out)
}

/// Encodes JSON as Go's `json.Marshal` (or `json.Compact` of the daemon's
/// output) does: compact, keys in the value's order, Go's number and string
/// rules, `<>&` escaped only with `escape_html`.
pub fn json_compact(value: &serde_json::Value, escape_html: bool) -> String {
    let mut out = String::new();
    write_json(value, None, 0, escape_html, &mut out);
    out
}

/// Encodes JSON as Go's `json.MarshalIndent(v, "", indent)` / `json.Indent`
/// do: one member per line, `"key": value`, empty `[]` and `{}` kept
/// compact, no trailing newline; `<>&` are not escaped (docker's daemon
/// output, which `docker inspect` re-indents, does not escape them).
pub fn json_indent(value: &serde_json::Value, indent: &str) -> String {
    let mut out = String::new();
    write_json(value, Some(indent), 0, false, &mut out);
    out
}

fn write_json(
    v: &serde_json::Value,
    indent: Option<&str>,
    depth: usize,
    html: bool,
    out: &mut String,
) {
    use serde_json::Value as J;
    let newline = |out: &mut String, depth: usize| {
        if let Some(unit) = indent {
            out.push('\n');
            for _ in 0..depth {
                out.push_str(unit);
            }
        }
    };
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => {
            if n.is_f64() {
                // serde_json never holds NaN or infinities.
                out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0)).unwrap_or_default());
            } else {
                out.push_str(&n.to_string());
            }
        }
        J::String(s) => quote_json(s, html, out),
        J::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json(item, indent, depth + 1, html, out);
            }
            if !a.is_empty() {
                newline(out, depth);
            }
            out.push(']');
        }
        J::Object(o) => {
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                quote_json(k, html, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(item, indent, depth + 1, html, out);
            }
            if !o.is_empty() {
                newline(out, depth);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(src: &str, data: &serde_json::Value) -> String {
        Template::parse(src)
            .unwrap_or_else(|e| panic!("parse {src:?}: {e}"))
            .render_json(data)
            .unwrap_or_else(|e| panic!("render {src:?}: {e}"))
    }

    fn inspect() -> serde_json::Value {
        json!({
            "Id": "4f66ad9a0b2e",
            "Created": "2024-01-02T03:04:05.123456789Z",
            "Name": "/web",
            "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0,
                      "Health": null},
            "Config": {
                "Hostname": "4f66ad9a0b2e",
                "Env": ["PATH=/usr/bin", "A=1"],
                "Cmd": ["sh", "-c", "a && b < c"],
                "Entrypoint": null,
                "Labels": {"com.example.tier": "front", "a": "1"},
                "ExposedPorts": {"80/tcp": {}},
            },
            "NetworkSettings": {
                "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}], "443/tcp": null},
                "Networks": {"bridge": {"IPAddress": "172.17.0.2"}},
            },
            "Size": 1000000.0,
            "Ratio": 0.5,
            "Big": 18446744073709551615u64,
        })
    }

    #[test]
    fn fields_and_go_printing() {
        let d = inspect();
        assert_eq!(render("{{.State.Running}}", &d), "true");
        assert_eq!(render("{{.State.Pid}}", &d), "4242");
        assert_eq!(render("{{.Name}}", &d), "/web");
        assert_eq!(render("{{.Config.Env}}", &d), "[PATH=/usr/bin A=1]");
        assert_eq!(
            render("{{.Config.Labels}}", &d),
            "map[a:1 com.example.tier:front]"
        );
        assert_eq!(render("{{.Nope}}", &d), "<no value>");
        assert_eq!(render("{{.Config.Nope}}", &d), "<no value>");
        assert_eq!(render("{{.Config.Labels.a}}", &d), "1");
        assert_eq!(render("{{.State.Health}}", &d), "<nil>");
        assert_eq!(render("{{.Config.Entrypoint}}", &d), "<nil>");
        assert_eq!(render("{{.Size}}", &d), "1e+06");
        assert_eq!(render("{{.Ratio}}", &d), "0.5");
        assert_eq!(render("{{.Big}}", &d), "18446744073709551615");
        assert_eq!(
            render("{{.NetworkSettings.Ports}}", &d),
            "map[443/tcp:<nil> 80/tcp:[map[HostIp:0.0.0.0 HostPort:32768]]]"
        );
        assert_eq!(
            render(
                "{{1e6}} {{1000000.0}} {{1.5}} {{123456.0}} {{1234567.0}}",
                &d
            ),
            "1e+06 1e+06 1.5 123456 1.234567e+06"
        );
        assert_eq!(render("{{.}}", &json!([1, "a", null])), "[1 a <nil>]");
        assert_eq!(render("{{.}}", &json!(null)), "<nil>");
        assert_eq!(render("{{.}}", &json!(1.0)), "1");
        assert_eq!(render("{{print nil}}", &d), "<nil>");
    }

    #[test]
    fn control_flow() {
        let d = inspect();
        assert_eq!(
            render("{{range .Config.Env}}{{.}}{{\"\\n\"}}{{end}}", &d),
            "PATH=/usr/bin\nA=1\n"
        );
        assert_eq!(
            render("{{if .State.Health}}h{{else}}no health{{end}}", &d),
            "no health"
        );
        assert_eq!(render("{{if .State.Running}}up{{end}}", &d), "up");
        assert_eq!(
            render("{{range .Config.Entrypoint}}x{{else}}empty{{end}}", &d),
            "empty"
        );
        assert_eq!(
            render("{{with .Config.Entrypoint}}x{{else}}none{{end}}", &d),
            "none"
        );
        assert_eq!(
            render(
                "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}",
                &d
            ),
            "a=1;com.example.tier=front;"
        );
        assert_eq!(
            render(
                "{{range $p, $conf := .NetworkSettings.Ports}}{{$p}}={{len $conf}};{{end}}",
                &d
            ),
            "443/tcp=0;80/tcp=1;"
        );
        assert_eq!(
            render("{{len .Config.Env}} {{len .Config.Entrypoint}}", &d),
            "2 0"
        );
        assert_eq!(render("{{$n := .Name}}{{$n}}", &d), "/web");
        assert_eq!(
            render("{{define \"x\"}}[{{.}}]{{end}}{{template \"x\" .Name}}", &d),
            "[/web]"
        );
        assert_eq!(render("{{eq .State.Status \"running\"}}", &d), "true");
        assert_eq!(
            render("{{printf \"%s:%d\" .Name .State.Pid}}", &d),
            "/web:4242"
        );
        assert_eq!(render("{{printf \"%v\" .State.Health}}", &d), "<nil>");
        assert_eq!(render("{{.State.Health | printf \"%v\"}}", &d), "<nil>");
        assert_eq!(render("{{print 1e6 2 \"x\" 3}}", &d), "1e+06 2x3");
        assert_eq!(
            render(
                "{{printf \"%v|%8v|%.2f|%s|%v|%x\" 1e6 .Size .Size (split \"a,b\" \",\") .Config.Env 255}}",
                &d
            ),
            "1e+06|   1e+06|1000000.00|[a b]|[PATH=/usr/bin A=1]|ff"
        );
        assert_eq!(
            render("{{.Size | printf \"%s=%v\" \"size\"}}", &d),
            "size=1e+06"
        );
        assert_eq!(render("{{printf \"%[1]v\" 0.5}}", &d), "0.5");
        assert_eq!(render("{{println 1 \"a\"}}", &d), "1 a\n");
        assert_eq!(render("{{range 3}}{{.}}{{end}}", &d), "012");
    }

    #[test]
    fn index_function() {
        let d = inspect();
        assert_eq!(
            render("{{index .Config.Labels \"com.example.tier\"}}", &d),
            "front"
        );
        // Go's zero value for a map[string]string.
        assert_eq!(render("{{index .Config.Labels \"missing\"}}", &d), "");
        assert_eq!(render("{{index .Config.Env 1}}", &d), "A=1");
        assert_eq!(
            render(
                "{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}",
                &d
            ),
            "32768"
        );
        assert_eq!(
            render("{{index .NetworkSettings.Networks \"none\"}}", &d),
            "<nil>"
        );
        assert_eq!(
            render(
                "{{(index .NetworkSettings.Networks \"bridge\").IPAddress}}",
                &d
            ),
            "172.17.0.2"
        );
        assert_eq!(render("{{index \"abc\" 1}}", &d), "98");
        assert_eq!(render("{{index .Config.Env}}", &d), "[PATH=/usr/bin A=1]");
        let err = Template::parse("{{index .Config.Env 5}}")
            .unwrap()
            .render_json(&d)
            .unwrap_err();
        assert!(err.to_string().contains("index out of range: 5"), "{err}");
        let err = Template::parse("{{index .Nope 0}}")
            .unwrap()
            .render_json(&d)
            .unwrap_err();
        assert!(err.to_string().contains("index of untyped nil"), "{err}");
        let labels_null = json!({"Labels": null, "Empty": {}});
        assert_eq!(
            render(
                "{{index .Labels \"k\"}}|{{index .Empty \"k\"}}",
                &labels_null
            ),
            "|"
        );
    }

    #[test]
    fn json_function() {
        let d = inspect();
        assert_eq!(
            render("{{json .Config.Env}}", &d),
            r#"["PATH=/usr/bin","A=1"]"#
        );
        assert_eq!(render("{{json .Missing}}", &d), "null");
        assert_eq!(render("{{json .State.Health}}", &d), "null");
        assert_eq!(render("{{json .Name}}", &d), r#""/web""#);
        // Key order as serialised (Go struct order), not sorted.
        assert_eq!(
            render("{{json .State}}", &d),
            r#"{"Status":"running","Running":true,"Pid":4242,"ExitCode":0,"Health":null}"#
        );
        // docker's json function does not escape HTML.
        assert_eq!(
            render("{{json .Config.Cmd}}", &d),
            r#"["sh","-c","a && b < c"]"#
        );
        assert_eq!(
            render(
                "{{json .Size}} {{json .Ratio}} {{json 1e21}} {{json 1e-7}} {{json 0.000001}}",
                &d
            ),
            "1000000 0.5 1e+21 1e-7 0.000001"
        );
        assert_eq!(
            render("{{json \"\\u2028\\b\\f\\u0001<\\t\\\"\"}}", &d),
            r#""\u2028\b\f\u0001<\t\"""#
        );
        assert_eq!(render("{{json nil}}", &d), "null");
        assert_eq!(
            render("{{json .}}", &json!({"b": 1, "a": {"d": [], "c": {}}})),
            r#"{"b":1,"a":{"d":[],"c":{}}}"#
        );
        // A list row sorts its keys and escapes HTML like docker's MarshalJSON.
        let row =
            TemplateData::from_json(&json!({"Names": "web", "Command": "\"a && b\"", "ID": "abc"}))
                .with_method("Label", 1, |_| String::new());
        let t = Template::parse("{{json .}}").unwrap();
        assert_eq!(
            t.render_row(&row).unwrap(),
            r#"{"Command":"\"a \u0026\u0026 b\"","ID":"abc","Names":"web"}"#
        );
        assert_eq!(
            t.render(&row).unwrap(),
            r#"{"Names":"web","Command":"\"a && b\"","ID":"abc"}"#
        );
    }

    #[test]
    fn docker_string_functions() {
        let d = json!({"Name": "hello wORLD foo-bar", "Empty": "", "List": ["a", "b"]});
        assert_eq!(render("{{title .Name}}", &d), "Hello WORLD Foo-Bar");
        assert_eq!(render("{{title \"élan über_x 3d\"}}", &d), "Élan Über_x 3d");
        assert_eq!(
            render("{{title \"a-b c_d e.f 1x x1 ǆemal\"}}", &d),
            "A-B C_d E.F 1x X1 ǅemal"
        );
        assert_eq!(
            render("{{upper .Name}}|{{lower .Name}}", &d),
            "HELLO WORLD FOO-BAR|hello world foo-bar"
        );
        assert_eq!(render("{{upper \"aé\"}} {{upper \"ß\"}}", &d), "AÉ ß");
        assert_eq!(
            render("[{{pad \"x\" 2 3}}][{{pad .Empty 1 1}}]", &d),
            "[  x   ][]"
        );
        assert_eq!(
            render(
                "{{truncate \"abcdef\" 3}}|{{truncate \"abc\" 5}}|{{truncate \"abc\" 3}}",
                &d
            ),
            "abc|abc|abc"
        );
        assert_eq!(render("{{truncate \"héllo\" 2}}", &d), "h\u{fffd}");
        assert_eq!(render("{{split \"a,b,c\" \",\"}}", &d), "[a b c]");
        assert_eq!(render("{{split \"abc\" \"\"}}", &d), "[a b c]");
        assert_eq!(render("{{len (split \"\" \",\")}}", &d), "1");
        assert_eq!(render("{{join .List \", \"}}", &d), "a, b");
        assert_eq!(render("{{join (split \"a,b\" \",\") \"-\"}}", &d), "a-b");
        assert_eq!(
            render(
                "{{truncate (.Name | upper) 5}}",
                &json!({"Name": "abcdefgh"})
            ),
            "ABCDE"
        );
        // As in docker, a piped value is truncate's last argument: a type error.
        let err = Template::parse("{{.Name | truncate 5}}")
            .unwrap()
            .render_json(&d)
            .unwrap_err();
        assert!(
            err.to_string().contains("expected string; got int"),
            "{err}"
        );
        let err = Template::parse("{{upper 1}}")
            .unwrap()
            .render_json(&d)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("wrong type for value; expected string; got int"),
            "{err}"
        );
        let err = Template::parse("{{join \"a\" \",\"}}")
            .unwrap()
            .render_json(&d)
            .unwrap_err();
        assert!(
            err.to_string().contains("expected []string; got string"),
            "{err}"
        );
        let err = Template::parse("{{upper \"a\" \"b\"}}")
            .unwrap()
            .render_json(&d)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("wrong number of args for upper: want 1 got 2"),
            "{err}"
        );
    }

    #[test]
    fn methods_with_arguments() {
        let row = TemplateData::from_json(&json!({"Names": "web", "Labels": "a=1,b=2"}))
            .with_method("Label", 1, |args| match args[0] {
                "a" => "1".into(),
                "b" => "2".into(),
                _ => String::new(),
            })
            .with_method("Greeting", 0, |_| "hi".into());
        let t = |s: &str| Template::parse(s).unwrap().render(&row);
        assert_eq!(t("{{.Label \"a\"}}").unwrap(), "1");
        assert_eq!(t("{{.Label \"zz\"}}|").unwrap(), "|");
        assert_eq!(t("{{\"b\" | .Label}}").unwrap(), "2");
        assert_eq!(t("{{call .Label \"a\"}}").unwrap(), "1");
        assert_eq!(t("{{$.Label \"b\"}}").unwrap(), "2");
        assert_eq!(
            t("{{range split .Labels \",\"}}{{$.Label (index (split . \"=\") 0)}}{{end}}").unwrap(),
            "12"
        );
        assert_eq!(
            t("{{if eq (.Label \"a\") \"1\"}}yes{{end}}").unwrap(),
            "yes"
        );
        assert_eq!(t("{{.Label \"a\" | printf \"<%s>\"}}").unwrap(), "<1>");
        assert_eq!(t("{{.Greeting}}").unwrap(), "hi");
        assert_eq!(t("{{.}}").unwrap(), "map[Labels:a=1,b=2 Names:web]");
        assert_eq!(
            t("{{json .}}").unwrap(),
            r#"{"Names":"web","Labels":"a=1,b=2"}"#
        );
        let err = t("{{.Label}}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "template: executing \"\": wrong number of args for Label: want 1 got 0"
        );
        let err = t("{{.Label 1}}").unwrap_err();
        assert!(
            err.to_string().contains("expected string; got int"),
            "{err}"
        );
        let err = t("{{.Names \"x\"}}").unwrap_err();
        assert!(
            err.to_string()
                .contains("can't give argument to non-function .Names"),
            "{err}"
        );
    }

    #[test]
    fn header_context() {
        let header = TemplateData::header(&[("ID", "CONTAINER ID"), ("Names", "NAMES")]);
        let t = |s: &str| Template::parse(s).unwrap().render_header(&header);
        assert_eq!(t("{{.ID}}\t{{.Names}}"), "CONTAINER ID\tNAMES");
        assert_eq!(
            t("{{.Label \"com.docker.compose.project-name\"}}"),
            "project name"
        );
        assert_eq!(
            t("{{upper .Names}} {{json .ID}} {{truncate .ID 3}} {{join .Names \",\"}}"),
            "NAMES CONTAINER ID CONTAINER ID NAMES"
        );
        assert_eq!(t("{{pad .ID 1 1}}|"), " CONTAINER ID |");
        // Errors stop the header where they happen, as in docker.
        assert_eq!(t("{{.ID}}\t{{upper 1}}\t{{.Names}}"), "CONTAINER ID\t");
    }

    #[test]
    fn parse_errors_like_go() {
        let e = |s: &str| Template::parse(s).unwrap_err().to_string();
        assert_eq!(e("{{foo}}"), r#"template: :1: function "foo" not defined"#);
        assert_eq!(
            e("\n{{.X | bar 1}}"),
            r#"template: :2: function "bar" not defined"#
        );
        assert_eq!(e("{{$x}}"), r#"template: :1: undefined variable "$x""#);
        assert_eq!(
            e("{{if true}}{{$y := 1}}{{end}}{{$y}}"),
            r#"template: :1: undefined variable "$y""#
        );
        assert_eq!(e("{{.X"), "template: :1: unclosed action");
        assert_eq!(e("{{if .X}}"), "template: :1: unexpected EOF");
        assert_eq!(
            e("{{if .X}}\n{{range .Y}}{{end}}\n"),
            "template: :3: unexpected EOF"
        );
        assert_eq!(e("a{{end}}b"), "template: :1: unexpected {{end}}");
        assert_eq!(e("a\n{{else}}b"), "template: :2: unexpected {{else}}");
        assert_eq!(
            e("{{if 1}}{{break}}{{end}}"),
            "template: :1: {{break}} outside {{range}}"
        );
        assert_eq!(
            e("{{foo}}{{end}}"),
            r#"template: :1: function "foo" not defined"#
        );
        assert_eq!(e("{{end}}{{foo}}"), "template: :1: unexpected {{end}}");
        assert_eq!(
            e("x\n{{\"multi\nline\"}}"),
            "template: :2: unterminated quoted string"
        );
        assert_eq!(e("{{\"abc}}"), "template: :1: unterminated quoted string");
        assert_eq!(e("{{if}}{{end}}"), "template: :1: missing value for if");
        assert_eq!(
            e("{{range -}}{{end}}"),
            "template: :1: missing value for range"
        );
        assert!(Template::parse("{{`raw\nline`}}").is_ok());
        assert!(Template::parse("{{/* {{end}} */}}{{\"{{end}}\"}}{{if 1}}{{else if 2}}{{else}}{{end}}{{range .}}{{if 1}}{{continue}}{{end}}{{end}}").is_ok());
        assert_eq!(
            Template::parse("{{foo}}").unwrap_err().docker_message(),
            r#"template parsing error: template: :1: function "foo" not defined"#
        );
        // Declared variables are fine, also inside the declaring pipeline.
        assert!(
            Template::parse("{{$x := 1}}{{$x}}{{range $i, $e := .}}{{$i}}{{$e}}{{end}}").is_ok()
        );
    }

    #[test]
    fn shareable_across_threads() {
        fn check<T: Send + Sync>() {}
        check::<Template>();
        check::<TemplateData>();
        check::<crate::format::table::ListFormat>();
        let t = Arc::new(Template::parse("{{json .}}").unwrap());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let t = Arc::clone(&t);
                std::thread::spawn(move || t.render_json(&json!({"z": i, "a": [i]})).unwrap())
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().unwrap(), format!(r#"{{"z":{i},"a":[{i}]}}"#));
        }
    }

    proptest::proptest! {
        #[test]
        fn go_json_float_round_trips(bits in proptest::prelude::any::<u64>()) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite());
            let s = go_json_float(f).unwrap();
            proptest::prop_assert_eq!(s.parse::<f64>().unwrap().to_bits(), f.to_bits(), "{}", s);
            let exp = s.contains('e');
            let abs = f.abs();
            proptest::prop_assert_eq!(exp, abs != 0.0 && !(1e-6..1e21).contains(&abs), "{}", s);
        }

        #[test]
        fn rendering_any_json_never_panics(
            v in proptest::prelude::any::<(i64, f64, String, bool)>()
        ) {
            let data = json!({"I": v.0, "F": if v.1.is_finite() { json!(v.1) } else { json!(null) }, "S": v.2, "B": v.3, "N": null});
            let t = Template::parse("{{.I}} {{.F}} {{.S}} {{.B}} {{.N}} {{json .}} {{printf \"%v %s\" .F .S}}").unwrap();
            let out = t.render_json(&data).unwrap();
            proptest::prop_assert!(out.contains(&json_compact(&data, false)));
        }
    }

    #[test]
    fn json_encoders() {
        let v = json!({"Id": "x", "Args": [], "Labels": {}, "Nested": {"A": [1, 2.5, null], "B": "<&>"}, "F": 1e21});
        assert_eq!(
            json_compact(&v, false),
            r#"{"Id":"x","Args":[],"Labels":{},"Nested":{"A":[1,2.5,null],"B":"<&>"},"F":1e+21}"#
        );
        assert_eq!(
            json_compact(&v, true),
            r#"{"Id":"x","Args":[],"Labels":{},"Nested":{"A":[1,2.5,null],"B":"\u003c\u0026\u003e"},"F":1e+21}"#
        );
        assert_eq!(
            json_indent(&v, "    "),
            "{\n    \"Id\": \"x\",\n    \"Args\": [],\n    \"Labels\": {},\n    \"Nested\": {\n        \"A\": [\n            1,\n            2.5,\n            null\n        ],\n        \"B\": \"<&>\"\n    },\n    \"F\": 1e+21\n}"
        );
        assert_eq!(go_json_float(1e6).unwrap(), "1000000");
        assert_eq!(go_json_float(-1.5e-7).unwrap(), "-1.5e-7");
        assert_eq!(go_json_float(1.5e-10).unwrap(), "1.5e-10");
        assert_eq!(go_json_float(123456789e20).unwrap(), "1.23456789e+28");
        assert_eq!(go_json_float(0.0).unwrap(), "0");
        assert_eq!(go_json_float(-0.0).unwrap(), "-0");
        assert_eq!(go_json_float(f64::NAN), None);
    }
}
