//! The stage model: `--target` resolution and the dependency graph between
//! stages (`FROM stage`, `COPY --from`, `RUN --mount=from=`), so that the
//! executor builds only what the target needs and independent stages
//! concurrently.

use super::dockerfile::{Dockerfile, Instruction, Stage};
use super::expand::{BuildArgs, ExpandError, StageVars, Vars, expand_word, meta_vars};

/// Why the graph could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// `--target` names no stage (BuildKit's wording).
    #[error("target stage \"{0}\" could not be found")]
    NoTarget(String),
    #[error("circular dependency detected on stage: {0}")]
    Cycle(String),
    #[error("{file}:{line}: {source}")]
    Expand {
        file: String,
        line: usize,
        #[source]
        source: ExpandError,
    },
    #[error("{file}:{line}: invalid from flag value {value}: {problem}")]
    BadFrom {
        file: String,
        line: usize,
        value: String,
        problem: String,
    },
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `FROM scratch`: an empty file system.
    Scratch,
    /// `FROM <earlier stage name>`.
    Stage(usize),
    /// An image reference (expanded) to pull or find locally.
    Image(String),
}

/// What a `--from` (COPY or RUN --mount) refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromRef {
    Stage(usize),
    Image(String),
}

/// One stage in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageNode {
    pub index: usize,
    pub name: Option<String>,
    pub base: Base,
    /// `FROM --platform` expanded.
    pub platform: Option<String>,
    /// Stages this one needs (its base and every `--from`), sorted, unique.
    pub deps: Vec<usize>,
    /// External images used by `--from` (to pull before the stage runs).
    pub images: Vec<String>,
}

/// The stages with their resolved bases and dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageGraph {
    pub stages: Vec<StageNode>,
    /// The global scope used ([`meta_vars`]).
    pub meta: Vars,
}

impl Dockerfile {
    /// The stage `--target` names (case-insensitive), or the last stage.
    pub fn target(&self, target: Option<&str>) -> Result<usize, GraphError> {
        match target {
            None => Ok(self.stages.len() - 1),
            Some(t) => {
                let t = t.to_ascii_lowercase();
                self.stages
                    .iter()
                    .position(|s| s.name.as_deref() == Some(t.as_str()))
                    .ok_or(GraphError::NoTarget(t))
            }
        }
    }

