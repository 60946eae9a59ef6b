//! Rendering tests: Markdown features, the MkDocs extensions, and the XSS
//! table every page must survive.

use super::*;

fn pages() -> BTreeMap<String, String> {
    [
        ("index.md", ""),
        ("guide/setup.md", "guide/setup/"),
        ("guide/other.md", "guide/other/"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect()
}

fn render_at(source: &str, markdown: &str) -> Rendered {
    let pages = pages();
    let assets: BTreeSet<String> = ["guide/img/a.png".to_owned()].into_iter().collect();
    let ctx = RenderContext {
        source,
        pages: &pages,
        assets: &assets,
        snippets: None,
        max_bytes: 1 << 20,
    };
    render_markdown(markdown, &ctx)
}

fn render(markdown: &str) -> Rendered {
    render_at("guide/setup.md", markdown)
}

/// Every `href`/`src` value in the HTML.
fn urls(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for rest in html.split(attr).skip(1) {
            out.push(rest.split('"').next().unwrap_or("").to_owned());
        }
    }
    out
}

fn assert_safe(what: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{what}: <script in {html}");
    for tag in [
        "<iframe", "<style", "<form", "<meta", "<svg", "<object", "<embed",
    ] {
        assert!(!lower.contains(tag), "{what}: {tag} in {html}");
    }
    // No event-handler attribute on any element.
    for (i, _) in lower.match_indices(" on") {
        let before = &lower[..i];
        let in_tag = before.rfind('<') > before.rfind('>');
        let rest: String = lower[i + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let is_attr = lower[i + 3 + rest.len()..].starts_with('=');
        assert!(!(in_tag && is_attr), "{what}: handler attribute in {html}");
    }
    for url in urls(html) {
        let u = url.to_ascii_lowercase();
        assert!(
            !u.contains("javascript:")
                && !u.starts_with("data:")
                && !u.starts_with("//")
                && !u.contains('\\'),
            "{what}: unsafe URL {url} in {html}"
        );
        assert!(portal_types::url::is_safe(&url), "{what}: {url} in {html}");
    }
}

#[test]
fn gfm_features_render() {
    let r = render(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~gone~~\n\nNote[^1].\n\n[^1]: The note.\n\n<https://example.com>\n\nBare https://example.org/x. here\n",
    );
    assert!(r.html.contains("Bare <a href=\"https://example.org/x\" rel=\"noopener noreferrer\">https://example.org/x</a>. here"), "{}", r.html);
    for needle in [
        "<table>",
        "<td>1</td>",
        "checked",
        "type=\"checkbox\"",
        "<del>gone</del>",
        "footnote",
        "href=\"https://example.com\"",
    ] {
        assert!(r.html.contains(needle), "{needle}: {}", r.html);
    }
    assert!(r.text.contains("The note."), "{}", r.text);
}

#[test]
fn headings_get_mkdocs_ids_permalinks_and_a_toc() {
    let r = render(
        "# Hello, World!\n\n## Set up `cargo` & go\n\n## Set up `cargo` & go\n\n## Set up `cargo` & go\n\n### Custom {#my-id}\n",
    );
    let ids: Vec<&str> = r.toc.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "hello-world",
            "set-up-cargo-go",
            "set-up-cargo-go_1",
            "set-up-cargo-go_2",
            "my-id"
        ]
    );
    assert_eq!(r.toc[1].title, "Set up cargo & go");
    assert_eq!(r.toc[1].level, 2);
    assert_eq!(r.first_h1.as_deref(), Some("Hello, World!"));
    assert!(
        r.html.contains(
            "<h1 id=\"hello-world\">Hello, World!<a class=\"headerlink\" href=\"#hello-world\""
        ),
        "{}",
        r.html
    );
    assert!(r.html.contains("<h3 id=\"my-id\">"), "{}", r.html);
    assert!(r.html.contains("¶</a></h3>"), "{}", r.html);
}

