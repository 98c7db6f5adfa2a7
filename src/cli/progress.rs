//! Rendering of pull progress: bars on a terminal, docker's plain lines otherwise.

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::image::pull::{LayerState, PullEvent};

/// Where pull output goes: stdout for `pull`, stderr for `run` (whose stdout is the container's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn line(self, text: &str) {
        match self {
            Stream::Stdout => println!("{text}"),
            Stream::Stderr => eprintln!("{text}"),
        }
    }

    fn is_tty(self) -> bool {
        match self {
            Stream::Stdout => nix::unistd::isatty(std::io::stdout()).unwrap_or(false),
            Stream::Stderr => nix::unistd::isatty(std::io::stderr()).unwrap_or(false),
        }
    }

    fn draw_target(self) -> ProgressDrawTarget {
        match self {
            Stream::Stdout => ProgressDrawTarget::stdout(),
            Stream::Stderr => ProgressDrawTarget::stderr(),
        }
    }
}

pub enum Progress {
    Quiet,
    Lines(Stream, Mutex<HashMap<String, LayerState>>),
    Bars {
        multi: MultiProgress,
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
}

impl Progress {
    pub fn new(quiet: bool, stream: Stream) -> Progress {
        if quiet {
            return Progress::Quiet;
        }
        if stream.is_tty() {
            let multi = MultiProgress::with_draw_target(stream.draw_target());
            // indicatif hides itself on terminals it cannot draw on (no TERM, TERM=dumb);
            // it would then swallow our lines too.
            if !multi.is_hidden() {
                return Progress::Bars {
                    multi,
                    bars: Mutex::new(HashMap::new()),
                };
            }
        }
        Progress::Lines(stream, Mutex::new(HashMap::new()))
    }

    pub fn handle(&self, event: PullEvent) {
        if let PullEvent::Warning(w) = &event {
            eprintln!("WARNING: {w}");
            return;
        }
        match self {
            Progress::Quiet => {}
            Progress::Lines(stream, seen) => match event {
                PullEvent::Resolved {
                    tag_or_digest,
                    repository,
                } => {
                    stream.line(&format!("{tag_or_digest}: Pulling from {repository}"));
                }
                PullEvent::Layer { id, state } => {
                    // Docker's non-TTY output prints each state change once.
                    let mut seen = seen.lock().unwrap();
                    if state == LayerState::Downloading || seen.get(&id) == Some(&state) {
                        return;
                    }
                    seen.insert(id.clone(), state);
                    stream.line(&format!("{id}: {}", state.docker_text()));
                }
                PullEvent::Progress { .. } | PullEvent::Warning(_) => {}
            },
            Progress::Bars { multi, bars } => match event {
                PullEvent::Resolved {
                    tag_or_digest,
                    repository,
                } => {
                    let _ = multi.println(format!("{tag_or_digest}: Pulling from {repository}"));
                }
                PullEvent::Layer { id, state } => {
                    let mut bars = bars.lock().unwrap();
                    let bar = bars.entry(id.clone()).or_insert_with(|| {
                        let bar = multi.add(ProgressBar::new(0));
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{prefix}: {msg:<18} {bar:40} {bytes:>10}/{total_bytes:<10}",
                            )
                            .expect("valid template")
                            .progress_chars("=> "),
                        );
                        bar.set_prefix(id.clone());
                        bar
                    });
                    bar.set_message(state.docker_text());
                    if matches!(state, LayerState::PullComplete | LayerState::AlreadyExists) {
                        bar.set_style(
                            ProgressStyle::with_template("{prefix}: {msg}")
                                .expect("valid template"),
                        );
                        bar.finish_with_message(state.docker_text());
                    }
                }
                PullEvent::Progress { id, current, total } => {
                    if let Some(bar) = bars.lock().unwrap().get(&id) {
                        bar.set_length(total);
                        bar.set_position(current);
                    }
                }
                PullEvent::Warning(_) => {}
            },
        }
    }
}
