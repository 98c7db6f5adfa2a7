#!/usr/bin/env python3
"""Helpers for tests/bench/pull.sh and run.sh (python3 standard library only).

  image.py build CACHE_DIR (gzip|zstd)   build the benchmark image once, cached
  image.py build-busybox CACHE_DIR BUSYBOX
                                         build the one-layer busybox image (run.sh)
  image.py push IMAGE_DIR URL REPO TAG   push it to a registry over the HTTP API
  image.py free-port                     print a free TCP port on 127.0.0.1
  image.py wait-registry URL SECONDS     wait until GET URL/v2/ answers 200
  image.py summary ...                   read hyperfine's JSON and print the table
  image.py run-summary ...               the same for run.sh

The image: 6 layers, about 400 MiB uncompressed.
  1. base-lib    /usr/lib subsets of this machine (many small files, compressible)
  2. base-share  /usr/share subsets (many small files, symlinks)
  3. blob        one 120 MiB file from /dev/urandom (incompressible)
  4. blobs       three 32 MiB files from /dev/urandom
  5. tiny        10,000 tiny files owned by 1000:1000, plus hard links and symlinks
  6. whiteouts   deletes a base directory and a 32 MiB file, makes a directory
                 opaque, adds a file
Layer tars are made by GNU tar with deterministic options, so digests stay
stable; the uncompressed tars are cached (they define the diff_ids) and each
compression (gzip, zstd) is cached next to them.
"""

import hashlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

# Bump when the recipe changes: the cache is rebuilt when this differs.
RECIPE = "berth-bench-pull-v1"

MiB = 1024 * 1024

TAR_DETERMINISTIC = [
    "--sort=name",
    "--mtime=@0",
    "--numeric-owner",
    "--format=posix",
    # posix format: no atime/ctime records, and extended header names
    # without the pid (the default has %p), so the bytes are reproducible.
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
]

BASE_LIB = ["usr/lib/git-core", "usr/lib/python3.11", "usr/lib/x86_64-linux-gnu/perl"]
BASE_SHARE = ["usr/share/i18n", "usr/share/mime", "usr/share/perl",
              "usr/share/vim", "usr/share/zoneinfo"]

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def log(msg):
    print(f"  {msg}", file=sys.stderr, flush=True)


