//! Dockerfile instructions applied to an image config: `commit -c` and
//! `import -c` (docker's `--change`). docker accepts CMD, ENTRYPOINT, ENV,
//! EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR and STOPSIGNAL, in JSON
//! (exec) or shell form where the Dockerfile allows both.

use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChangeError {
    #[error("dockerfile parse error on line 1: unknown instruction: {0}")]
    Unknown(String),
    #[error("{0} is not a valid change command")]
    NotAllowed(String),
    #[error("{instruction} requires {what}")]
    Missing {
        instruction: &'static str,
        what: &'static str,
    },
    #[error("{0}")]
    Syntax(String),
}

const ALLOWED: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "LABEL",
    "ONBUILD",
    "USER",
    "VOLUME",
    "WORKDIR",
    "STOPSIGNAL",
];

const KNOWN: &[&str] = &[
    "ADD",
    "ARG",
    "COPY",
    "FROM",
    "HEALTHCHECK",
    "MAINTAINER",
    "RUN",
    "SHELL",
];

/// Applies one `--change` line to `config` (docker's `Config` object:
/// `Cmd`, `Env`, … keys).
pub fn apply(config: &mut Map<String, Value>, line: &str) -> Result<(), ChangeError> {
    let line = line.trim();
    let (word, rest) = match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], line[i..].trim()),
        None => (line, ""),
    };
    let upper = word.to_ascii_uppercase();
    if !ALLOWED.contains(&upper.as_str()) {
        if KNOWN.contains(&upper.as_str()) {
            return Err(ChangeError::NotAllowed(upper));
        }
        return Err(ChangeError::Unknown(word.to_string()));
    }
    match upper.as_str() {
        "CMD" => {
            config.insert("Cmd".into(), json!(command(rest)?));
        }
        "ENTRYPOINT" => {
            config.insert("Entrypoint".into(), json!(command(rest)?));
        }
        "ENV" => {
            let pairs = key_values(rest, "ENV")?;
            let env = config.entry("Env").or_insert_with(|| json!([]));
            if !env.is_array() {
                *env = json!([]);
            }
            let list = env.as_array_mut().expect("array");
            for (k, v) in pairs {
                let item = json!(format!("{k}={v}"));
                match list
                    .iter()
                    .position(|e| e.as_str().is_some_and(|s| s.split('=').next() == Some(&k)))
                {
                    Some(i) => list[i] = item,
                    None => list.push(item),
                }
            }
        }
        "LABEL" => {
            let pairs = key_values(rest, "LABEL")?;
            let labels = config.entry("Labels").or_insert_with(|| json!({}));
            if !labels.is_object() {
                *labels = json!({});
            }
            for (k, v) in pairs {
                labels[k] = json!(v);
            }
        }
        "EXPOSE" => {
            let ports = words(rest)?;
            if ports.is_empty() {
                return Err(ChangeError::Missing {
                    instruction: "EXPOSE",
                    what: "at least one argument",
                });
            }
            let exposed = config.entry("ExposedPorts").or_insert_with(|| json!({}));
            if !exposed.is_object() {
                *exposed = json!({});
            }
            for p in ports {
                let p = if p.contains('/') {
                    p.to_ascii_lowercase()
                } else {
                    format!("{p}/tcp")
                };
                let (num, _) = p.split_once('/').expect("has /");
                let ok = num
                    .split('-')
                    .all(|n| !n.is_empty() && n.parse::<u16>().is_ok());
                if !ok {
                    return Err(ChangeError::Syntax(format!("invalid containerPort: {num}")));
                }
                exposed[p] = json!({});
            }
        }
        "ONBUILD" => {
            if rest.is_empty() {
                return Err(ChangeError::Missing {
                    instruction: "ONBUILD",
                    what: "at least one argument",
                });
            }
            let list = config.entry("OnBuild").or_insert_with(|| json!([]));
            if !list.is_array() {
                *list = json!([]);
            }
            list.as_array_mut().expect("array").push(json!(rest));
        }
        "USER" => {
            one_arg(rest, "USER")?;
            config.insert("User".into(), json!(rest));
        }
        "VOLUME" => {
            let vols = match json_array(rest) {
                Some(v) => v,
                None => words(rest)?,
            };
            if vols.is_empty() || vols.iter().any(String::is_empty) {
                return Err(ChangeError::Missing {
                    instruction: "VOLUME",
                    what: "at least one argument",
                });
            }
            let v = config.entry("Volumes").or_insert_with(|| json!({}));
            if !v.is_object() {
                *v = json!({});
            }
            for p in vols {
                v[p] = json!({});
            }
        }
        "WORKDIR" => {
            one_arg(rest, "WORKDIR")?;
            let old = config
                .get("WorkingDir")
                .and_then(Value::as_str)
                .unwrap_or("/")
                .to_string();
            let new = if rest.starts_with('/') {
                rest.to_string()
            } else {
                format!("{}/{rest}", old.trim_end_matches('/'))
            };
            config.insert("WorkingDir".into(), json!(new));
        }
        "STOPSIGNAL" => {
            one_arg(rest, "STOPSIGNAL")?;
            config.insert("StopSignal".into(), json!(rest));
        }
        _ => unreachable!("checked above"),
    }
    Ok(())
}