    /// Finds a stage by a `--from`/`FROM` reference: a stage name (any case)
    /// or, if `index_ok`, a decimal index.
    pub fn stage_by_ref(&self, r: &str, index_ok: bool) -> Option<&Stage> {
        let l = r.to_ascii_lowercase();
        if let Some(s) = self.stages.iter().find(|s| s.name.as_deref() == Some(&l)) {
            return Some(s);
        }
        if index_ok && !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) {
            return r.parse::<usize>().ok().and_then(|i| self.stages.get(i));
        }
        None
    }

    /// Resolves bases and dependencies. `FROM` lines are expanded in the
    /// global scope; `--from` values with the global scope plus the ARGs
    /// the stage declared before them (ENV is not tracked here).
    pub fn graph(&self, args: &BuildArgs) -> Result<StageGraph, GraphError> {
        let meta = meta_vars(self, args).map_err(|e| GraphError::Expand {
            file: e.file,
            line: e.line,
            source: e.source,
        })?;
        let mut nodes = Vec::new();
        for stage in &self.stages {
            let from = stage
                .from
                .value
                .expand(&meta, self.escape)
                .map_err(|source| GraphError::Expand {
                    file: self.file.clone(),
                    line: stage.from.line,
                    source,
                })?;
            let mut deps = Vec::new();
            let base = if from.image.eq_ignore_ascii_case("scratch") {
                Base::Scratch
            } else {
                match self
                    .stage_by_ref(&from.image, false)
                    .filter(|s| s.index < stage.index)
                {
                    Some(s) => {
                        deps.push(s.index);
                        Base::Stage(s.index)
                    }
                    None => Base::Image(from.image.clone()),
                }
            };
            let mut images = Vec::new();
            let mut scope = StageVars::new(&[]);
            for l in &stage.instructions {
                let mut refs = Vec::new();
                match &l.value {
                    Instruction::Arg(decls) => {
                        for d in decls {
                            let mut d = d.clone();
                            d.default = d
                                .default
                                .as_deref()
                                .map(|v| expand_word(v, self.escape, &scope))
                                .transpose()
                                .map_err(|source| GraphError::Expand {
                                    file: self.file.clone(),
                                    line: l.line,
                                    source,
                                })?;
                            scope.declare_arg(&d, &meta, args);
                        }
                    }
                    Instruction::Copy(c) => refs.extend(c.from.iter().cloned()),
                    Instruction::Run(r) => {
                        refs.extend(r.mounts.iter().filter_map(|m| m.from.clone()))
                    }
                    _ => {}
                }
                for raw in refs {
                    let v = expand_word(&raw, self.escape, &scope).map_err(|source| {
                        GraphError::Expand {
                            file: self.file.clone(),
                            line: l.line,
                            source,
                        }
                    })?;
                    match self.resolve_from(&v, stage.index) {
                        Ok(FromRef::Stage(i)) => deps.push(i),
                        Ok(FromRef::Image(img)) => {
                            if !images.contains(&img) {
                                images.push(img)
                            }
                        }
                        Err(problem) => {
                            return Err(GraphError::BadFrom {
                                file: self.file.clone(),
                                line: l.line,
                                value: v,
                                problem,
                            });
                        }
                    }
                }
            }
            deps.sort_unstable();
            deps.dedup();
            nodes.push(StageNode {
                index: stage.index,
                name: stage.name.clone(),
                base,
                platform: from.platform,
                deps,
                images,
            });
        }
        let g = StageGraph {
            stages: nodes,
            meta,
        };
        for i in 0..g.stages.len() {
            g.required(i)?;
        }
        Ok(g)
    }

    /// Resolves an (expanded) `--from` value seen in stage `current`.
    pub fn resolve_from(&self, v: &str, current: usize) -> Result<FromRef, String> {
        if v.is_empty() {
            return Err("empty value".into());
        }
        if v.bytes().all(|b| b.is_ascii_digit()) {
            let i: usize = v.parse().map_err(|_| "index out of range".to_string())?;
            if i >= self.stages.len() {
                return Err(format!("stage index {i} does not exist"));
            }
            if i == current {
                return Err("refers to current build stage".into());
            }
            return Ok(FromRef::Stage(i));
        }
        match self.stage_by_ref(v, false) {
            Some(s) if s.index == current => Err("refers to current build stage".into()),
            Some(s) => Ok(FromRef::Stage(s.index)),
            None => Ok(FromRef::Image(v.to_string())),
        }
    }
}

impl StageGraph {
    fn label(&self, i: usize) -> String {
        self.stages[i].name.clone().unwrap_or_else(|| i.to_string())
    }

