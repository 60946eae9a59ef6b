use super::*;
use serde_json::json;

fn context() -> Scope {
    Scope::from_json(&json!({
        "parameters": {
            "name": "payments",
            "owner": "group:default/team-a",
            "repoUrl": "github.com?owner=acme&repo=payments",
            "replicas": 3,
            "ratio": 2.0,
            "half": 0.5,
            "public": false,
            "tags": ["rust", "payments"],
            "nested": { "a": { "b": "deep" } },
            "hostile": "${{ secrets.token }}",
            "html": "<script>alert(1)</script>"
        },
        "steps": { "fetch": { "output": { "files": 51 } } },
        "secrets": { "token": "s3cr3t" },
        "user": { "ref": "user:default/ada" },
        "each": { "key": "k", "value": "v" }
    }))
}

fn render(value: Value) -> Result<Option<Value>, RenderError> {
    Templater::default().render_value(&value, &context(), "steps[0].input")
}

fn text(source: &str) -> String {
    Templater::default()
        .render_text(source, &context(), "skeleton/README.md")
        .unwrap()
}

#[test]
fn a_lone_expression_keeps_its_json_type() {
    let cases = [
        ("${{ parameters.replicas }}", json!(3)),
        ("${{ parameters.public }}", json!(false)),
        ("${{ parameters.tags }}", json!(["rust", "payments"])),
        ("${{ parameters.nested.a }}", json!({ "b": "deep" })),
        ("  ${{ parameters.half }}  ", json!(0.5)),
        ("${{ steps.fetch.output.files + 1 }}", json!(52)),
        ("${{ steps['fetch'].output.files }}", json!(51)),
        ("${{ parameters.name }}", json!("payments")),
        ("${{ parameters.tags | length }}", json!(2)),
    ];
    for (source, expected) in cases {
        assert_eq!(render(json!(source)).unwrap(), Some(expected), "{source}");
    }
}

#[test]
fn mixed_text_renders_as_text_printed_as_nunjucks_prints() {
    let cases = [
        ("svc-${{ parameters.name }}", "svc-payments"),
        ("${{ parameters.replicas }} replicas", "3 replicas"),
        ("tags: ${{ parameters.tags }}", "tags: rust,payments"),
        ("obj: ${{ parameters.nested }}", "obj: [object Object]"),
        ("ratio ${{ parameters.ratio }}", "ratio 2"),
        ("half ${{ parameters.half }}", "half 0.5"),
        ("missing: [${{ parameters.nope }}]", "missing: []"),
        (
            "deep missing: [${{ parameters.nope.deeper.still }}]",
            "deep missing: []",
        ),
        ("${{ parameters.public }}!", "false!"),
        ("no expression at all", "no expression at all"),
        (
            "${{ parameters.name }}-${{ parameters.replicas }}",
            "payments-3",
        ),
        (
            "{% if parameters.public %}public{% else %}private{% endif %}",
            "private",
        ),
        (
            "{% for t in parameters.tags %}[${{ t }}]{% endfor %}",
            "[rust][payments]",
        ),
        ("${{ parameters.html }}", "<script>alert(1)</script>"),
    ];
    for (source, expected) in cases {
        assert_eq!(
            render(json!(source)).unwrap(),
            Some(json!(expected)),
            "{source}"
        );
    }
}

#[test]
fn objects_and_lists_are_rendered_through_and_missing_inputs_are_dropped() {
    let input = json!({
        "url": "./skeleton",
        "targetPath": "${{ parameters.path }}",
        "values": {
            "name": "${{ parameters.name }}",
            "owner": "${{ parameters.owner }}",
            "replicas": "${{ parameters.replicas }}",
            "list": ["${{ parameters.name }}", "${{ parameters.missing }}", 7]
        }
    });
    assert_eq!(
        render(input).unwrap(),
        Some(json!({
            "url": "./skeleton",
            "values": {
                "name": "payments",
                "owner": "group:default/team-a",
                "replicas": 3,
                "list": ["payments", null, 7]
            }
        }))
    );
    assert_eq!(render(json!("${{ parameters.missing }}")).unwrap(), None);
}