#[test]
fn slugs_follow_mkdocs_toc() {
    assert_eq!(slugify("Hello World"), "hello-world");
    assert_eq!(slugify("  A -- b  "), "a-b");
    assert_eq!(slugify("What's new?"), "whats-new");
    assert_eq!(slugify("snake_case"), "snake_case");
    assert_eq!(slugify("Café Über straße"), "cafe-uber-strasse");
    assert_eq!(slugify("Ærø — Œuvre"), "aero-oeuvre");
    // Other scripts keep their letters (MkDocs' default would leave none).
    assert_eq!(slugify("Установка и запуск"), "установка-и-запуск");
    assert_eq!(slugify("ΑΒΓ Δ"), "αβγ-δ");
    assert_eq!(slugify("インストール 2"), "インストール-2");
    assert_eq!(slugify("Café 日本"), "cafe-日本");
}

#[test]
fn non_latin_headings_get_anchors_that_links_reach() {
    let r =
        render("# Руководство\n\n## Установка\n\nСм. [установку](#установка).\n\n## Установка\n");
    let ids: Vec<&str> = r.toc.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["руководство", "установка", "установка_1"]);
    assert!(r.html.contains("id=\"установка\""), "{}", r.html);
    assert!(
        r.html.contains("href=\"#установка\"") || r.html.contains("href=\"#%D1%83"),
        "{}",
        r.html
    );
}

#[test]
fn admonitions_render() {
    let r = render(
        "!!! note \"Read *this*\"\n    Body **bold**.\n\n!!! warning\n    W.\n\n!!! tip \"\"\n    No title.\n\nAfter.\n",
    );
    assert!(
        r.html.contains(
            "<div class=\"admonition note\">\n<p class=\"admonition-title\">Read *this*</p>"
        ),
        "{}",
        r.html
    );
    assert!(r.html.contains("<strong>bold</strong>"), "{}", r.html);
    assert!(
        r.html.contains("<p class=\"admonition-title\">Warning</p>"),
        "{}",
        r.html
    );
    assert!(
        r.html
            .contains("<div class=\"admonition tip\">\n<p>No title.</p>"),
        "{}",
        r.html
    );
    assert!(r.html.trim_end().ends_with("<p>After.</p>"), "{}", r.html);
}

#[test]
fn collapsible_admonitions_render_as_details() {
    let r = render(
        "??? question \"Why?\"\n    Because.\n\n???+ info\n    Open.\n\n??? tip \"\"\n    Untitled.\n",
    );
    assert!(
        r.html
            .contains("<details class=\"question\">\n<summary>Why?</summary>"),
        "{}",
        r.html
    );
    assert!(r.html.contains("<p>Because.</p>"), "{}", r.html);
    assert!(r.html.contains("<summary>Tip</summary>"), "{}", r.html);
    assert!(
        r.html
            .contains("<details class=\"info\" open=\"\">\n<summary>Info</summary>"),
        "{}",
        r.html
    );
}

#[test]
fn tabs_form_one_set() {
    let r = render(
        "=== \"Rust\"\n\n    ```rust\n    fn main() {}\n    ```\n\n=== \"Python\"\n    print(1)\n\nAfter.\n\n=== \"Solo\"\n    x\n",
    );
    assert_eq!(
        r.html.matches("<div class=\"tabbed-set\">").count(),
        2,
        "{}",
        r.html
    );
    assert!(
        r.html
            .contains("<summary class=\"tabbed-label\">Rust</summary>"),
        "{}",
        r.html
    );
    assert!(
        r.html
            .contains("<summary class=\"tabbed-label\">Python</summary>"),
        "{}",
        r.html
    );
    // Highlighted: the language's class, the text in `hl-` spans.
    assert!(
        r.html
            .contains("<pre><code class=\"language-rust\"><span class=\"hl-"),
        "{}",
        r.html
    );
    assert!(r.html.contains(">main<"), "{}", r.html);
    let first_set = r.html.split("<p>After.</p>").next().unwrap();
    assert!(first_set.contains("Python"), "{}", r.html);
}

