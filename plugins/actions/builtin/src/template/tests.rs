use super::*;
use crate::context::testing::Dirs;
use std::path::Path;

fn input(json: Value) -> Input {
    Input::parse(&json.to_string()).unwrap()
}

fn fetch(dirs: &Dirs, json: Value) -> Result<Value> {
    template(&dirs.context(), &input(json))
}

/// A template directory with these skeleton files.
fn skeleton(files: &[(&str, &str)]) -> Dirs {
    let dirs = Dirs::new();
    Dirs::write(&dirs.template.join("skeleton"), files);
    dirs
}

/// Every file of the workspace, relative, sorted.
fn files(root: &Path) -> Vec<String> {
    walk::walk(root, walk::WORKSPACE, "w")
        .unwrap()
        .into_iter()
        .filter(|e| e.kind != Kind::Dir)
        .map(|e| e.relative)
        .collect()
}

#[test]
fn contents_and_names_of_files_and_folders_are_rendered() {
    let dirs = skeleton(&[
        (
            "README.md",
            "# ${{ values.name }}\nOwned by ${{ values.owner }}.\n",
        ),
        ("${{ values.name }}.md", "name file"),
        (
            "src/${{ values.name }}/mod.rs",
            "// ${{ values.name | upper }}",
        ),
        (
            "catalog-info.yaml",
            "name: ${{ values.name }}\n{% if values.public %}public: true\n{% endif %}",
        ),
    ]);
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"name": "payments", "owner": "team-a", "public": false}}),
    )
    .unwrap();
    assert_eq!(dirs.read("README.md"), "# payments\nOwned by team-a.\n");
    assert_eq!(dirs.read("payments.md"), "name file");
    assert_eq!(dirs.read("src/payments/mod.rs"), "// PAYMENTS");
    assert_eq!(dirs.read("catalog-info.yaml"), "name: payments\n");
    assert_eq!(
        files(&dirs.workspace),
        [
            "README.md",
            "catalog-info.yaml",
            "payments.md",
            "src/payments/mod.rs"
        ]
    );
    assert!(
        dirs.lines
            .text()
            .contains("rendered `./skeleton` into `.`: 4 files rendered, 0 copied"),
        "{}",
        dirs.lines.text()
    );
}

#[test]
fn missing_values_are_empty_and_lists_print_as_nunjucks_prints_them() {
    let dirs = skeleton(&[(
        "out.txt",
        "[${{ values.missing }}] [${{ values.missing.deeper }}] ${{ values.tags }} ${{ values.obj }} ${{ values.n }}",
    )]);
    fetch(
        &dirs,
        json!({"url": "skeleton", "values": {"tags": ["rust", "web"], "obj": {"a": 1}, "n": 2.0}}),
    )
    .unwrap();
    assert_eq!(dirs.read("out.txt"), "[] [] rust,web [object Object] 2");
}

#[test]
fn target_path_places_the_skeleton_and_never_escapes() {
    let dirs = skeleton(&[("a.txt", "${{ values.x }}")]);
    fetch(
        &dirs,
        json!({"url": "./skeleton", "targetPath": "out/dir", "values": {"x": 1}}),
    )
    .unwrap();
    assert_eq!(dirs.read("out/dir/a.txt"), "1");
    for target in ["../escape", "/tmp/x", "a/../../b"] {
        let e = fetch(&dirs, json!({"url": "./skeleton", "targetPath": target})).unwrap_err();
        assert_eq!(e.code, "path-escape", "{target}");
        assert!(
            e.message.contains(&format!("`targetPath` (`{target}`)")),
            "{}",
            e.message
        );
    }
    assert!(!dirs.outside().join("escape").exists());
}

#[test]
fn url_rules_apply() {
    let dirs = skeleton(&[("a", "")]);
    let e = fetch(&dirs, json!({"url": "../../etc"})).unwrap_err();
    assert_eq!(e.code, "path-escape");
    assert!(e.message.contains("input `url` (`../../etc`)"));
    let e = fetch(&dirs, json!({"url": "https://acme.io/skeleton/"})).unwrap_err();
    assert_eq!(e.code, "unsupported");
    assert!(
        e.message
            .contains("a remote skeleton must be a GitHub folder")
    );
    let e = template(
        &dirs.without_template(),
        &input(json!({"url": "./skeleton"})),
    )
    .unwrap_err();
    assert_eq!(e.code, "not-found");
    assert!(e.message.contains("this template has no files"));
    let e = fetch(&dirs, json!({"url": "./skeleton/a"})).unwrap_err();
    assert!(
        e.message.contains("use fetch:template:file"),
        "{}",
        e.message
    );
}