#[test]
fn backstage_filters() {
    let cases = [
        (
            "${{ parameters.repoUrl | parseRepoUrl }}",
            json!({ "host": "github.com", "owner": "acme", "repo": "payments" }),
        ),
        (
            "${{ (parameters.repoUrl | parseRepoUrl).owner }}",
            json!("acme"),
        ),
        (
            "${{ parameters.repoUrl | projectSlug }}",
            json!("acme/payments"),
        ),
        (
            "${{ parameters.owner | parseEntityRef }}",
            json!({ "kind": "group", "namespace": "default", "name": "team-a" }),
        ),
        (
            "${{ 'team-b' | parseEntityRef({ 'defaultKind': 'group', 'defaultNamespace': 'ops' }) }}",
            json!({ "kind": "group", "namespace": "ops", "name": "team-b" }),
        ),
        (
            "${{ parameters.nested | pick('a') }}",
            json!({ "b": "deep" }),
        ),
        (
            "${{ parameters.tags | dump }}",
            json!("[\"rust\",\"payments\"]"),
        ),
        (
            "${{ parameters.html | dump }}",
            json!("\"<script>alert(1)</script>\""),
        ),
        ("${{ parameters.name | upper }}", json!("PAYMENTS")),
        ("${{ parameters.missing | default('x') }}", json!("x")),
        ("${{ parameters.tags | join('/') }}", json!("rust/payments")),
        (
            "${{ parameters.name | replace('pay', 'get') }}",
            json!("getments"),
        ),
        ("${{ 'a b c d' | truncate(3) }}", json!("a...")),
        ("${{ 'a b c d' | wordcount }}", json!(4)),
        ("${{ parameters.name | length }}", json!(8)),
        ("${{ parameters.tags | first }}", json!("rust")),
        ("${{ parameters.name | capitalize }}", json!("Payments")),
        ("${{ parameters.name | title }}", json!("Payments")),
        ("${{ ' x ' | trim }}", json!("x")),
        ("${{ parameters.name | urlencode }}", json!("payments")),
    ];
    for (source, expected) in cases {
        assert_eq!(render(json!(source)).unwrap(), Some(expected), "{source}");
    }
}

#[test]
fn conditions_follow_javascript_truthiness() {
    let t = Templater::default();
    let ctx = context();
    let holds = |v: Value| t.condition(&v, &ctx, "steps[1].if").unwrap();
    assert!(holds(json!("${{ parameters.name }}")));
    assert!(holds(json!(true)));
    assert!(holds(json!("${{ parameters.tags }}")));
    assert!(holds(json!("${{ parameters.replicas > 2 }}")));
    assert!(!holds(json!("${{ parameters.public }}")));
    assert!(!holds(json!("${{ parameters.missing }}")));
    assert!(!holds(json!("${{ parameters.replicas > 5 }}")));
    assert!(!holds(json!(false)));
    assert!(!holds(json!("")));
    assert!(!holds(json!(0)));
    assert!(!holds(json!("${{ parameters.public }}")));
}

#[test]
fn skeleton_text_renders_with_blocks_and_keeps_its_newlines() {
    assert_eq!(
        text("# ${{ parameters.name }}\n{% if parameters.replicas > 1 %}scaled\n{% endif %}"),
        "# payments\nscaled\n"
    );
    // Cookiecutter-style skeletons use `{{ }}`.
    let cookie = Templater::new(Syntax {
        cookiecutter: true,
        ..Syntax::default()
    });
    assert_eq!(
        cookie
            .render_text("{{ parameters.name }} ${{ x }}", &context(), "f")
            .unwrap(),
        "payments $"
    );
    // Without cookiecutter syntax, `{{ }}` is plain text (JSX, Go templates...).
    assert_eq!(text("<div>{{ value }}</div>"), "<div>{{ value }}</div>");
}

#[test]
fn a_value_is_never_rendered_twice() {
    // A parameter holding an expression is text, not a template.
    assert_eq!(
        render(json!("${{ parameters.hostile }}")).unwrap(),
        Some(json!("${{ secrets.token }}"))
    );
    assert_eq!(
        text("x ${{ parameters.hostile }}"),
        "x ${{ secrets.token }}"
    );
}