#[test]
fn code_blocks_keep_their_language_and_mermaid_is_kept() {
    let r = render(
        "````markdown title=\"x\"\n```rust\ninner\n```\n````\n\n```mermaid\ngraph TD; A-->B<script>\n```\n\n    indented\n",
    );
    let markdown_block = r
        .html
        .split("<pre><code class=\"language-markdown\">")
        .nth(1)
        .and_then(|rest| rest.split("</code></pre>").next())
        .unwrap_or_else(|| panic!("{}", r.html));
    let text: String = {
        // The block's text without the highlighter's spans.
        let mut out = String::new();
        let mut in_tag = false;
        for c in markdown_block.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    };
    assert_eq!(text, "```rust\ninner\n```\n", "{}", r.html);
    assert!(
        r.html.contains(
            "<pre class=\"mermaid\"><code>graph TD; A--&gt;B&lt;script&gt;\n</code></pre>"
        ),
        "{}",
        r.html
    );
    assert!(
        r.html.contains("<pre><code>indented\n</code></pre>"),
        "{}",
        r.html
    );
    assert!(r.text.contains("graph TD"), "{}", r.text);
}

#[test]
fn attr_lists_do_not_show() {
    let r = render("# Title {: .big }\n\nPara\n{: .note }\n\n[Go](other.md){ .md-button }\n");
    assert!(!r.html.contains('{'), "{}", r.html);
    assert_eq!(r.toc[0].title, "Title");
}

#[test]
fn front_matter_is_data() {
    let r = render("---\ntitle: The *Title*\nhide: [toc]\n---\n# Heading\n");
    assert_eq!(r.front_matter_title.as_deref(), Some("The Title"));
    assert!(!r.html.contains("hide"), "{}", r.html);
    assert!(r.html.starts_with("<h1"), "{}", r.html);
    // A thematic break later in the page is not front matter.
    let r = render("# A\n\n---\ntitle: x\n---\n");
    assert_eq!(r.front_matter_title, None);
    // Tags in front matter are ignored, never executed.
    let r = render("---\ntitle: !!python/object/apply:os.system [\"id\"]\n---\nBody\n");
    assert_eq!(r.front_matter_title, None);
    assert!(
        r.problems
            .iter()
            .any(|p| p.message.contains("python/object/apply")),
        "{:?}",
        r.problems
    );
}

#[test]
fn links_and_images_are_rewritten() {
    let r = render(
        "[home](../index.md#top) [other](other.md) [gone](missing.md) ![a](img/a.png) ![b](img/b.png) [ext](https://example.com)",
    );
    assert!(r.html.contains("href=\"../../#top\""), "{}", r.html);
    assert!(r.html.contains("href=\"../other/\""), "{}", r.html);
    assert!(r.html.contains("src=\"../img/a.png\""), "{}", r.html);
    assert!(
        r.html
            .contains("href=\"https://example.com\" rel=\"noopener noreferrer\""),
        "{}",
        r.html
    );
    assert!(
        r.html.contains(" gone "),
        "broken link kept as text: {}",
        r.html
    );
    assert!(!r.html.contains("missing.md"), "{}", r.html);
    let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("broken link") && m.contains("missing.md")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("missing image") && m.contains("img/b.png")),
        "{messages:?}"
    );
    // From the home page.
    let r = render_at("index.md", "[s](guide/setup.md)");
    assert!(r.html.contains("href=\"guide/setup/\""), "{}", r.html);
}

