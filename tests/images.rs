//! Local image commands: images, tag, rmi, image inspect, history, image prune.

mod support;

use predicates::prelude::*;
use support::berth::{TestEnv, for_each_mode};
use support::fixtures::{self, ImageConfig};
use support::registry::{Registry, RegistryAuth};

fn out(env: &TestEnv, args: &[&str]) -> String {
    let o = env.berth_cmd(args).output().unwrap();
    assert!(
        o.status.success(),
        "berth {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn short(id: &str) -> &str {
    &id["sha256:".len()..][..12]
}

#[test]
fn images_lists_like_docker() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        let name = format!("{}/library/busybox", reg.addr());
        env.berth_cmd(["pull", "-q", &name]).assert().success();
        let table = out(env, &["images"]);
        let lines: Vec<&str> = table.lines().collect();
        // docker's tabwriter: each column as wide as its widest cell plus 3, at least 10.
        let header = format!(
            "{:<w$}TAG       IMAGE ID       CREATED",
            "REPOSITORY",
            w = name.len() + 3
        );
        assert!(
            lines[0].starts_with(&header) && lines[0].ends_with("SIZE"),
            "{table}"
        );
        assert!(
            lines[1].starts_with(&format!("{name}   latest    {}   ", short(img.image_id()))),
            "{table}"
        );
        assert!(
            lines[1].contains(" ago") || lines[1].contains("years"),
            "{table}"
        );
        assert_eq!(lines.len(), 2);

        assert_eq!(
            out(env, &["images", "-q"]),
            format!("{}\n", short(img.image_id()))
        );
        assert_eq!(
            out(env, &["images", "-q", "--no-trunc"]),
            format!("{}\n", img.image_id())
        );
        assert_eq!(
            out(
                env,
                &["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]
            ),
            format!("{name}:latest {}\n", short(img.image_id()))
        );
        let digests = out(env, &["images", "--digests", "--format", "{{.Digest}}"]);
        assert_eq!(digests, format!("{}\n", img.manifest_digest));
        let json: serde_json::Value =
            serde_json::from_str(out(env, &["images", "--format", "json"]).trim()).unwrap();
        assert_eq!(json["Repository"], name.as_str());
        assert_eq!(json["Tag"], "latest");
        assert_eq!(json["ID"], short(img.image_id()));
        let table = out(
            env,
            &["image", "ls", "--format", "table {{.Repository}}\t{{.Tag}}"],
        );
        assert_eq!(
            table.lines().next().unwrap().trim_end(),
            format!("{:<w$}TAG", "REPOSITORY", w = name.len() + 3)
        );
        // `images REPO` and reference filters.
        assert_eq!(out(env, &["images", "-q", &name]).lines().count(), 1);
        assert_eq!(
            out(env, &["images", "-q", "nothing/here"]).lines().count(),
            0
        );
        assert_eq!(
            out(env, &["images", "-q", "-f", "dangling=true"])
                .lines()
                .count(),
            0
        );
        assert_eq!(
            out(env, &["images", "-q", "-f", "dangling=false"])
                .lines()
                .count(),
            1
        );
        env.berth_cmd(["images", "-f", "colour=red"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("invalid filter 'colour'"));
    });
}

#[test]
fn label_filters_and_label_templates_use_the_image_config() {
    let reg = Registry::start(RegistryAuth::None);
    let cfg = ImageConfig::busybox().label("org.example.team", "infra");
    fixtures::push_busybox_with(&reg, "labelled", "1", None, &cfg);
    fixtures::push_busybox(&reg, "plain", "1");
    for_each_mode(|env| {
        for name in ["labelled:1", "plain:1"] {
            env.berth_cmd(["pull", "-q", &format!("{}/{name}", reg.addr())])
                .assert()
                .success();
        }
        let listed = out(
            env,
            &[
                "images",
                "-f",
                "label=org.example.team=infra",
                "--format",
                "{{.Repository}}",
            ],
        );
        assert_eq!(listed, format!("{}/labelled\n", reg.addr()));
        let listed = out(
            env,
            &[
                "images",
                "-f",
                "label=org.example.team",
                "--format",
                "{{.Label \"org.example.team\"}}",
            ],
        );
        assert_eq!(listed, "infra\n");
    });
}