/// What attackers sent Backstage's template sandbox (its advisories): attempts
/// to climb from a value to the runtime. Each must be a render error naming
/// the place, or render as nothing, and never show host data.
#[test]
fn expressions_cannot_reach_the_runtime_or_the_host() {
    let attacks = [
        "${{ ''.constructor.constructor('return process')().env }}",
        "${{ parameters.constructor.constructor('return this')() }}",
        "${{ [].map.constructor('return process.mainModule')() }}",
        "${{ range.__class__.__mro__ }}",
        "${{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "${{ self.__init__.__globals__ }}",
        "${{ parameters.__proto__ }}",
        "${{ parameters | attr('__proto__') }}",
        "${{ namespace.__call__ }}",
        "${{ lipsum.__globals__ }}",
        "${{ config.items() }}",
        "${{ request.application.__globals__ }}",
        "${{ env('HOME') }}",
        "${{ process.env.HOME }}",
        "${{ include('/etc/passwd') }}",
        "{% include '/etc/passwd' %}",
        "{% import '/etc/passwd' as x %}",
        "{% extends '/etc/hostname' %}",
        "${{ debug() }}",
        "${{ range(10) | map('constructor') | list }}",
    ];
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    for attack in attacks {
        for rendered in [
            render(json!(attack)).map(|v| v.map(|v| v.to_string()).unwrap_or_default()),
            Templater::default().render_text(&format!("x {attack}"), &context(), "skeleton/x"),
        ] {
            match rendered {
                Ok(out) => {
                    assert!(
                        !out.contains(&home) && !out.contains("root:") && !out.contains("uid="),
                        "{attack} rendered host data: {out}"
                    );
                    assert!(
                        out.trim()
                            .trim_matches('"')
                            .trim_start_matches('x')
                            .trim()
                            .is_empty()
                            || out == "[]"
                            || out == "null",
                        "{attack} rendered {out}"
                    );
                }
                Err(e) => {
                    assert!(
                        e.place == "steps[0].input" || e.place == "skeleton/x",
                        "{attack}: {e}"
                    );
                    assert!(!e.message.contains(&home), "{attack}: {e}");
                }
            }
        }
    }
}

#[test]
fn loops_recursion_and_huge_output_end_with_an_error() {
    let cases = [
        // An endless-in-practice loop: out of fuel.
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
            "ran too long",
        ),
        // Recursion through a macro.
        (
            "{% macro f(n) %}${{ f(n + 1) }}{% endmacro %}${{ f(0) }}",
            "",
        ),
        // One huge string.
        ("${{ 'x' * 1000000000 }}", ""),
        // Output over the cap.
        (
            "{% for i in range(40) %}${{ 'x' * 1000000 }}{% endfor %}",
            "over the limit",
        ),
        // Syntax errors name themselves.
        ("${{ parameters.name ", "syntax"),
        ("{% if %}", "syntax"),
    ];
    for (source, expected) in cases {
        let error = Templater::default()
            .render_text(source, &context(), "skeleton/bomb.txt")
            .unwrap_err();
        assert_eq!(error.place, "skeleton/bomb.txt");
        assert!(error.message.contains(expected), "{source}: {error}");
    }
}

#[test]
fn filter_errors_name_the_place_and_never_quote_the_value() {
    for source in [
        "${{ secrets.token | parseRepoUrl }}",
        "${{ secrets.token | parseEntityRef }}",
        "${{ '?owner=acme&repo=x' | parseRepoUrl }}",
        "${{ 'evil.example/x?repo=y' | parseRepoUrl }}",
        "${{ 'github.com?owner=acme' | projectSlug }}",
        "${{ 'a/b/c:d' | parseEntityRef }}",
    ] {
        let error = render(json!(source)).unwrap_err();
        assert_eq!(error.place, "steps[0].input", "{source}");
        assert!(!error.to_string().contains("s3cr3t"), "{source}: {error}");
    }
}

#[test]
fn check_finds_every_expression_that_does_not_parse_without_rendering() {
    let input = json!({
        "fine": "${{ parameters.name | upper }}",
        "mixed": "svc-${{ parameters.name }}",
        "broken": "${{ parameters.name | }}",
        "list": ["ok", "{% if %}x{% endif %}"],
        // Would fail when rendered (no such filter is called here), but parses.
        "unknown": "${{ parameters.missing.deeper }}",
        "plain": "no expressions",
        "number": 3
    });
    let errors = Templater::default().check(&input, "spec.steps[0].input");
    let places: Vec<_> = errors.iter().map(|e| e.place.as_str()).collect();
    assert_eq!(
        places,
        ["spec.steps[0].input.broken", "spec.steps[0].input.list[1]"],
        "{errors:?}"
    );
    assert!(
        errors.iter().all(|e| e.message.contains("syntax")),
        "{errors:?}"
    );
}