fn one_arg(rest: &str, instruction: &'static str) -> Result<(), ChangeError> {
    if rest.is_empty() {
        return Err(ChangeError::Missing {
            instruction,
            what: "exactly one argument",
        });
    }
    Ok(())
}

/// `["a","b"]` as a list of strings, if it is one.
fn json_array(rest: &str) -> Option<Vec<String>> {
    if !rest.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(rest).ok()
}

/// CMD/ENTRYPOINT: exec form, or shell form (`/bin/sh -c "…"`).
fn command(rest: &str) -> Result<Vec<String>, ChangeError> {
    if let Some(v) = json_array(rest) {
        return Ok(v);
    }
    if rest.is_empty() {
        return Ok(vec![]);
    }
    Ok(vec!["/bin/sh".into(), "-c".into(), rest.into()])
}

/// Splits words the way the Dockerfile does: whitespace, with `"…"`, `'…'`
/// and backslash escapes.
fn words(s: &str) -> Result<Vec<String>, ChangeError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        Some(c) => cur.push(c),
                        None => return Err(ChangeError::Syntax("unmatched \" in change".into())),
                    }
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(ChangeError::Syntax("unmatched ' in change".into())),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `K=V K2="v 2"`, or the legacy `K V…` (one pair, the rest of the line as value).
fn key_values(rest: &str, instruction: &'static str) -> Result<Vec<(String, String)>, ChangeError> {
    let ws = words(rest)?;
    if ws.is_empty() {
        return Err(ChangeError::Missing {
            instruction,
            what: "at least one argument",
        });
    }
    if !ws[0].contains('=') {
        let (k, v) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => {
                return Err(ChangeError::Syntax(format!(
                    "{instruction} must have two arguments"
                )));
            }
        };
        return Ok(vec![(k.to_string(), v.to_string())]);
    }
    ws.into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ChangeError::Syntax(format!(
                "Syntax error - can't find = in {w:?}. Must be of the form: name=value"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&str]) -> Value {
        let mut m = Map::new();
        m.insert("Env".into(), json!(["PATH=/bin", "A=1"]));
        for l in lines {
            apply(&mut m, l).unwrap();
        }
        Value::Object(m)
    }

    #[test]
    fn exec_and_shell_forms() {
        let c = run(&[r#"CMD ["echo","hi"]"#, "ENTRYPOINT /bin/x -y"]);
        assert_eq!(c["Cmd"], json!(["echo", "hi"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "/bin/x -y"]));
    }

    #[test]
    fn env_label_expose_volume_workdir() {
        let c = run(&[
            "ENV A=2 B=\"x y\"",
            "env C some value",
            "LABEL a=b \"c d\"=e",
            "EXPOSE 80 53/UDP",
            "VOLUME [\"/data\"]",
            "VOLUME /a /b",
            "WORKDIR /srv",
            "WORKDIR app",
            "USER 1000:1000",
            "STOPSIGNAL SIGINT",
            "ONBUILD RUN echo hi",
        ]);
        assert_eq!(
            c["Env"],
            json!(["PATH=/bin", "A=2", "B=x y", "C=some value"])
        );
        assert_eq!(c["Labels"], json!({"a": "b", "c d": "e"}));
        assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(c["Volumes"], json!({"/data": {}, "/a": {}, "/b": {}}));
        assert_eq!(c["WorkingDir"], json!("/srv/app"));
        assert_eq!(c["User"], json!("1000:1000"));
        assert_eq!(c["StopSignal"], json!("SIGINT"));
        assert_eq!(c["OnBuild"], json!(["RUN echo hi"]));
    }

    #[test]
    fn refused_instructions() {
        let mut m = Map::new();
        assert_eq!(
            apply(&mut m, "RUN echo"),
            Err(ChangeError::NotAllowed("RUN".into()))
        );
        assert!(matches!(
            apply(&mut m, "BOGUS x"),
            Err(ChangeError::Unknown(_))
        ));
        assert!(apply(&mut m, "EXPOSE abc").is_err());
        assert!(apply(&mut m, "USER").is_err());
        assert!(apply(&mut m, "ENV A=\"x").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,60}") {
            let mut m = Map::new();
            let _ = apply(&mut m, &s);
        }
    }
}