#[test]
fn tag_and_rmi_untag_then_delete_and_free_layers() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        let name = format!("{}/library/busybox:latest", reg.addr());
        env.berth_cmd(["pull", "-q", &name]).assert().success();
        env.berth_cmd(["tag", &name, "mine/bb:v1"])
            .assert()
            .success()
            .stdout("");
        env.berth_cmd(["image", "tag", short(img.image_id()), "other"])
            .assert()
            .success();
        let listed = out(env, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        let mut listed: Vec<&str> = listed.lines().collect();
        listed.sort();
        assert_eq!(listed, [name.as_str(), "mine/bb:v1", "other:latest"]);
        env.berth_cmd([
            "tag",
            &name,
            "x@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "refusing to create a tag with a digest reference",
        ));
        env.berth_cmd(["tag", "no-such-image", "y"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "No such image: no-such-image:latest",
            ));

        // By ID while three repositories name it: docker refuses without -f.
        env.berth_cmd(["rmi", short(img.image_id())])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "image is referenced in multiple repositories",
            ));
        env.berth_cmd(["rmi", "mine/bb:v1"])
            .assert()
            .success()
            .stdout("Untagged: mine/bb:v1\n");
        env.berth_cmd(["rmi", "other"])
            .assert()
            .success()
            .stdout("Untagged: other:latest\n");
        let o = out(env, &["rmi", &name]);
        assert!(
            o.starts_with(&format!(
                "Untagged: {name}\nUntagged: {}/library/busybox@{}\nDeleted: {}\n",
                reg.addr(),
                img.manifest_digest,
                img.image_id()
            )),
            "{o}"
        );
        assert!(
            o.contains(&img.diff_ids[0]),
            "the freed layer is reported: {o}"
        );
        assert_eq!(out(env, &["images", "-q"]), "");
        let layers = env.data_dir().join("storage/layers");
        assert!(!layers.join(&img.diff_ids[0]["sha256:".len()..]).exists());

        env.berth_cmd(["rmi", "gone"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "Error: No such image: gone:latest",
            ));
        env.berth_cmd(["rmi", "-f", "gone"]).assert().success();
    });
}

#[test]
fn rmi_force_by_id_removes_every_tag() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        let name = format!("{}/library/busybox:latest", reg.addr());
        env.berth_cmd(["pull", "-q", &name]).assert().success();
        env.berth_cmd(["tag", &name, "a/b:c"]).assert().success();
        let o = out(env, &["rmi", "-f", img.image_id()]);
        assert!(
            o.contains("Untagged: a/b:c\n")
                && o.contains(&format!("Deleted: {}\n", img.image_id())),
            "{o}"
        );
        assert_eq!(out(env, &["images", "-q"]), "");
    });
}

