//! berth: a daemonless, rootless, docker-compatible container tool.
//!
//! # The map of the house
//!
//! berth is one binary that does the docker client's and the docker daemon's
//! work in-process. Nothing stays resident except one small monitor per
//! detached container.
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | clap definitions, one file per command (`cli()` builds the clap command, `exec()` runs it); rendering of docker-shaped output; the single place that maps errors to exit codes ([`cli::exit_code`]). No business logic, no library printing. |
//! | [`events`] | `events`: docker's event messages (`Type`, `Action`, `Actor`, `time`, the legacy `status`/`id`/`from`), recorded with one append to `<data>/events.log` (rotated to `events.log.1`, never failing a command) by the code that acts (container create/start/die/kill/stop/destroy/rename/pause/unpause/commit/exec_*/health_status in [`container`], [`monitor`] and `exec`, image pull/push/tag/untag/delete/save/load/import in [`image`], volume create/destroy/mount, network create/destroy/connect/disconnect), read back and followed by a reader with docker's filters. |
//! | [`complete`] | the names shell completion offers (containers, running ones, images, volumes, networks), read from the records without creating, locking or starting anything; `cli::complete` (the hidden `__complete`) finds where the cursor is, and the scripts in `completions/` call it. |
//! | [`error`] | error types shared across modules and the [`error::ExitStatus`] a command can end with. |
//! | [`paths`] | where things live: root vs rootless data, runtime and config dirs (`$XDG_DATA_HOME/berth`, `/var/lib/berth`, …), and the overrides the tests use. |
//! | [`config`] | `config.toml`: registries (insecure, mirrors), defaults. |
//! | [`context`] | what every command needs, built once per invocation: paths, config, credentials, the store (opened lazily), the rootless id mapping. |
//! | [`image`] | everything about images: [`image::reference`] (docker's name normalisation), [`image::auth`] (credentials from berth's, docker's and podman's files and credential helpers), [`image::registry`] (OCI distribution client over oci-client: manifests, platform selection, blob streams), [`image::store`] (content-addressed per-user store: blobs, unpacked layers, `images.json`, locks), [`image::unpack`] and [`image::tarsplit`] (safe layer extraction that never leaves the layer dir, and the metadata to rebuild the exact tar), [`image::pull`] (the pull pipeline), [`image::push`] (the push pipeline: reuse or cross-repository mount of known blobs, else the exact tar rebuilt, gzipped and streamed in one pass), [`image::upload`] (the registry's write API over reqwest), [`image::blobinfo`] (which compressed blobs hold a layer, and where they were seen), [`image::local`] (docker's rules for finding, listing, inspecting, tagging and removing stored images), [`image::layers`] (layers and images made locally: `store_layer` from a tar stream, `write_image`, `open_tar` to rebuild a stored layer's exact tar), [`image::archive`] (`save`/`load`), [`image::changes`] (`--change` Dockerfile instructions). |
//! | [`container`] | containers as data: image config + docker's run flags → `oci_spec::runtime::Spec` with docker's defaults ([`container::spec`]), user lookup in the image's passwd/group ([`container::user`]), the flag parsers ([`container::parse`]), generated /etc files ([`container::etc`]), creating and removing a container on disk ([`container::create`]), the records every later command reads: config, spec, state, names reserved atomically, the observed liveness of pids ([`container::record`]), the json-file log ([`container::logfile`] writes, [`container::logread`] reads), docker-shaped `ps` rows and inspect JSON ([`container::view`]), files in and out (`cp`, `diff`, `export`, the layer diff of `commit`: [`container::fs`]), the container's processes (`top`, `pause`: [`container::procs`]), `commit`/`import` ([`container::commit`]) and `system df` ([`container::usage`]). |
//! | [`runtime`] | berth's own container runtime (no crun/runc): a [`runtime::ContainerPlan`] (OCI spec + overlay layout) → namespaces, overlay rootfs, mounts, pivot_root, user, capabilities, seccomp, exec; `create` → `start` → `wait`; the output pump of the container's parent ([`runtime::io`]), ptys ([`runtime::pty`]), and `exec` into a running container ([`runtime::exec`]). Called from single-threaded processes only. |
//! | [`monitor`] | the per-container monitor, berth's stand-in for the daemon: the container's parent (the foreground `run`, or a detached `berth internal monitor`), which logs its output, records its start and exit, applies the restart policy ([`monitor`]), runs health checks ([`monitor::health`]), serves `attach` ([`monitor::attach`]); and the commands that act on it through its record and pids: `stop`, `kill`, `rm -f`, `wait`, `prune`, `system boot` ([`monitor::control`]). |
//! | [`build`] | `build`: our Dockerfile parser ([`build::dockerfile`]: directives, continuations, heredocs, every instruction and flag, errors with lines), BuildKit's variable substitution and ARG/ENV scopes ([`build::expand`]), `--target` and the stage dependency graph ([`build::stages`]), `.dockerignore` with moby's patternmatcher semantics ([`build::ignore`]), the build context: walk, tar extraction, COPY source globs and content hashes ([`build::context`]); and the executor ([`build::exec`]): docker's classic builder, one image config per step, independent stages at the same time, RUN in real containers, COPY/ADD/WORKDIR through an overlay of the step's layers, the layer cache (`<data>/buildcache/`). |
//! | [`volume`] | named and anonymous volumes (docker's `local` driver): `volumes/<name>/_data` + `volume.json`, names taken atomically (rename without replace), users read from container records (in use: never removed), `rm -v`/`--rm`/prune rules, and copy-up of the image's files into a new volume ([`volume::copyup`]). |
//! | [`network`] | container networking: the rootless default network (pasta, slirp4netns as fallback) that the monitor connects before the command starts and stops at exit; root's default network, the `berth0` bridge with host-wide address leases; published ports (`-p`, `-P`: parsing, free-port picking, docker's `port`/`ps`/inspect shapes: [`network::ports`]; as root, nftables DNAT maps: [`network::bridge::publish`]; rootless on a user-defined network, a userspace proxy: [`network::proxy`]); user-defined networks: the records and address allocation ([`network::store`]), bridges, NAT and veth pairs ([`network::bridge`]), the per-user holder process that keeps the rootless bridges' namespaces and answers DNS for container names ([`network::holder`], [`network::dns`]), and what `network rm/prune/connect/disconnect` do ([`network::manage`]). |
//! | [`system`] | what docker's daemon reports about itself, for this installation and host: `info` (docker's `Info` object: counts, storage driver, security options, kernel, CPUs, memory, the engine id kept in `<data>/engine-id`) and `system prune` (containers, networks, images, build cache, anonymous volumes, through each module's own prune). |
//! | [`userns`] | entering a user namespace with the caller's full subuid/subgid map (newuidmap/newgidmap), so rootless extraction and removal give files their real owners. |
//! | [`format`] | docker's output conventions: Go templates with docker's functions, tab-aligned tables, go-units sizes and durations. |
//!
//! # How a `berth pull` flows
//!
//! 1. `cli::pull` parses flags and calls [`image::reference::Reference::parse`]
//!    (`busybox` → `docker.io/library/busybox:latest`).
//! 2. [`image::pull::pull`] (async, tokio) asks [`image::registry`] for the
//!    manifest (resolving an index to one platform), then the config.
//! 3. For each layer not already in the store it takes the layer's lock and
//!    streams the blob: bytes are hashed as they arrive and piped into
//!    `berth internal unpack`, a single-threaded re-exec of this binary which
//!    (rootless) first enters a user namespace through [`userns`], then
//!    decompresses, extracts with [`image::unpack`] and writes the tar-split.
//!    The layer directory is renamed into place only when both digests match.
//! 4. The manifest and config are written to the blob store, and the image
//!    record to `images.json` under the store lock. Progress reaches the CLI as
//!    [`image::pull::PullEvent`]s; the CLI draws bars on a TTY, lines otherwise.
//!
//! # How a `berth run` flows
//!
//! 1. `cli::run` turns docker's flags into [`container::spec::RunOptions`]
//!    (parsers in [`container::parse`]) and finds the image with
//!    [`image::local::find`]. A missing image is pulled (output on stderr),
//!    then berth re-executes itself, because the pull started tokio's threads
//!    and the container must be created by a process that never had any.
//! 2. [`container::create::prepare`] reserves the name and writes the record
//!    ([`container::record`]), makes `upper/`, `work/`, `merged/` and the
//!    generated `/etc/hosts`, `resolv.conf`, `hostname`, and builds the OCI
//!    Spec with docker's defaults ([`container::spec::build_spec`]; users
//!    resolved in the image's `/etc/passwd` by [`container::user`]).
//! 3. The monitor takes over: in the foreground this very process
//!    ([`monitor::run_foreground`]); with `-d` a re-exec, `berth internal
//!    monitor ID` ([`monitor::spawn_detached`]), which reports "started" (or
//!    the start error, 125/126/127) over a pipe and stays. It claims the
//!    container in `state.json` (two starts at once: one wins).
//! 4. [`runtime::create_with_stdio`] clones the container's PID 1 with all
//!    its namespaces at once. Rootless, the clone happens inside the user
//!    namespace the network holder keeps for the user ([`network::holder`],
//!    started by the first container): joined as it is when the container
//!    has berth's standard id map, nested in it with the container's own map
//!    otherwise (`--userns=keep-id`, `-u $(id -u)`; the maps are written from
//!    inside, without newuidmap). Without subordinate ids it gets a
//!    single-id namespace of its own ([`userns`]). The child mounts the
//!    overlay of the store's layer dirs, `/proc`, `/dev`, `/sys`, binds and
//!    tmpfs, pivots, masks paths, sets user, rlimits, capabilities and
//!    seccomp, and waits. Meanwhile the monitor connects its network:
//!    rootless on the default network it starts pasta on the container's
//!    namespace (with the published ports); on a user-defined network the
//!    container gets a veth pair into the network's bridge (rootless in the
//!    holder's namespace, which is why the container must be in its user
//!    namespace; `network connect` later does the same). Then the monitor
//!    records the pid and lets it exec.
//! 5. [`runtime::io::pump`] moves the container's output (pipes, or the pty
//!    master) to the json-file log and to the caller's terminal (foreground)
//!    or attached clients (detached), forwards signals, runs health checks,
//!    and reaps it. The exit is recorded in `state.json`; the restart policy
//!    may start it again; `--rm` unregisters the container and deletes its
//!    directory. `run` exits with the container's code (125/126/127 for its
//!    own failures, 128+N for signal N).
//!
//! # How a `berth build` flows
//!
//! 1. `cli::build` reads the context (a directory with its
//!    `.dockerignore`, or a tar on stdin) and the Dockerfile, and calls
//!    [`build::exec::build`], which parses it and walks the stages the
//!    target needs ([`build::stages`]), holding the store's gc lock shared.
//! 2. Each step makes an image config (a blob, not an image record) on top
//!    of its parent, or takes it from the cache (key: parent ID + the
//!    step's history line + the expanded instruction + the content hash of
//!    COPY sources). `FROM` finds or pulls (through the CLI's callback) the
//!    base and runs its `ONBUILD` triggers.
//! 3. `RUN`: [`container::create::prepare`] makes an ordinary container of
//!    the parent (without its volumes, health check, entrypoint), which
//!    `berth internal build-run ID` (single-threaded) runs in the
//!    foreground, its output streamed back as events; its upper dir is
//!    stored as the step's layer ([`container::commit::store_upper`]) and
//!    the container removed. `COPY`/`ADD`/`WORKDIR` extract a tar into an
//!    overlay of the parent's layers with `berth internal build-copy`
//!    (rootless in the user namespace; `COPY --from` reads the other
//!    stage's files with `cp-out`), and the upper dir becomes the layer.
//! 4. The last step's config is written as the image
//!    ([`image::layers::write_image`]) with its tags.
//!
//! Later commands never talk to a daemon: `ps`, `inspect`, `logs` read the
//! records; `stop`, `kill`, `rm -f` signal the recorded pids (checked
//! against their start time) after telling the monitor their intent in
//! `state.json`; `exec`, `cp` and `top` join the container's namespaces.
//!
//! # Threads and forks
//!
//! The CLI process runs tokio and so has threads: it never forks except to
//! exec at once (`std::process::Command`). Anything that must call
//! `unshare`/`clone` runs in a fresh single-threaded re-exec of berth
//! (`berth internal …`), dispatched in [`cli::main`] before any runtime starts.

pub mod build;
pub mod cli;
pub mod complete;
pub mod config;
pub mod container;
pub mod context;
pub mod error;
pub mod events;
pub mod format;
pub mod image;
pub mod monitor;
pub mod network;
pub mod paths;
pub mod runtime;
pub mod system;
pub mod userns;
pub mod volume;