#[test]
fn rendered_names_that_escape_are_refused_before_anything_is_written() {
    for (value, why) in [
        ("../../outside", "a path with `..`"),
        ("/etc/cron.d/x", "an absolute path"),
        ("a/../b", "a path with `..`"),
        ("..", "a path with `..`"),
    ] {
        let dirs = skeleton(&[("first.txt", "x"), ("${{ values.name }}", "evil")]);
        let e = fetch(
            &dirs,
            json!({"url": "./skeleton", "values": {"name": value}}),
        )
        .unwrap_err();
        assert_eq!(e.code, "path-escape", "{value}");
        assert_eq!(
            e.message,
            format!(
                "the name of `./skeleton/${{{{ values.name }}}}` renders to `{value}`, {why}; names must stay inside the target folder"
            )
        );
        assert!(
            files(&dirs.workspace).is_empty(),
            "{value}: nothing written"
        );
        assert!(!dirs.outside().join("outside").exists());
    }
}

#[test]
fn a_rendered_name_may_make_folders() {
    let dirs = skeleton(&[("${{ values.path }}/file.txt", "f")]);
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"path": "src/main/java"}}),
    )
    .unwrap();
    assert_eq!(dirs.read("src/main/java/file.txt"), "f");
}

#[test]
fn names_that_render_to_nothing_are_skipped_with_what_they_hold() {
    let dirs = skeleton(&[
        ("{% if values.docs %}docs{% endif %}/index.md", "docs"),
        ("{% if values.ci %}ci.yaml{% endif %}", "ci"),
        ("kept.txt", "kept"),
    ]);
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"docs": false, "ci": true}}),
    )
    .unwrap();
    assert_eq!(files(&dirs.workspace), ["ci.yaml", "kept.txt"]);
    assert!(
        dirs.lines.text().contains("1 skipped"),
        "{}",
        dirs.lines.text()
    );
}

#[test]
fn binary_and_empty_files_are_copied_byte_for_byte() {
    let dirs = skeleton(&[("empty", "")]);
    let s = dirs.template.join("skeleton");
    let png = b"\x89PNG\r\n\x1a\n\0\0${{ values.x }}".to_vec();
    std::fs::write(s.join("logo.png"), &png).unwrap();
    let latin1 = b"caf\xe9 ${{ values.x }}".to_vec();
    std::fs::write(s.join("latin1.txt"), &latin1).unwrap();
    fetch(&dirs, json!({"url": "./skeleton", "values": {"x": "X"}})).unwrap();
    assert_eq!(std::fs::read(dirs.workspace.join("logo.png")).unwrap(), png);
    assert_eq!(
        std::fs::read(dirs.workspace.join("latin1.txt")).unwrap(),
        latin1
    );
    assert_eq!(dirs.read("empty"), "");
}

#[test]
fn copy_without_templating_keeps_contents_but_renders_names() {
    let dirs = skeleton(&[
        (".github/workflows/ci.yaml", "run: ${{ github.sha }}"),
        ("${{ values.name }}/raw.tpl", "${{ values.name }}"),
        ("README.md", "${{ values.name }}"),
    ]);
    fetch(
        &dirs,
        json!({
            "url": "./skeleton",
            "values": {"name": "svc"},
            "copyWithoutTemplating": [".github/workflows/*", "**/*.tpl"]
        }),
    )
    .unwrap();
    assert_eq!(
        dirs.read(".github/workflows/ci.yaml"),
        "run: ${{ github.sha }}"
    );
    assert_eq!(dirs.read("svc/raw.tpl"), "${{ values.name }}");
    assert_eq!(dirs.read("README.md"), "svc");
}

#[test]
fn copy_without_render_keeps_contents_and_names() {
    let dirs = skeleton(&[
        ("${{ values.name }}.raw", "${{ values.name }}"),
        ("${{ values.name }}.md", "${{ values.name }}"),
    ]);
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"name": "svc"}, "copyWithoutRender": ["*.raw"]}),
    )
    .unwrap();
    assert_eq!(dirs.read("${{ values.name }}.raw"), "${{ values.name }}");
    assert_eq!(dirs.read("svc.md"), "svc");
    assert!(
        dirs.lines
            .text()
            .contains("`copyWithoutRender` is deprecated")
    );
}

#[test]
fn template_file_extension_renders_only_those_files_and_strips_it() {
    for extension in [json!(true), json!(".njk"), json!("njk")] {
        let dirs = skeleton(&[
            ("main.py.njk", "name = '${{ values.name }}'"),
            ("plain.py", "x = '${{ values.name }}'"),
            ("${{ values.name }}/.keep", ""),
        ]);
        fetch(
            &dirs,
            json!({"url": "./skeleton", "values": {"name": "svc"}, "templateFileExtension": extension}),
        )
        .unwrap();
        assert_eq!(dirs.read("main.py"), "name = 'svc'", "{extension}");
        assert_eq!(dirs.read("plain.py"), "x = '${{ values.name }}'");
        assert!(dirs.exists("svc/.keep"), "names are always rendered");
    }
}