#[test]
fn image_inspect_prints_docker_fields() {
    let reg = Registry::start(RegistryAuth::None);
    let cfg = ImageConfig::busybox()
        .env("FOO=bar")
        .workdir("/srv")
        .label("k", "v");
    let img = fixtures::push_busybox_with(&reg, "inspect/me", "1", None, &cfg);
    for_each_mode(|env| {
        let name = format!("{}/inspect/me:1", reg.addr());
        env.berth_cmd(["pull", "-q", &name]).assert().success();
        let text = out(env, &["image", "inspect", &name]);
        assert!(
            text.starts_with("[\n    {\n        \"Id\": "),
            "4-space indented array: {text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let i = &v[0];
        assert_eq!(i["Id"], img.image_id());
        assert_eq!(i["RepoTags"], serde_json::json!([name]));
        assert_eq!(
            i["RepoDigests"],
            serde_json::json!([format!("{}/inspect/me@{}", reg.addr(), img.manifest_digest)])
        );
        assert_eq!(i["Os"], "linux");
        assert_eq!(i["Architecture"], "amd64");
        assert_eq!(i["Config"]["WorkingDir"], "/srv");
        assert_eq!(i["Config"]["Labels"]["k"], "v");
        assert!(
            i["Config"]["Env"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("FOO=bar"))
        );
        assert_eq!(i["Config"]["Cmd"], serde_json::json!(["sh"]));
        assert_eq!(i["RootFS"]["Type"], "layers");
        assert_eq!(i["RootFS"]["Layers"], serde_json::json!(img.diff_ids));
        assert!(i["Size"].as_u64().unwrap() > 500_000);
        assert_eq!(i["Created"], fixtures::CREATED);
        let keys: Vec<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(&keys[..3], ["Id", "RepoTags", "RepoDigests"]);

        // Templates, by name, short ID and digest; `inspect` finds images too.
        assert_eq!(
            out(
                env,
                &["image", "inspect", "-f", "{{.Config.WorkingDir}}", &name]
            ),
            "/srv\n"
        );
        assert_eq!(
            out(
                env,
                &[
                    "inspect",
                    "--format",
                    "{{index .Config.Labels \"k\"}}",
                    short(img.image_id())
                ]
            ),
            "v\n"
        );
        assert_eq!(
            out(
                env,
                &[
                    "inspect",
                    "-f",
                    "{{json .Config.Cmd}}",
                    &img.digest_reference()
                ]
            ),
            "[\"sh\"]\n"
        );
        assert_eq!(
            out(env, &["inspect", "-f", "{{.Config.Missing}}", &name]),
            "<no value>\n"
        );
    });
}

#[test]
fn inspect_of_a_missing_image_prints_an_empty_array_and_exits_1() {
    for_each_mode(|env| {
        env.berth_cmd(["image", "inspect", "nope"])
            .assert()
            .code(1)
            .stdout("[]\n")
            .stderr("Error: No such object: nope\n");
        env.berth_cmd(["inspect", "-f", "{{.Id}}", "nope"])
            .assert()
            .code(1)
            .stdout("")
            .stderr("Error: No such object: nope\n");
    });
}

#[test]
fn history_shows_one_line_per_history_entry() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_multilayer(
        &reg,
        "hist",
        "1",
        fixtures::Format::Oci,
        fixtures::Compression::Gzip,
    );
    for_each_mode(|env| {
        let name = format!("{}/hist:1", reg.addr());
        env.berth_cmd(["pull", "-q", &name]).assert().success();
        let table = out(env, &["history", &name]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("IMAGE          CREATED"), "{table}");
        assert!(
            lines[0].contains("CREATED BY")
                && lines[0].contains("SIZE")
                && lines[0].ends_with("COMMENT"),
            "{table}"
        );
        let history = img.config_json()["history"].as_array().unwrap().len();
        assert_eq!(lines.len(), history + 1, "{table}");
        assert!(lines[1].starts_with(short(img.image_id())), "{table}");
        assert!(lines[2].starts_with("<missing>"), "{table}");
        assert_eq!(
            out(env, &["image", "history", "-q", "--no-trunc", &name])
                .lines()
                .next()
                .unwrap(),
            img.image_id()
        );
        assert_eq!(
            out(env, &["history", "--format", "{{.CreatedBy}}", &name])
                .lines()
                .last()
                .unwrap(),
            "layer 1: base"
        );
    });
}

#[test]
fn image_prune_removes_dangling_images() {
    let reg = Registry::start(RegistryAuth::None);
    let old = fixtures::push_busybox(&reg, "app", "latest");
    let new_cfg = ImageConfig::busybox().label("version", "2");
    for_each_mode(|env| {
        let name = format!("{}/app:latest", reg.addr());
        env.berth_cmd(["pull", "-q", &name]).assert().success();
        // The tag moves to a new image: the old one is left dangling, as in docker.
        let new = fixtures::push_busybox_with(&reg, "app", "latest", None, &new_cfg);
        env.berth_cmd(["pull", "-q", &name]).assert().success();
        let dangling = out(env, &["images", "-q", "--no-trunc", "-f", "dangling=true"]);
        assert_eq!(dangling, format!("{}\n", old.image_id()));
        let listed = out(env, &["images", "--format", "{{.Tag}} {{.ID}}"]);
        assert!(
            listed.contains(&format!("<none> {}", short(old.image_id()))),
            "{listed}"
        );
        let o = out(env, &["image", "prune", "-f"]);
        assert!(
            o.starts_with(&format!("Deleted Images:\ndeleted: {}\n", old.image_id())),
            "{o}"
        );
        assert!(
            o.lines()
                .last()
                .unwrap()
                .starts_with("Total reclaimed space: "),
            "{o}"
        );
        assert_eq!(
            out(env, &["images", "-q", "--no-trunc"]),
            format!("{}\n", new.image_id())
        );
        // Nothing dangling now: prune removes nothing.
        assert_eq!(
            out(env, &["image", "prune", "-f"]),
            "Total reclaimed space: 0B\n"
        );
        // Restore the registry for the next mode.
        fixtures::push_busybox(&reg, "app", "latest");
    });
}
