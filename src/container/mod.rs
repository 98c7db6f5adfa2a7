//! Containers. For now: the pure part of `berth run`, turning the image
//! config and docker's run flags into an [`oci_spec::runtime::Spec`] with
//! docker's defaults, and the flag parsers the CLI needs.
//!
//! - [`spec`]: [`spec::build_spec`], [`spec::RunOptions`], [`spec::SpecInputs`];
//!   what the Spec leaves to the runtime (seccomp, cgroups, devices) is listed
//!   in its module doc.
//! - [`user`]: `-u`/`--group-add` against the image's passwd and group files.
//! - [`parse`]: `-v`, `--mount`, `--tmpfs`, `--ulimit`, `--env-file`,
//!   `--security-opt`.
//! - [`etc`]: the generated `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`.
//! - [`fs`]: a container's files from outside it (`cp`, `diff`): entering
//!   its file system, docker's copy path rules, tar in and out, changes.
//! - [`procs`]: a running container's processes (`top`, `pause`).

pub mod commit;
pub mod create;
pub mod etc;
pub mod fs;
pub mod logfile;
pub mod logread;
pub mod parse;
pub mod procs;
pub mod record;
pub mod spec;
pub mod usage;
pub mod user;
pub mod view;

#[cfg(test)]
mod tests;

pub use etc::{generate_hosts, generate_resolv_conf, hostname_file};
pub use parse::{
    BindOrVolume, Resource, Seccomp, SecurityOptions, Ulimit, VolumeMount, parse_env_file,
    parse_labels, parse_mount, parse_security_opts, parse_tmpfs, parse_ulimit, parse_volume,
};
pub use spec::{
    BindMount, EtcFiles, Limits, NetworkMode, RunOptions, SpecError, SpecInputs, TmpfsMount,
    build_spec,
};
pub use user::{ResolvedUser, UserSpec, parse_user, resolve_group_add, resolve_user};