def die(msg):
    print(f"image.py: {msg}", file=sys.stderr)
    sys.exit(1)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(MiB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def tar_paths(root, paths, out, owner=0, group=0):
    """Tar `paths` (relative to root) with their parent directories as entries."""
    entries = {}
    for p in paths:
        if not os.path.lexists(os.path.join(root, p)):
            continue
        parts = p.split("/")
        for i in range(1, len(parts)):
            entries.setdefault("/".join(parts[:i]), False)
        entries[p] = True
    if not entries:
        die(f"none of {paths} exist under {root}")
    args = ["tar", "--create", f"--file={out}", f"--directory={root}",
            *TAR_DETERMINISTIC, f"--owner={owner}", f"--group={group}"]
    # --recursion/--no-recursion apply to the names that follow them.
    for name in sorted(entries):
        args += ["--recursion" if entries[name] else "--no-recursion", name]
    subprocess.run(args, check=True)


def write_random(path, size):
    with open("/dev/urandom", "rb") as src, open(path, "wb") as dst:
        left = size
        while left:
            b = src.read(min(left, 4 * MiB))
            dst.write(b)
            left -= len(b)


def stage_dir(path, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)


def write_file(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def build_tars(tars_dir, work):
    """The uncompressed layers: returns [(name, created_by)]."""
    layers = []
    os.umask(0o022)

    # 1, 2: from this machine's /usr
    tar_paths("/", BASE_LIB, os.path.join(tars_dir, "1-base-lib.tar"))
    layers.append(("1-base-lib", "COPY /usr/lib subsets (" + " ".join(BASE_LIB) + ")"))
    tar_paths("/", BASE_SHARE, os.path.join(tars_dir, "2-base-share.tar"))
    layers.append(("2-base-share", "COPY /usr/share subsets (" + " ".join(BASE_SHARE) + ")"))

    # 3: one large incompressible file
    s = os.path.join(work, "3")
    stage_dir(os.path.join(s, "opt/bench"))
    write_random(os.path.join(s, "opt/bench/big.bin"), 120 * MiB)
    tar_paths(s, ["opt"], os.path.join(tars_dir, "3-blob.tar"))
    layers.append(("3-blob", "ADD big.bin (120 MiB random)"))

    # 4: three more
    s = os.path.join(work, "4")
    stage_dir(os.path.join(s, "opt/bench/parts"))
    for i in range(3):
        write_random(os.path.join(s, f"opt/bench/parts/part-{i}.bin"), 32 * MiB)
    tar_paths(s, ["opt"], os.path.join(tars_dir, "4-blobs.tar"))
    layers.append(("4-blobs", "ADD parts/ (3 x 32 MiB random)"))

    # 5: many tiny files owned by 1000:1000, a few hard links and symlinks
    s = os.path.join(work, "5")
    for d in range(100):
        dd = os.path.join(s, f"srv/tiny/d{d:03}")
        stage_dir(dd)
        for f in range(100):
            n = d * 100 + f
            write_file(os.path.join(dd, f"f{f:03}.txt"),
                       (f"tiny file {n}\n" * (1 + n % 16)).encode())
    stage_dir(os.path.join(s, "srv/tiny/links"))
    for i in range(10):
        os.link(os.path.join(s, f"srv/tiny/d{i:03}/f000.txt"),
                os.path.join(s, f"srv/tiny/links/hard{i}"))
        os.symlink(f"../d{i:03}/f001.txt", os.path.join(s, f"srv/tiny/links/sym{i}"))
    stage_dir(os.path.join(s, "srv"))
    stage_dir(os.path.join(s, "srv/tiny"))
    tar_paths(s, ["srv"], os.path.join(tars_dir, "5-tiny.tar"), owner=1000, group=1000)
    layers.append(("5-tiny", "ADD srv/tiny (10,000 tiny files, uid 1000)"))

    # 6: whiteouts. Written with tarfile so that each directory keeps the owner
    # it has in the layer below (srv/tiny/d000 is 1000:1000).
    gone_dir = next((p for p in ("usr/share/zoneinfo/Antarctica", "usr/share/vim/vim90/tutor",
                                 "usr/share/i18n/charmaps")
                     if os.path.isdir(os.path.join("/", p))), None)
    if gone_dir is None:
        die("no directory to white out found in the base layers")
    parent, leaf = os.path.split(gone_dir)
    entries = [("etc", 0, None), ("etc/bench-release", 0, b"berth pull benchmark image\n"),
               ("opt", 0, None), ("opt/bench", 0, None), ("opt/bench/parts", 0, None),
               ("opt/bench/parts/.wh.part-2.bin", 0, b""),
               ("srv", 1000, None), ("srv/tiny", 1000, None), ("srv/tiny/d000", 1000, None),
               ("srv/tiny/d000/.wh..wh..opq", 1000, b""),
               ("srv/tiny/d000/replaced.txt", 1000, b"opaque directory\n"),
               (parent + "/.wh." + leaf, 0, b"")]
    parts = parent.split("/")
    entries += [("/".join(parts[:i]), 0, None) for i in range(1, len(parts) + 1)]
    with tarfile.open(os.path.join(tars_dir, "6-whiteouts.tar"), "w",
                      format=tarfile.PAX_FORMAT) as t:
        for name, uid, data in sorted(entries):
            ti = tarfile.TarInfo(name)
            ti.uid = ti.gid = uid
            ti.mtime = 0
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.mode, ti.size = 0o644, len(data)
                t.addfile(ti, io.BytesIO(data))
    layers.append(("6-whiteouts", f"RUN rm -rf /{gone_dir} /opt/bench/parts/part-2.bin; "
                                  "opaque /srv/tiny/d000"))
    return layers


def compress(src, dst, compression):
    tmp = dst + ".tmp"
    if compression == "gzip":
        # zlib's gzip wrapper (wbits 31) writes mtime 0 and no name: reproducible.
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        with open(src, "rb") as f, open(tmp, "wb") as o:
            while True:
                b = f.read(MiB)
                if not b:
                    break
                o.write(c.compress(b))
            o.write(c.flush())
    else:
        subprocess.run(["zstd", "-q", "-f", "-3", "--no-progress", "-o", tmp, src], check=True)
    os.replace(tmp, dst)


def cmd_build(cache, compression):
    if compression not in MT_LAYER:
        die(f"unknown compression {compression}")
    os.makedirs(cache, exist_ok=True)
    tars_dir = os.path.join(cache, "tars")
    stamp = os.path.join(tars_dir, "layers.json")
    layers = None
    if os.path.exists(stamp):
        with open(stamp) as f:
            st = json.load(f)
        if st.get("recipe") == RECIPE and all(
                os.path.exists(os.path.join(tars_dir, l["name"] + ".tar")) for l in st["layers"]):
            layers = st["layers"]
    if layers is None:
        log(f"building the layer tars under {tars_dir} (once; cached)")
        shutil.rmtree(tars_dir, ignore_errors=True)
        os.makedirs(tars_dir)
        work = os.path.join(cache, "stage")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        t0 = time.monotonic()
        made = build_tars(tars_dir, work)
        shutil.rmtree(work)
        layers = []
        for name, created_by in made:
            p = os.path.join(tars_dir, name + ".tar")
            layers.append({"name": name, "created_by": created_by,
                           "diff_id": "sha256:" + sha256_file(p), "size": os.path.getsize(p)})
        with open(stamp + ".tmp", "w") as f:
            json.dump({"recipe": RECIPE, "layers": layers}, f, indent=1)
        os.replace(stamp + ".tmp", stamp)
        log(f"layer tars built in {time.monotonic() - t0:.0f} s")

    out = os.path.join(cache, compression)
    info_path = os.path.join(out, "image.json")
    if os.path.exists(info_path):
        with open(info_path) as f:
            info = json.load(f)
        if info.get("diff_ids") == [l["diff_id"] for l in layers]:
            print(out)
            return
    log(f"compressing the layers ({compression}) under {out} (once; cached)")
    shutil.rmtree(out, ignore_errors=True)
    blobs = os.path.join(out, "blobs")
    os.makedirs(blobs)
    t0 = time.monotonic()
    descs = []
    for l in layers:
        tmp = os.path.join(blobs, "layer.tmp")
        compress(os.path.join(tars_dir, l["name"] + ".tar"), tmp, compression)
        dig = sha256_file(tmp)
        os.replace(tmp, os.path.join(blobs, dig))
        descs.append({"mediaType": MT_LAYER[compression], "digest": "sha256:" + dig,
                      "size": os.path.getsize(os.path.join(blobs, dig))})
        log(f"{l['name']:<14} {l['size'] / MiB:7.1f} MiB -> {descs[-1]['size'] / MiB:7.1f} MiB")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": l["created_by"]}
                    for l in layers],
    }
    cfg = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    cdig = hashlib.sha256(cfg).hexdigest()
    with open(os.path.join(blobs, cdig), "wb") as f:
        f.write(cfg)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": "sha256:" + cdig, "size": len(cfg)},
        "layers": descs,
    }
    man = json.dumps(manifest, indent=2).encode()
    with open(os.path.join(out, "manifest.json"), "wb") as f:
        f.write(man)
    info = {
        "compression": compression,
        "manifest_digest": "sha256:" + hashlib.sha256(man).hexdigest(),
        "config_digest": "sha256:" + cdig,
        "layers": len(layers),
        "uncompressed": sum(l["size"] for l in layers),
        "compressed": sum(d["size"] for d in descs),
        "diff_ids": [l["diff_id"] for l in layers],
    }
    with open(info_path + ".tmp", "w") as f:
        json.dump(info, f, indent=1)
    os.replace(info_path + ".tmp", info_path)
    log(f"compressed in {time.monotonic() - t0:.0f} s")
    print(out)


