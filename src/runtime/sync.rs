//! The two pipes between the parent and the container init.
//!
//! Parent → child: single bytes ([`GO`] once the id maps are written,
//! [`START`] to exec). Child → parent: framed messages (one tag byte, a
//! little-endian u32 length, the payload), read until EOF. The child's end
//! is CLOEXEC, so EOF after [`START`] means the exec succeeded.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;

use super::RuntimeError;

pub const GO: u8 = b'G';
pub const START: u8 = b'S';

const TAG_READY: u8 = b'R';
const TAG_ERROR: u8 = b'E';
const TAG_WARNING: u8 = b'W';
const TAG_EXEC: u8 = b'X';

#[derive(Debug)]
pub enum Msg {
    Ready,
    Warning(String),
    Error(String),
    ExecFailed { status: i32, message: String },
}

fn write_all(fd: impl AsFd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match nix::unistd::write(fd.as_fd(), buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Child side. Errors are ignored: a parent that went away cannot be told.
pub fn send(fd: &OwnedFd, msg: &Msg) {
    let (tag, payload) = match msg {
        Msg::Ready => (TAG_READY, Vec::new()),
        Msg::Warning(w) => (TAG_WARNING, w.as_bytes().to_vec()),
        Msg::Error(e) => (TAG_ERROR, e.as_bytes().to_vec()),
        Msg::ExecFailed { status, message } => {
            let mut p = vec![*status as u8];
            p.extend_from_slice(message.as_bytes());
            (TAG_EXEC, p)
        }
    };
    let mut frame = Vec::with_capacity(5 + payload.len());
    frame.push(tag);
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&payload);
    let _ = write_all(fd, &frame);
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on EOF before the first byte.
fn read_exact(fd: &OwnedFd, buf: &mut [u8]) -> Result<bool, RuntimeError> {
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fd, &mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(RuntimeError::Protocol("truncated message".into())),
            Ok(n) => got += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(RuntimeError::sys("reading from the container init", e)),
        }
    }
    Ok(true)
}

/// Parent side: the next message, or `None` at EOF.
pub fn read_msg(fd: &OwnedFd) -> Result<Option<Msg>, RuntimeError> {
    let mut head = [0u8; 5];
    if !read_exact(fd, &mut head)? {
        return Ok(None);
    }
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > 1 << 20 {
        return Err(RuntimeError::Protocol("oversized message".into()));
    }
    let mut payload = vec![0u8; len];
    if len > 0 && !read_exact(fd, &mut payload)? {
        return Err(RuntimeError::Protocol("truncated message".into()));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(Some(match head[0] {
        TAG_READY => Msg::Ready,
        TAG_WARNING => Msg::Warning(text(&payload)),
        TAG_ERROR => Msg::Error(text(&payload)),
        TAG_EXEC if !payload.is_empty() => Msg::ExecFailed {
            status: payload[0] as i32,
            message: text(&payload[1..]),
        },
        t => return Err(RuntimeError::Protocol(format!("unknown message tag {t}"))),
    }))
}

/// Child side: waits for `want` from the parent; `false` if the parent is gone.
pub fn wait_for(fd: &OwnedFd, want: u8) -> bool {
    let mut b = [0u8];
    loop {
        match nix::unistd::read(fd, &mut b) {
            Ok(1) => return b[0] == want,
            Err(Errno::EINTR) => {}
            _ => return false,
        }
    }
}
