//! Rendering of pull and push progress: bars on a terminal, docker's plain lines otherwise.

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::image::pull::{LayerState, PullEvent};
use crate::image::push::{PushEvent, PushState};

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
    /// Docker's non-TTY output: each state change of a layer once, no byte counts.
    Lines(Stream, Mutex<HashMap<String, String>>),
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

    /// A line of its own (`latest: Pulling from …`), above the bars.
    pub fn line(&self, text: &str) {
        match self {
            Progress::Quiet => {}
            Progress::Lines(stream, _) => stream.line(text),
            Progress::Bars { multi, .. } => {
                let _ = multi.println(text);
            }
        }
    }

    /// A layer's state. `transfer`: the state that bytes move in (its bar shows
    /// them; the plain output leaves it out, as docker's does). `done`: the last state.
    fn layer(&self, id: &str, text: &str, transfer: bool, done: bool) {
        match self {
            Progress::Quiet => {}
            Progress::Lines(stream, seen) => {
                let mut seen = seen.lock().unwrap();
                if transfer || seen.get(id).map(String::as_str) == Some(text) {
                    return;
                }
                seen.insert(id.to_string(), text.to_string());
                stream.line(&format!("{id}: {text}"));
            }
            Progress::Bars { multi, bars } => {
                let mut bars = bars.lock().unwrap();
                let bar = bars.entry(id.to_string()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(0));
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix}: {msg:<18} {bar:40} {bytes:>10}/{total_bytes:<10}",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    );
                    bar.set_prefix(id.to_string());
                    bar
                });
                bar.set_message(text.to_string());
                if done {
                    bar.set_style(
                        ProgressStyle::with_template("{prefix}: {msg}").expect("valid template"),
                    );
                    bar.finish_with_message(text.to_string());
                }
            }
        }
    }

    fn bytes(&self, id: &str, current: u64, total: u64) {
        if let Progress::Bars { bars, .. } = self
            && let Some(bar) = bars.lock().unwrap().get(id)
        {
            bar.set_length(total);
            bar.set_position(current);
        }
    }

    pub fn handle(&self, event: PullEvent) {
        match event {
            PullEvent::Warning(w) => eprintln!("WARNING: {w}"),
            PullEvent::Resolved {
                tag_or_digest,
                repository,
            } => self.line(&format!("{tag_or_digest}: Pulling from {repository}")),
            PullEvent::Layer { id, state } => self.layer(
                &id,
                state.docker_text(),
                state == LayerState::Downloading,
                matches!(state, LayerState::PullComplete | LayerState::AlreadyExists),
            ),
            PullEvent::Progress { id, current, total } => self.bytes(&id, current, total),
        }
    }

    pub fn handle_push(&self, event: PushEvent) {
        match event {
            PushEvent::Layer { id, state } => self.layer(
                &id,
                &state.docker_text(),
                state == PushState::Pushing,
                state.is_final(),
            ),
            PushEvent::Progress { id, current, total } => self.bytes(&id, current, total),
        }
    }
}