# ------------------------------------------------------------------ busybox
# run.sh's image: Debian's busybox-static as /bin/busybox, every applet as a
# symlink to it (busybox --list-full), a minimal /etc/passwd and /etc/group,
# and the usual empty directories. One gzip layer; the digests depend only on
# the busybox binary, so the cache is rebuilt when busybox-static changes.
BUSYBOX_RECIPE = "berth-bench-busybox-v1"
BUSYBOX_PASSWD = (b"root:x:0:0:root:/root:/bin/sh\n"
                  b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
BUSYBOX_GROUP = b"root:x:0:\nnobody:x:65534:\n"
BUSYBOX_DIRS = {"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o555,
                "root": 0o700, "sbin": 0o755, "sys": 0o555, "tmp": 0o1777, "usr": 0o755,
                "usr/bin": 0o755, "usr/sbin": 0o755, "var": 0o755}


def busybox_tar(busybox, out):
    applets = subprocess.run([busybox, "--list-full"], check=True, capture_output=True,
                             text=True).stdout.split()
    if "bin/sh" not in applets or "bin/true" not in applets:
        die(f"{busybox} --list-full lacks bin/sh or bin/true: not busybox-static?")
    entries = {}  # name -> (type, mode, data or link target)
    for d, mode in BUSYBOX_DIRS.items():
        entries[d] = (tarfile.DIRTYPE, mode, None)
    with open(busybox, "rb") as f:
        entries["bin/busybox"] = (tarfile.REGTYPE, 0o755, f.read())
    for a in applets:
        if a == "bin/busybox":
            continue
        parent = os.path.dirname(a)
        if parent and parent not in entries:
            entries[parent] = (tarfile.DIRTYPE, 0o755, None)
        entries[a] = (tarfile.SYMTYPE, 0o777, "/bin/busybox")
    entries["etc/passwd"] = (tarfile.REGTYPE, 0o644, BUSYBOX_PASSWD)
    entries["etc/group"] = (tarfile.REGTYPE, 0o644, BUSYBOX_GROUP)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(entries):
            typ, mode, data = entries[name]
            ti = tarfile.TarInfo(name)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            ti.mtime = 0
            ti.type, ti.mode = typ, mode
            if typ == tarfile.REGTYPE:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                if typ == tarfile.SYMTYPE:
                    ti.linkname = data
                t.addfile(ti)
    return len(applets)


def cmd_build_busybox(cache, busybox):
    if not os.access(busybox, os.X_OK):
        die(f"no busybox at {busybox} (apt-get install busybox-static)")
    key = BUSYBOX_RECIPE + ":" + sha256_file(busybox)
    info_path = os.path.join(cache, "image.json")
    if os.path.exists(info_path):
        with open(info_path) as f:
            if json.load(f).get("key") == key:
                print(cache)
                return
    log(f"building the busybox image under {cache} (once; cached)")
    shutil.rmtree(cache, ignore_errors=True)
    blobs = os.path.join(cache, "blobs")
    os.makedirs(blobs)
    tar = os.path.join(cache, "layer.tar")
    n = busybox_tar(busybox, tar)
    diff_id = "sha256:" + sha256_file(tar)
    gz = os.path.join(blobs, "layer.tmp")
    compress(tar, gz, "gzip")
    dig = sha256_file(gz)
    os.replace(gz, os.path.join(blobs, dig))
    layer = {"mediaType": MT_LAYER["gzip"], "digest": "sha256:" + dig,
             "size": os.path.getsize(os.path.join(blobs, dig))}
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z",
                     "created_by": f"ADD busybox-static + {n} applet links + /etc/passwd"}],
    }
    cfg = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    cdig = hashlib.sha256(cfg).hexdigest()
    with open(os.path.join(blobs, cdig), "wb") as f:
        f.write(cfg)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": "sha256:" + cdig, "size": len(cfg)},
        "layers": [layer],
    }
    man = json.dumps(manifest, indent=2).encode()
    with open(os.path.join(cache, "manifest.json"), "wb") as f:
        f.write(man)
    info = {
        "key": key,
        "compression": "gzip",
        "manifest_digest": "sha256:" + hashlib.sha256(man).hexdigest(),
        "config_digest": "sha256:" + cdig,
        "layers": 1,
        "applets": n,
        "uncompressed": os.path.getsize(tar),
        "compressed": layer["size"],
        "diff_ids": [diff_id],
        "layer_tar": tar,
    }
    with open(info_path + ".tmp", "w") as f:
        json.dump(info, f, indent=1)
    os.replace(info_path + ".tmp", info_path)
    log(f"busybox image: {n} applets, {info['uncompressed'] / MiB:.1f} MiB, "
        f"{info['compressed'] / MiB:.1f} MiB gzip")
    print(cache)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