#[test]
fn options_that_cannot_go_together_are_refused() {
    let dirs = skeleton(&[("a", "")]);
    let cases = [
        (
            json!({"copyWithoutRender": ["a"], "copyWithoutTemplating": ["b"]}),
            "inputs `copyWithoutRender` and `copyWithoutTemplating` cannot be used together",
        ),
        (
            json!({"templateFileExtension": true, "copyWithoutTemplating": []}),
            "input `templateFileExtension` cannot be used with",
        ),
        (
            json!({"templateFileExtension": ".j2", "cookiecutterCompat": true}),
            "input `templateFileExtension` cannot be used with",
        ),
        (
            json!({"templateFileExtension": 3}),
            "must be a string or a boolean",
        ),
        (
            json!({"replace": "yes"}),
            "input `replace` must be true or false",
        ),
        (
            json!({"copyWithoutTemplating": "*.png"}),
            "must be a list of strings",
        ),
        (
            json!({"copyWithoutTemplating": ["a[b"]}),
            "input `copyWithoutTemplating[0]` (`a[b`) is not a valid glob",
        ),
    ];
    for (options, message) in cases {
        let mut json = options.clone();
        json["url"] = json!("./skeleton");
        let e = fetch(&dirs, json).unwrap_err();
        assert_eq!(e.code, "invalid-input", "{options}");
        assert!(e.message.contains(message), "{options}: {}", e.message);
    }
}

#[test]
fn cookiecutter_compat_renders_double_braces_with_both_names() {
    let dirs = skeleton(&[(
        "{{ cookiecutter.name }}.txt",
        "{{ cookiecutter.name }} {{ values.name }}",
    )]);
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"name": "svc"}, "cookiecutterCompat": true}),
    )
    .unwrap();
    assert_eq!(dirs.read("svc.txt"), "svc svc");
}

#[test]
fn trim_and_lstrip_blocks_are_passed_on() {
    let source = "list:\n  {% for t in values.tags %}\n  - ${{ t }}\n  {% endfor %}\nend\n";
    let dirs = skeleton(&[("a.yaml", source)]);
    let values = json!({"tags": ["x", "y"]});
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": values, "trimBlocks": true, "lstripBlocks": true}),
    )
    .unwrap();
    assert_eq!(dirs.read("a.yaml"), "list:\n  - x\n  - y\nend\n");
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": values, "targetPath": "plain"}),
    )
    .unwrap();
    assert_eq!(
        dirs.read("plain/a.yaml"),
        "list:\n  \n  - x\n  \n  - y\n  \nend\n"
    );
}

#[test]
fn existing_files_are_an_error_unless_replace() {
    let dirs = skeleton(&[("a.txt", "new ${{ values.v }}"), ("b.txt", "b")]);
    Dirs::write(&dirs.workspace, &[("b.txt", "old")]);
    let e = fetch(&dirs, json!({"url": "./skeleton", "values": {"v": 1}})).unwrap_err();
    assert_eq!(e.code, "exists");
    assert_eq!(
        e.message,
        "`b.txt` already exists in the workspace (set `replace: true` to overwrite it)"
    );
    assert!(!dirs.exists("a.txt"), "checked before anything is written");
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"v": 1}, "replace": true}),
    )
    .unwrap();
    assert_eq!(dirs.read("a.txt"), "new 1");
    assert_eq!(dirs.read("b.txt"), "b");
    // Folders that exist are merged into.
    fetch(
        &dirs,
        json!({"url": "./skeleton", "targetPath": "./", "replace": true}),
    )
    .unwrap();
}

#[test]
fn two_names_rendering_to_one_file_are_refused() {
    let dirs = skeleton(&[("${{ values.a }}.txt", "a"), ("${{ values.b }}.txt", "b")]);
    let e = fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"a": "x", "b": "x"}}),
    )
    .unwrap_err();
    assert_eq!(e.code, "exists");
    assert_eq!(
        e.message,
        "`./skeleton/${{ values.a }}.txt` and `./skeleton/${{ values.b }}.txt` would both be written to `x.txt`"
    );
}