#[test]
fn xss_table() {
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](javascript&#58;alert(1))",
        "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<style>body{display:none}</style>",
        "<form action=\"https://evil.example\"><input name=q></form>",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "[x](//evil.example)",
        "[x](/\\evil.example)",
        "<a href=\"//evil.example\">x</a>",
        "<a href=\"&#47;&#47;evil.example\">x</a>",
        "[x](<//evil.example>)",
        "<div onclick=\"alert(1)\" style=\"position:fixed\">x</div>",
        "<object data=\"x\"></object><embed src=\"x\">",
        "<a href=\"vbscript:msgbox\">x</a>",
        "<img src=\"jav&#x09;ascript:alert(1)\">",
        "[x]: javascript:alert(1)\n\n[y][x]",
        "<details open ontoggle=alert(1)>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    ];
    for payload in payloads {
        let contexts = [
            payload.to_owned(),
            format!("# Title {payload}"),
            format!("## {payload}"),
            format!(
                "!!! note \"{}\"\n    {payload}\n",
                payload.replace('"', "'")
            ),
            format!("??? note \"{}\"\n    body\n", payload.replace('"', "'")),
            format!("=== \"{}\"\n    {payload}\n", payload.replace('"', "'")),
            format!("- item {payload}\n\n> quote {payload}\n"),
            format!("| a |\n|---|\n| {payload} |\n"),
            format!(
                "---\ntitle: '{}'\n---\n{payload}\n",
                payload.replace('\'', "''")
            ),
        ];
        for markdown in contexts {
            let r = render(&markdown);
            assert_safe(&markdown, &r.html);
            for h in &r.toc {
                assert!(
                    !h.title.contains("<script") && !h.id.contains('<'),
                    "{markdown}: {h:?}"
                );
            }
            if let Some(t) = &r.front_matter_title {
                assert!(
                    !t.contains("<script") && !t.contains("<img"),
                    "{markdown}: {t}"
                );
            }
        }
    }
}

#[test]
fn headings_titles_are_plain_text() {
    let r = render("# <b>Bold</b> <script>x</script> **strong** `code`\n");
    assert_eq!(r.toc[0].title, "Bold x strong code");
    assert!(!r.toc[0].id.is_empty());
}

#[test]
fn snippets_are_refused_without_a_loader() {
    let r = render("--8<-- \"secret.txt\"\n");
    assert!(r.html.contains("not included"), "{}", r.html);
    assert_eq!(r.problems[0].severity, crate::Severity::Error);
}

#[test]
fn deep_nesting_does_not_overflow() {
    let quotes = ">".repeat(10_000);
    let r = render(&format!("{quotes} deep\n"));
    assert!(r.html.contains("deep"));
    let mut admonitions = String::new();
    for depth in 0..40 {
        admonitions.push_str(&" ".repeat(depth * 4));
        admonitions.push_str("!!! note\n");
    }
    admonitions.push_str(&" ".repeat(160));
    admonitions.push_str("deepest\n");
    let r = render(&admonitions);
    assert!(r.text.contains("deepest"), "{}", r.text);
}

#[test]
fn table_alignment_survives_as_classes() {
    let html = render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n").html;
    for class in ["align-left", "align-center", "align-right"] {
        assert!(
            html.contains(&format!("class=\"{class}\"")),
            "{class}: {html}"
        );
    }
    assert!(!html.contains("style="), "{html}");
}

#[test]
fn github_alerts_are_admonitions() {
    let html = render("> [!WARNING]\n> Mind **this**.\n\nAfter.\n\n```\n> [!NOTE]\n```\n").html;
    assert!(html.contains("class=\"admonition warning\""), "{html}");
    assert!(html.contains("<strong>this</strong>"), "{html}");
    assert!(!html.contains("[!WARNING]"), "{html}");
    // Inside a code fence it stays text.
    assert!(html.contains("&gt; [!NOTE]"), "{html}");
}

#[test]
fn code_is_highlighted_with_classes_only() {
    let html = render("```rust\nfn main() {}\n```\n\n```mermaid\ngraph TD; A-->B\n```\n").html;
    assert!(html.contains("<span class=\"hl-"), "{html}");
    assert!(!html.contains("style="), "{html}");
    assert!(
        html.contains("class=\"mermaid\""),
        "mermaid kept as code: {html}"
    );
    assert!(html.contains("A--&gt;B"), "{html}");
}

#[test]
fn raw_html_links_are_resolved_like_markdown_ones() {
    let r = render(
        "<a href=\"other.md#x\">o</a> and <a href=\"nope.md\">n</a>\n\n<p><img src=\"img/a.png\"></p>\n",
    );
    assert!(r.html.contains("href=\"../other/#x\""), "{}", r.html);
    assert!(r.html.contains("src=\"../img/a.png\""), "{}", r.html);
    assert!(
        r.problems.iter().any(|p| p.message.contains("nope.md")),
        "{:?}",
        r.problems
    );
}