class HTTPStatus(Exception):
    pass


def http(method, url, data=None, headers=None, ok=(200, 201, 202)):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        resp = opener.open(req, timeout=300)
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return e
        body = e.read()[:500].decode(errors="replace")
        raise HTTPStatus(f"{method} {url}: HTTP {e.code}: {body}") from None
    with resp:
        resp.read()
    if resp.status not in ok:
        raise HTTPStatus(f"{method} {url}: HTTP {resp.status}")
    return resp


def push_blob(base, repo, path, digest):
    # Already there (a rerun against the same storage)?
    try:
        http("HEAD", f"{base}/v2/{repo}/blobs/{digest}", ok=(200,))
        return False
    except HTTPStatus:
        pass
    r = http("POST", f"{base}/v2/{repo}/blobs/uploads/", data=b"",
             headers={"Content-Length": "0"}, ok=(202,))
    loc = urllib.parse.urljoin(base + "/", r.headers["Location"])
    sep = "&" if "?" in loc else "?"
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        http("PUT", f"{loc}{sep}digest={urllib.parse.quote(digest)}", data=f,
             headers={"Content-Type": "application/octet-stream",
                      "Content-Length": str(size)}, ok=(201,))
    return True


def cmd_push(image_dir, base, repo, tag):
    base = base.rstrip("/")
    with open(os.path.join(image_dir, "manifest.json"), "rb") as f:
        man = f.read()
    manifest = json.loads(man)
    t0 = time.monotonic()
    total = 0
    for d in [manifest["config"], *manifest["layers"]]:
        p = os.path.join(image_dir, "blobs", d["digest"].split(":", 1)[1])
        if push_blob(base, repo, p, d["digest"]):
            total += d["size"]
    http("PUT", f"{base}/v2/{repo}/manifests/{tag}", data=man,
         headers={"Content-Type": manifest["mediaType"]}, ok=(201,))
    log(f"pushed {total / MiB:.0f} MiB to {base}/v2/{repo} in {time.monotonic() - t0:.1f} s")