#[test]
fn a_render_error_names_the_file_and_line() {
    let dirs = skeleton(&[(
        "docs/index.md",
        "# Title\n\n${{ values.name | nosuchfilter }}\n",
    )]);
    let e = fetch(&dirs, json!({"url": "./skeleton", "values": {"name": "x"}})).unwrap_err();
    assert_eq!(e.code, "render-error");
    assert_eq!(
        e.message,
        "cannot render `./skeleton/docs/index.md`: unknown filter: filter nosuchfilter is unknown (line 3)"
    );
    let dirs = skeleton(&[("a.txt", "{% if %}\nsecond line")]);
    let e = fetch(&dirs, json!({"url": "./skeleton"})).unwrap_err();
    assert_eq!(
        e.message,
        "cannot render `./skeleton/a.txt`: syntax error: unexpected end of block (line 1)"
    );
    let dirs = skeleton(&[("${{ values.x | nope }}", "")]);
    let e = fetch(&dirs, json!({"url": "./skeleton"})).unwrap_err();
    assert_eq!(e.code, "render-error");
    assert!(
        e.message
            .starts_with("cannot render the name of `./skeleton/${{ values.x | nope }}`")
    );
}

#[test]
fn a_template_that_loops_forever_ends_with_an_error() {
    let dirs = skeleton(&[(
        "a.txt",
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    )]);
    let e = fetch(&dirs, json!({"url": "./skeleton"})).unwrap_err();
    assert_eq!(e.code, "render-error");
    assert!(e.message.contains("ran too long"), "{}", e.message);
}

#[test]
fn links_in_a_skeleton_are_kept_when_inside_and_skipped_when_not() {
    let dirs = skeleton(&[("docs/index.md", "${{ values.name }}")]);
    let s = dirs.template.join("skeleton");
    std::os::unix::fs::symlink("docs/index.md", s.join("README.md")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", s.join("passwd")).unwrap();
    fetch(
        &dirs,
        json!({"url": "./skeleton", "values": {"name": "svc"}}),
    )
    .unwrap();
    assert!(
        dirs.workspace
            .join("README.md")
            .symlink_metadata()
            .unwrap()
            .is_symlink()
    );
    assert_eq!(dirs.read("README.md"), "svc");
    assert!(!dirs.exists("passwd"));
    assert!(
        dirs.lines
            .text()
            .contains("skipped the link `./skeleton/passwd`")
    );
}

#[test]
fn a_skeleton_over_its_limits_is_refused() {
    let dirs = skeleton(&[]);
    let s = dirs.template.join("skeleton");
    std::fs::create_dir_all(&s).unwrap();
    let f = std::fs::File::create(s.join("huge.bin")).unwrap();
    f.set_len(65 << 20).unwrap();
    let e = fetch(&dirs, json!({"url": "./skeleton"})).unwrap_err();
    assert_eq!(e.code, "too-large");
    assert_eq!(
        e.message,
        "the skeleton `./skeleton` holds more than 64 MiB"
    );
}

#[test]
fn template_file_renders_one_file() {
    let dirs = skeleton(&[("catalog-info.yaml", "name: ${{ values.name }}\n")]);
    let ctx = dirs.context();
    let run = |json: Value| template_file(&ctx, &input(json));
    run(json!({"url": "./skeleton/catalog-info.yaml", "targetPath": "out/catalog-info.yaml", "values": {"name": "svc"}}))
        .unwrap();
    assert_eq!(dirs.read("out/catalog-info.yaml"), "name: svc\n");

    let e =
        run(json!({"url": "./skeleton/catalog-info.yaml", "targetPath": "out/catalog-info.yaml"}))
            .unwrap_err();
    assert_eq!(e.code, "exists");
    run(json!({"url": "./skeleton/catalog-info.yaml", "targetPath": "out/catalog-info.yaml", "replace": true, "values": {"name": "b"}}))
        .unwrap();
    assert_eq!(dirs.read("out/catalog-info.yaml"), "name: b\n");

    let e = run(json!({"url": "./skeleton/catalog-info.yaml"})).unwrap_err();
    assert_eq!(e.message, "input `targetPath` is required");
    let e = run(json!({"url": "./skeleton", "targetPath": "x"})).unwrap_err();
    assert!(e.message.contains("is a folder"));
    let e = run(json!({"url": "./skeleton/catalog-info.yaml", "targetPath": "../x"})).unwrap_err();
    assert_eq!(e.code, "path-escape");
    let e = run(json!({"url": "../catalog-info.yaml", "targetPath": "x"})).unwrap_err();
    assert_eq!(e.code, "path-escape");
}

#[test]
fn template_file_uses_the_same_options() {
    let dirs = skeleton(&[(
        "f.txt",
        "{{ cookiecutter.a }}\n  {% if true %}\nyes\n  {% endif %}\n",
    )]);
    template_file(
        &dirs.context(),
        &input(json!({
            "url": "skeleton/f.txt", "targetPath": "f.txt", "values": {"a": "A"},
            "cookiecutterCompat": true, "trimBlocks": true, "lstripBlocks": true
        })),
    )
    .unwrap();
    assert_eq!(dirs.read("f.txt"), "A\nyes\n");
}
