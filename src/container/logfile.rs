//! The container's log in docker's json-file format: one JSON object per
//! line, `{"log":"text\n","stream":"stdout","time":"2024-…Z"}`.
//!
//! A line longer than [`MAX_LINE`] is written in pieces without the trailing
//! newline (docker's partial messages); output that ends without a newline
//! is written as such when the stream closes. With `max-size`, the file is
//! rotated to `ctr.log.1`, `ctr.log.2`, … keeping `max-file` files in all.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

/// docker's buffer size for one log message (16 KiB).
pub const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Appends to a container's json-file log.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    max_file: u32,
    /// An unfinished line per stream.
    pending: [Vec<u8>; 2],
    out: Vec<u8>,
}

impl LogWriter {
    /// Opens (creates) the log for appending. `max_size` 0: never rotate.
    pub fn open(path: &Path, max_size: u64, max_file: u32) -> io::Result<LogWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            size,
            max_size,
            max_file: max_file.max(1),
            pending: [Vec::new(), Vec::new()],
            out: Vec::new(),
        })
    }

    /// Logs `data` from `stream`: complete lines now, the rest when its line ends.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> io::Result<()> {
        self.write_at(stream, data, Utc::now())
    }

    pub fn write_at(&mut self, stream: Stream, data: &[u8], now: DateTime<Utc>) -> io::Result<()> {
        let time = now.to_rfc3339_opts(SecondsFormat::Nanos, true);
        let slot = stream as usize;
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_LINE - self.pending[slot].len();
            let window = &rest[..rest.len().min(room)];
            match memchr(b'\n', window) {
                Some(i) => {
                    self.pending[slot].extend_from_slice(&window[..=i]);
                    rest = &rest[i + 1..];
                    self.emit(stream, &time);
                }
                None => {
                    self.pending[slot].extend_from_slice(window);
                    rest = &rest[window.len()..];
                    if self.pending[slot].len() == MAX_LINE {
                        self.emit(stream, &time);
                    }
                }
            }
        }
        self.flush_out()
    }

    /// Writes what is left of unfinished lines (the stream closed).
    pub fn finish(&mut self) -> io::Result<()> {
        let time = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
        for stream in [Stream::Stdout, Stream::Stderr] {
            if !self.pending[stream as usize].is_empty() {
                self.emit(stream, &time);
            }
        }
        self.flush_out()
    }

    fn emit(&mut self, stream: Stream, time: &str) {
        let line = std::mem::take(&mut self.pending[stream as usize]);
        let text = String::from_utf8_lossy(&line);
        let entry = serde_json::json!({"log": text, "stream": stream.as_str(), "time": time});
        serde_json::to_writer(&mut self.out, &entry).expect("json to memory");
        self.out.push(b'\n');
        let mut line = line;
        line.clear();
        self.pending[stream as usize] = line;
    }

    fn flush_out(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        if self.max_size > 0 && self.size > 0 && self.size + self.out.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(&self.out)?;
        self.size += self.out.len() as u64;
        self.out.clear();
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.max_file - 1;
        if keep == 0 {
            self.file.set_len(0)?;
        } else {
            for n in (1..keep).rev() {
                let _ = fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1));
            }
            fs::rename(&self.path, rotated(&self.path, 1))?;
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

/// `ctr.log.N`: the Nth most recent rotated log.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{n}"));
    PathBuf::from(p)
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn lines_are_split_per_stream_and_unfinished_ones_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0, 1).unwrap();
        let t = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.5Z")
            .unwrap()
            .with_timezone(&Utc);
        w.write_at(Stream::Stdout, b"one\ntw", t).unwrap();
        w.write_at(Stream::Stderr, b"err\n", t).unwrap();
        w.write_at(Stream::Stdout, b"o\nthree", t).unwrap();
        w.finish().unwrap();
        let got = lines(&path);
        let logs: Vec<(&str, &str)> = got
            .iter()
            .map(|v| (v["stream"].as_str().unwrap(), v["log"].as_str().unwrap()))
            .collect();
        assert_eq!(
            logs,
            [
                ("stdout", "one\n"),
                ("stderr", "err\n"),
                ("stdout", "two\n"),
                ("stdout", "three")
            ]
        );
        assert_eq!(got[0]["time"], "2024-01-02T03:04:05.500000000Z");
        let raw = fs::read_to_string(&path).unwrap();
        assert!(
            raw.starts_with(r#"{"log":"one\n","stream":"stdout","time":"#),
            "{raw}"
        );
    }

    #[test]
    fn long_lines_become_partial_messages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0, 1).unwrap();
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.push(b'\n');
        w.write(Stream::Stdout, &data).unwrap();
        let got = lines(&path);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0]["log"].as_str().unwrap().len(), MAX_LINE);
        assert_eq!(got[1]["log"].as_str().unwrap(), "x".repeat(10) + "\n");
    }

    #[test]
    fn max_size_rotates_and_keeps_max_file_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 200, 3).unwrap();
        for i in 0..40 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes())
                .unwrap();
        }
        assert!(fs::metadata(&path).unwrap().len() <= 200);
        assert!(rotated(&path, 1).exists() && rotated(&path, 2).exists());
        assert!(!rotated(&path, 3).exists());
        let last = lines(&path);
        assert_eq!(last.last().unwrap()["log"], "line 39\n");
    }
}