def cmd_free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_wait_registry(base, seconds):
    deadline = time.monotonic() + float(seconds)
    while True:
        try:
            with urllib.request.urlopen(base.rstrip("/") + "/v2/", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            die(f"registry at {base} did not answer within {seconds} s")
        time.sleep(0.1)


def fmt_size(n):
    return f"{n / MiB:.0f} MiB" if n is not None else "-"


def ratio(a, b):
    return a / b if a is not None and b else None


def verdict(r, target):
    if r is None:
        return ""
    return "ok" if r <= target else "MISSED"


def cmd_summary(args):
    """summary JSON IMAGE_INFO MODE FS TIMING_NOTE BERTH_DU PODMAN_DU"""
    json_path, info_path, mode, fs, runs, berth_du, podman_du = args
    with open(info_path) as f:
        info = json.load(f)
    med = {}
    spread = {}
    if os.path.exists(json_path) and os.path.getsize(json_path):
        with open(json_path) as f:
            res = json.load(f)["results"]
        for r in res:
            tool = r["command"]
            med[tool] = statistics.median(r["times"])
            spread[tool] = (min(r["times"]), max(r["times"]))
    du = {"berth": int(berth_du) if berth_du.isdigit() else None,
          "podman": int(podman_du) if podman_du.isdigit() else None}
    b, p = med.get("berth"), med.get("podman")

    def sec(x):
        return f"{x:.2f} s" if x is not None else "-"

    def rng(tool):
        if tool not in spread:
            return ""
        lo, hi = spread[tool]
        return f"{lo:.2f}..{hi:.2f}"

    print()
    print(f"image    {info['layers']} layers, {fmt_size(info['uncompressed'])} uncompressed, "
          f"{fmt_size(info['compressed'])} {info['compression']}")
    print(f"mode     {mode}")
    print(f"stores   on {fs}")
    print(f"timing   {runs}")
    print()
    w = [20, 14, 14, 14, 8]
    rows = [("", "berth", "podman", "berth/podman", "target"),
            ("cold pull, median", sec(b), sec(p), "", "≤ 0.5"),
            ("  (min..max)", rng("berth"), rng("podman"), "", ""),
            ("store size (du)", fmt_size(du["berth"]), fmt_size(du["podman"]), "", "≤ 1.0")]
    rt = ratio(b, p)
    rs = ratio(du["berth"], du["podman"])
    rows[1] = rows[1][:3] + ((f"{rt:.3f} {verdict(rt, 0.5)}" if rt is not None else "-"), rows[1][4])
    rows[3] = rows[3][:3] + ((f"{rs:.3f} {verdict(rs, 1.0)}" if rs is not None else "-"), rows[3][4])
    for r in rows:
        print("".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
    if b is not None and du["berth"] is not None:
        print(f"\nberth: median {b:.3f} s, store {du['berth']} bytes")
    if p is not None and du["podman"] is not None:
        print(f"podman: median {p:.3f} s, store {du['podman']} bytes")


def load_times(json_path):
    """{command name: [seconds]} from a hyperfine JSON export (absent: {})."""
    if not (os.path.exists(json_path) and os.path.getsize(json_path)):
        return {}
    with open(json_path) as f:
        return {r["command"]: r["times"] for r in json.load(f)["results"]}


def cmd_run_summary(args):
    """run-summary SINGLE_JSON BURST_JSON BURST_N MODE FS TIMING_NOTE"""
    single_json, burst_json, burst_n, mode, fs, note = args
    single, burst = load_times(single_json), load_times(burst_json)

    def med(times, name):
        t = times.get(name)
        return statistics.median(t) if t else None

    def ms(x):
        return f"{x * 1000:.1f} ms" if x is not None else "-"

    def rng(times, name):
        t = times.get(name)
        return f"{min(t) * 1000:.1f}..{max(t) * 1000:.1f}" if t else ""

    def rat(a, b, target=None):
        r = ratio(a, b)
        if r is None:
            return "-"
        return f"{r:.3f} {verdict(r, target)}" if target is not None else f"{r:.3f}"

    print()
    print(f"mode     {mode}")
    print(f"stores   on {fs}")
    print(f"timing   {note}")
    print()
    w = [38, 14, 18, 20]
    rows = [("run --rm IMAGE true", "median", "min..max", "")]
    default_net = "pasta" if mode == "rootless" else "berth0 bridge"
    labels = [("berth", f"berth (default network: {default_net})"),
              ("berth-net-none", "berth --network none"),
              ("podman-net-none", "podman --network none"),
              ("crun", "crun run (prepared bundle)")]
    for name, label in labels:
        rows.append((label, ms(med(single, name)), rng(single, name), ""))
    rows.append(("", "", "", ""))
    rows.append(("ratio", "value", "target", ""))
    bn, bh = med(single, "berth-net-none"), med(single, "berth")
    pn, cr = med(single, "podman-net-none"), med(single, "crun")
    rows.append(("berth/podman (both --network none)", rat(bn, pn, 0.1), "<= 0.1", ""))
    rows.append(("berth (default)/podman (none)", rat(bh, pn), "", ""))
    rows.append(("berth (none)/crun", rat(bn, cr, 1.5), "<= 1.5", ""))
    rows.append(("berth (default)/crun", rat(bh, cr, 1.5), "<= 1.5", ""))
    rows.append(("", "", "", ""))
    one, many = med(burst, "berth-x1"), med(burst, f"berth-x{burst_n}")
    rows.append((f"{burst_n} at once vs one (berth)", "median", "min..max", ""))
    rows.append(("1 x berth run --rm IMAGE true", ms(one), rng(burst, "berth-x1"), ""))
    rows.append((f"{burst_n} x berth run ... (& + wait)", ms(many),
                 rng(burst, f"berth-x{burst_n}"), ""))
    rows.append((f"ratio {burst_n}/1", rat(many, one, 3.0), "<= 3", ""))
    for r in rows:
        print("".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())


def main():
    a = sys.argv[1:]
    if not a:
        die(__doc__)
    cmd, rest = a[0], a[1:]
    if cmd == "build" and len(rest) == 2:
        cmd_build(*rest)
    elif cmd == "build-busybox" and len(rest) == 2:
        cmd_build_busybox(*rest)
    elif cmd == "push" and len(rest) == 4:
        try:
            cmd_push(*rest)
        except (HTTPStatus, urllib.error.URLError, OSError) as e:
            die(f"push failed: {e}")
    elif cmd == "free-port" and not rest:
        cmd_free_port()
    elif cmd == "wait-registry" and len(rest) == 2:
        cmd_wait_registry(*rest)
    elif cmd == "summary" and len(rest) == 7:
        cmd_summary(rest)
    elif cmd == "run-summary" and len(rest) == 6:
        cmd_run_summary(rest)
    else:
        die(f"bad arguments: {' '.join(a)}\n{__doc__}")


if __name__ == "__main__":
    main()