    /// The stages `target` needs, itself last, dependencies before their
    /// users (a topological order).
    pub fn required(&self, target: usize) -> Result<Vec<usize>, GraphError> {
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; self.stages.len()];
        let mut order = Vec::new();
        self.visit(target, &mut state, &mut order)?;
        Ok(order)
    }

    fn visit(&self, i: usize, state: &mut [u8], order: &mut Vec<usize>) -> Result<(), GraphError> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(GraphError::Cycle(self.label(i))),
            _ => {}
        }
        state[i] = 1;
        for &d in &self.stages[i].deps {
            self.visit(d, state, order)?;
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }

    /// The required stages grouped in waves: every stage of a wave depends
    /// only on stages of earlier waves, so a wave's stages can be built
    /// concurrently.
    pub fn waves(&self, target: usize) -> Result<Vec<Vec<usize>>, GraphError> {
        let order = self.required(target)?;
        let mut level = vec![0usize; self.stages.len()];
        let mut waves: Vec<Vec<usize>> = Vec::new();
        for &i in &order {
            let l = self.stages[i]
                .deps
                .iter()
                .map(|&d| level[d] + 1)
                .max()
                .unwrap_or(0);
            level[i] = l;
            if waves.len() <= l {
                waves.resize_with(l + 1, Vec::new);
            }
            waves[l].push(i);
        }
        for w in &mut waves {
            w.sort_unstable();
        }
        Ok(waves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::dockerfile::parse;

    const MULTI: &str = "\
ARG GO=1.22
FROM golang:${GO} AS Build
RUN go build
FROM alpine AS tools
RUN apk add x
FROM build AS test
COPY --from=tools /x /x
FROM scratch AS final
COPY --from=build /app /app
COPY --from=nginx:latest /etc/nginx /etc/nginx
RUN --mount=type=bind,from=tools,target=/t true
FROM final
";

    #[test]
    fn targets() {
        let df = parse(MULTI, "Dockerfile").unwrap();
        assert_eq!(df.target(None).unwrap(), 4);
        assert_eq!(df.target(Some("BUILD")).unwrap(), 0);
        assert_eq!(df.target(Some("final")).unwrap(), 3);
        assert_eq!(
            df.target(Some("nope")).unwrap_err().to_string(),
            "target stage \"nope\" could not be found"
        );
    }

    #[test]
    fn graph_deps_and_waves() {
        let df = parse(MULTI, "Dockerfile").unwrap();
        let g = df.graph(&BuildArgs::host()).unwrap();
        assert_eq!(g.stages[0].base, Base::Image("golang:1.22".into()));
        assert_eq!(g.stages[2].base, Base::Stage(0));
        assert_eq!(g.stages[2].deps, vec![0, 1]);
        assert_eq!(g.stages[3].base, Base::Scratch);
        assert_eq!(g.stages[3].deps, vec![0, 1]);
        assert_eq!(g.stages[3].images, vec!["nginx:latest".to_string()]);
        assert_eq!(g.stages[4].base, Base::Stage(3));
        assert_eq!(g.required(4).unwrap(), vec![0, 1, 3, 4]);
        assert_eq!(g.waves(4).unwrap(), vec![vec![0, 1], vec![3], vec![4]]);
        assert_eq!(g.required(1).unwrap(), vec![1]);
        assert_eq!(g.waves(2).unwrap(), vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn index_refs_and_args_in_from() {
        let df = parse(
            "FROM a\nFROM b\nARG SRC=0\nCOPY --from=$SRC /x /x\nCOPY --from=1 /y /y\n",
            "Dockerfile",
        )
        .unwrap();
        let err = df.graph(&BuildArgs::host()).unwrap_err();
        assert!(
            err.to_string().contains("refers to current build stage"),
            "{err}"
        );
        let df = parse("FROM a\nFROM b\nARG SRC=0\nCOPY --from=$SRC /x /x\n", "D").unwrap();
        let g = df.graph(&BuildArgs::host()).unwrap();
        assert_eq!(g.stages[1].deps, vec![0]);
        let df = parse("FROM a\nCOPY --from=7 /x /x\n", "D").unwrap();
        assert!(df.graph(&BuildArgs::host()).is_err());
    }

    #[test]
    fn cycles_detected() {
        let df = parse(
            "FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\nCOPY --from=one /y /y\n",
            "Dockerfile",
        )
        .unwrap();
        assert_eq!(
            df.graph(&BuildArgs::host()).unwrap_err(),
            GraphError::Cycle("one".into())
        );
    }

    #[test]
    fn from_later_or_same_name_is_an_image() {
        let df = parse("FROM foo AS foo\nFROM bar AS x\n", "Dockerfile").unwrap();
        let g = df.graph(&BuildArgs::host()).unwrap();
        assert_eq!(g.stages[0].base, Base::Image("foo".into()));
    }
}
