//! What the server sends the pages: small, serialisable views, computed on the
//! server (in `crate::ssr`) and rendered by the components on both sides. The
//! browser never sees raw plugin output or catalog JSON, only these.

use serde::{Deserialize, Serialize};

/// The catalog page's state, as it appears in the URL
/// (`/catalog?kind=component&type=service&owner=group:default/team-a&q=pay&sort=owner&dir=desc&page=2`).
/// Backstage's `filters[kind]=…` form is read too, so old links keep working.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CatalogQuery {
    /// `None`: the default kind (Component); `Some("all")`: every kind.
    pub kind: Option<String>,
    pub types: Vec<String>,
    pub owners: Vec<String>,
    pub lifecycles: Vec<String>,
    pub namespaces: Vec<String>,
    pub tags: Vec<String>,
    pub text: String,
    /// A column id (see [`Column::id`]); `None`: by name.
    pub sort: Option<String>,
    pub desc: bool,
    /// 1-based.
    pub page: usize,
    /// Rows per page.
    pub size: usize,
}

pub const DEFAULT_KIND: &str = "component";
pub const PAGE_SIZES: [usize; 3] = [20, 50, 100];
pub const DEFAULT_PAGE_SIZE: usize = 50;

impl CatalogQuery {
    /// Reads the query from URL parameters (`(key, value)` pairs, repeated keys allowed).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> CatalogQuery {
        let mut q = CatalogQuery::default();
        let push = |list: &mut Vec<String>, v: &str| {
            for part in v.split(',') {
                let part = part.trim();
                if !part.is_empty() && !list.iter().any(|x| x.eq_ignore_ascii_case(part)) {
                    list.push(part.to_owned());
                }
            }
        };
        for (k, v) in pairs {
            match k {
                "kind" | "filters[kind]" => {
                    let v = v.trim();
                    if !v.is_empty() {
                        q.kind = Some(v.to_ascii_lowercase());
                    }
                }
                "type" | "filters[type]" => push(&mut q.types, v),
                "owner" | "filters[owners]" => push(&mut q.owners, v),
                "lifecycle" | "filters[lifecycles]" => push(&mut q.lifecycles, v),
                "namespace" | "filters[namespace]" => push(&mut q.namespaces, v),
                "tag" | "filters[tags]" => push(&mut q.tags, v),
                "q" | "filters[text]" => q.text = v.trim().to_owned(),
                "sort" => {
                    if Column::from_id(v).is_some_and(|c| c.sortable()) {
                        q.sort = Some(v.to_owned())
                    }
                }
                "dir" => q.desc = v == "desc",
                "page" => q.page = v.parse().unwrap_or(1),
                "size" => q.size = v.parse().unwrap_or(DEFAULT_PAGE_SIZE),
                _ => {}
            }
        }
        q.normalized()
    }

    /// Clamps the numbers and drops defaults.
    pub fn normalized(mut self) -> CatalogQuery {
        self.page = self.page.max(1);
        if !PAGE_SIZES.contains(&self.size) {
            self.size = DEFAULT_PAGE_SIZE;
        }
        if self.kind.as_deref() == Some(DEFAULT_KIND) {
            self.kind = None;
        }
        if self.sort.as_deref() == Some(self.default_sort().id()) {
            self.sort = None;
        }
        self
    }

    /// What the list is sorted by when the URL does not say: the name for one
    /// kind, the kind (then name) for all kinds.
    pub fn default_sort(&self) -> Column {
        if self.effective_kind().is_some() {
            Column::Name
        } else {
            Column::Kind
        }
    }

    /// The column the list is sorted by.
    pub fn sort_column(&self) -> Column {
        self.sort
            .as_deref()
            .and_then(Column::from_id)
            .unwrap_or_else(|| self.default_sort())
    }

    /// The kind filter in effect (`None` = all kinds).
    pub fn effective_kind(&self) -> Option<&str> {
        match self.kind.as_deref() {
            None => Some(DEFAULT_KIND),
            Some("all") => None,
            Some(k) => Some(k),
        }
    }

    /// The query as URL parameters, in a stable order, without defaults.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(k) = &self.kind {
            out.push(("kind", k.clone()));
        }
        for (key, list) in [
            ("type", &self.types),
            ("owner", &self.owners),
            ("lifecycle", &self.lifecycles),
            ("namespace", &self.namespaces),
            ("tag", &self.tags),
        ] {
            for v in list {
                out.push((key, v.clone()));
            }
        }
        if !self.text.is_empty() {
            out.push(("q", self.text.clone()));
        }
        if let Some(s) = &self.sort {
            out.push(("sort", s.clone()));
        }
        if self.desc {
            out.push(("dir", "desc".to_owned()));
        }
        if self.page > 1 {
            out.push(("page", self.page.to_string()));
        }
        if self.size != DEFAULT_PAGE_SIZE {
            out.push(("size", self.size.to_string()));
        }
        out
    }

    /// `/catalog?…` for this query.
    pub fn href(&self) -> String {
        let pairs = self.to_pairs();
        if pairs.is_empty() {
            return "/catalog".to_owned();
        }
        let qs: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect();
        format!("/catalog?{}", qs.join("&"))
    }

    pub fn with_page(&self, page: usize) -> CatalogQuery {
        CatalogQuery {
            page,
            ..self.clone()
        }
    }

    /// Sorting by a column: the first click sorts ascending, the next one flips.
    pub fn with_sort(&self, column: Column) -> CatalogQuery {
        let desc = self.sort_column() == column && !self.desc;
        CatalogQuery {
            sort: Some(column.id().to_owned()),
            desc,
            page: 1,
            ..self.clone()
        }
        .normalized()
    }

    /// Anything narrowing the list besides the kind.
    pub fn has_filters(&self) -> bool {
        !(self.types.is_empty()
            && self.owners.is_empty()
            && self.lifecycles.is_empty()
            && self.namespaces.is_empty()
            && self.tags.is_empty()
            && self.text.is_empty())
    }

    /// The same kind, nothing else.
    pub fn cleared(&self) -> CatalogQuery {
        CatalogQuery {
            kind: self.kind.clone(),
            size: self.size,
            ..CatalogQuery::default()
        }
        .normalized()
    }
}

/// Parses `a=1&b=x+y` (`application/x-www-form-urlencoded`, with or without a leading `?`).
pub fn parse_query_string(qs: &str) -> Vec<(String, String)> {
    qs.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// Decodes one form-encoded component (`+` is a space).
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a URL query component.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A catalog table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    Name,
    Kind,
    System,
    Domain,
    Owner,
    Type,
    Lifecycle,
    Description,
    Tags,
    Email,
    Parent,
    Target,
    Namespace,
}

impl Column {
    pub fn id(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Kind => "kind",
            Column::System => "system",
            Column::Domain => "domain",
            Column::Owner => "owner",
            Column::Type => "type",
            Column::Lifecycle => "lifecycle",
            Column::Description => "description",
            Column::Tags => "tags",
            Column::Email => "email",
            Column::Parent => "parent",
            Column::Target => "target",
            Column::Namespace => "namespace",
        }
    }

    pub fn from_id(id: &str) -> Option<Column> {
        Self::ALL.iter().copied().find(|c| c.id() == id)
    }

    const ALL: [Column; 13] = [
        Column::Name,
        Column::Kind,
        Column::System,
        Column::Domain,
        Column::Owner,
        Column::Type,
        Column::Lifecycle,
        Column::Description,
        Column::Tags,
        Column::Email,
        Column::Parent,
        Column::Target,
        Column::Namespace,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::Kind => "Kind",
            Column::System => "System",
            Column::Domain => "Domain",
            Column::Owner => "Owner",
            Column::Type => "Type",
            Column::Lifecycle => "Lifecycle",
            Column::Description => "Description",
            Column::Tags => "Tags",
            Column::Email => "Email",
            Column::Parent => "Parent",
            Column::Target => "Target",
            Column::Namespace => "Namespace",
        }
    }

    /// The entity field a sort on this column orders by.
    pub fn sort_field(self) -> Option<&'static str> {
        Some(match self {
            Column::Name => "metadata.name",
            Column::Kind => "kind",
            Column::System => "spec.system",
            Column::Domain => "spec.domain",
            Column::Owner => "spec.owner",
            Column::Type => "spec.type",
            Column::Lifecycle => "spec.lifecycle",
            Column::Email => "spec.profile.email",
            Column::Namespace => "metadata.namespace",
            Column::Description | Column::Tags | Column::Parent | Column::Target => return None,
        })
    }

    pub fn sortable(self) -> bool {
        self.sort_field().is_some()
    }

    /// The columns that matter for a kind (`None` = all kinds), as Backstage shows them.
    pub fn for_kind(kind: Option<&str>) -> Vec<Column> {
        use Column::*;
        match kind {
            Some("component") | Some("api") | Some("resource") => {
                vec![Name, System, Owner, Type, Lifecycle, Description, Tags]
            }
            Some("system") => vec![Name, Domain, Owner, Description, Tags],
            Some("domain") => vec![Name, Owner, Description, Tags],
            Some("group") => vec![Name, Type, Parent, Description],
            Some("user") => vec![Name, Email, Description],
            Some("location") => vec![Name, Type, Target],
            Some("template") => vec![Name, Owner, Type, Description, Tags],
            Some(_) => vec![Name, Owner, Type, Description, Tags],
            None => vec![Name, Kind, Owner, Type, Description, Tags],
        }
    }
}

/// A link to an entity, with the short label Backstage shows for a ref.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityLink {
    pub label: String,
    pub href: String,
    /// Lowercase kind, for the icon.
    pub kind: String,
}

/// One row of the catalog table (and of relation tables).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Row {
    pub entity_ref: String,
    pub href: String,
    pub name: String,
    /// `metadata.title`, or the user's display name.
    pub title: Option<String>,
    pub kind: String,
    pub namespace: String,
    pub description: Option<String>,
    pub system: Option<EntityLink>,
    pub domain: Option<EntityLink>,
    pub owner: Option<EntityLink>,
    pub parent: Option<EntityLink>,
    pub type_: Option<String>,
    pub lifecycle: Option<String>,
    pub email: Option<String>,
    pub target: Option<String>,
    pub tags: Vec<String>,
    pub has_errors: bool,
}

/// One value of a filter, with how many entities have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: u64,
    pub selected: bool,
}

/// A filter of the catalog page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    /// URL parameter (`type`, `owner`, …).
    pub param: String,
    pub label: String,
    pub values: Vec<FacetValue>,
}

/// The catalog page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogView {
    pub query: CatalogQuery,
    /// e.g. "Components", "All entities".
    pub heading: String,
    pub kinds: Vec<FacetValue>,
    pub facets: Vec<Facet>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub total: u64,
    pub has_next: bool,
    pub last_page: usize,
}

/// When the source last confirmed an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    /// RFC 3339.
    pub at: String,
    /// "3 minutes ago".
    pub ago: String,
    /// Longer ago than the refresh loop should allow.
    pub stale: bool,
}

/// A problem the catalog had with an entity (`status.items`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub level: String,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLink {
    pub title: String,
    pub url: String,
}

/// A relation graph, laid out on the server, drawn as SVG.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Graph {
    pub width: f32,
    pub height: f32,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub label: String,
    /// The relation that links it to the centre (`ownedBy`, …).
    pub caption: String,
    pub kind: String,
    /// `None` for the centre node and for "+N more".
    pub href: Option<String>,
    pub center: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// SVG path data.
    pub path: String,
}

/// A table of related entities ("Depends on components", "Members", …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationTable {
    pub id: String,
    pub title: String,
    pub empty: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// More than shown: how many, and a catalog link listing them all.
    pub more: Option<(u64, String)>,
}

/// An API's definition, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDefinition {
    pub type_: String,
    pub title: Option<String>,
    pub version: Option<String>,
    pub description_html: Option<String>,
    pub servers: Vec<String>,
    pub groups: Vec<OperationGroup>,
    /// Why the definition could not be read as OpenAPI, if it could not.
    pub problem: Option<String>,
    pub raw: String,
    pub raw_truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationGroup {
    pub tag: String,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    pub operation_id: Option<String>,
    pub deprecated: bool,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<String>,
    pub responses: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub description: Option<String>,
}

/// A user's or group's profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
}

/// A tab of the entity page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tab {
    pub slug: String,
    pub label: String,
    pub href: String,
}

/// A plugin panel, rendered (or what went wrong).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelView {
    pub plugin: String,
    pub panel: String,
    pub title: String,
    pub result: PanelResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PanelResult {
    Ok(Widget),
    /// A contained failure: `kind` is `timeout`, `failed`, `unavailable` or `invalid`.
    Err {
        kind: String,
        message: String,
    },
}

/// The portal's own widgets, which plugin panels are drawn with. Markdown is
/// turned into sanitised HTML on the server (`html`); links are checked there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Widget {
    Text {
        text: String,
    },
    Markdown {
        #[serde(default)]
        markdown: String,
        #[serde(default)]
        html: String,
    },
    Link {
        label: String,
        url: String,
    },
    Badge {
        label: String,
        #[serde(default)]
        tone: Tone,
    },
    Stat {
        label: String,
        value: String,
        #[serde(default)]
        tone: Tone,
    },
    Code {
        #[serde(default)]
        language: String,
        content: String,
    },
    Empty {
        message: String,
    },
    Card {
        title: String,
        children: Vec<Widget>,
    },
    KeyValues {
        items: Vec<KeyValue>,
    },
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<Widget>>,
    },
    Stack {
        children: Vec<Widget>,
    },
    Row {
        children: Vec<Widget>,
    },
    /// A widget type this portal does not know (a newer plugin).
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: Widget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Tone {
    #[default]
    Neutral,
    Info,
    Success,
    Warning,
    Danger,
}

impl Tone {
    pub fn class(self) -> &'static str {
        match self {
            Tone::Neutral => "tone-neutral",
            Tone::Info => "tone-info",
            Tone::Success => "tone-success",
            Tone::Warning => "tone-warning",
            Tone::Danger => "tone-danger",
        }
    }
}

/// Group and user pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub profile: Profile,
    pub parent: Option<EntityLink>,
    /// Group: child groups; user: the groups they belong to.
    pub groups: Vec<EntityLink>,
    /// Group members.
    pub members: Vec<Row>,
    pub members_more: Option<u64>,
}

/// Everything the entity page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityView {
    pub entity_ref: String,
    pub kind: String,
    /// As written in the entity (`Component`).
    pub kind_label: String,
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub type_: Option<String>,
    pub lifecycle: Option<String>,
    pub owner: Option<EntityLink>,
    pub system: Option<EntityLink>,
    pub domain: Option<EntityLink>,
    pub tags: Vec<String>,
    pub links: Vec<ExternalLink>,
    pub source_url: Option<String>,
    pub edit_url: Option<String>,
    pub confirmed: Option<Confirmed>,
    pub problems: Vec<Problem>,
    pub orphan: bool,
    /// The relation graph as SVG markup (built and escaped on the server).
    pub graph_svg: String,
    pub relations: Vec<RelationTable>,
    pub org: Option<OrgView>,
    pub owned: Option<RelationTable>,
    pub api: Option<ApiDefinition>,
    pub tabs: Vec<Tab>,
    pub active_tab: String,
    /// Card panels (shown on the overview tab).
    pub cards: Vec<PanelView>,
    /// The panel of the active tab, when it is a plugin tab.
    pub tab_panel: Option<PanelView>,
}

impl EntityView {
    pub fn display_name(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

/// One installed plugin file, as the plugins page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRow {
    pub file: String,
    pub state: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub wit_version: Option<String>,
    pub extension_points: Vec<String>,
    pub panels: Vec<String>,
    pub capabilities: Vec<CapabilityRow>,
    pub missing_grants: Vec<String>,
    pub compiler: Option<String>,
    pub calls: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    pub last_denial: Option<String>,
    pub load_error: Option<String>,
    pub loaded_at: Option<String>,
}

/// A capability: asked for, granted, both or neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityRow {
    pub capability: String,
    pub requested: bool,
    pub granted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginsView {
    pub plugins: Vec<PluginRow>,
    pub plugins_dir: Option<String>,
}

/// Search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchView {
    pub term: String,
    pub rows: Vec<Row>,
    pub total: u64,
    pub kinds: Vec<FacetValue>,
}

/// A sidebar entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavItem {
    pub label: String,
    pub href: String,
    pub icon: String,
    pub external: bool,
}

/// How the portal looks, from `app:` in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub title: String,
    pub logo: Option<String>,
    /// CSS custom properties for the light and dark schemes (validated).
    pub css: String,
    pub sidebar: Vec<NavItem>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            title: "Portal".to_owned(),
            logo: None,
            css: String::new(),
            sidebar: default_sidebar(),
        }
    }
}

pub fn default_sidebar() -> Vec<NavItem> {
    let item = |label: &str, href: &str, icon: &str| NavItem {
        label: label.to_owned(),
        href: href.to_owned(),
        icon: icon.to_owned(),
        external: false,
    };
    vec![
        item("Catalog", "/catalog", "catalog"),
        item("APIs", "/catalog?kind=api", "api"),
        item("Docs", "/docs", "docs"),
        item("Create", "/create", "create"),
        item("Search", "/search", "search"),
        item("Plugins", "/plugins", "plugins"),
    ]
}

/// `kind:namespace/name` → `/catalog/namespace/kind/name`.
pub fn entity_href(kind: &str, namespace: &str, name: &str) -> String {
    format!(
        "/catalog/{}/{}/{}",
        encode_path(namespace),
        encode_path(&kind.to_ascii_lowercase()),
        encode_path(name)
    )
}

fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Splits `kind:namespace/name` (any part but the name may be missing).
pub fn split_ref<'a>(entity_ref: &'a str, default_kind: &'a str) -> (&'a str, &'a str, &'a str) {
    let (kind, rest) = match entity_ref.split_once(':') {
        Some((k, rest)) => (k, rest),
        None => (default_kind, entity_ref),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, n)) => (ns, n),
        None => ("default", rest),
    };
    (kind, namespace, name)
}

/// A link for a ref, labelled the way Backstage does: the kind is left out
/// when it is the expected one, the namespace when it is `default`.
pub fn ref_link(entity_ref: &str, expected_kind: &str) -> EntityLink {
    let (kind, namespace, name) = split_ref(entity_ref, expected_kind);
    let mut label = String::new();
    if !kind.eq_ignore_ascii_case(expected_kind) {
        label.push_str(&kind.to_ascii_lowercase());
        label.push(':');
    }
    if namespace != "default" {
        label.push_str(namespace);
        label.push('/');
    }
    label.push_str(name);
    EntityLink {
        label,
        href: entity_href(kind, namespace, name),
        kind: kind.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips_through_the_url() {
        let q = CatalogQuery::from_pairs([
            ("kind", "API"),
            ("type", "openapi,grpc"),
            ("owner", "group:default/team-a"),
            ("q", " pay "),
            ("sort", "owner"),
            ("dir", "desc"),
            ("page", "3"),
        ]);
        assert_eq!(q.kind.as_deref(), Some("api"));
        assert_eq!(q.types, vec!["openapi", "grpc"]);
        assert_eq!(q.text, "pay");
        assert_eq!(q.page, 3);
        let href = q.href();
        assert_eq!(
            href,
            "/catalog?kind=api&type=openapi&type=grpc&owner=group:default/team-a&q=pay&sort=owner&dir=desc&page=3"
        );
        let pairs = q.to_pairs();
        let again = CatalogQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        assert_eq!(again, q);
    }

    #[test]
    fn query_strings_decode_like_forms() {
        let pairs = parse_query_string("?q=a+b%2Bc&tag=x%20y&empty=&bad=%zz");
        assert_eq!(
            pairs,
            vec![
                ("q".to_owned(), "a b+c".to_owned()),
                ("tag".to_owned(), "x y".to_owned()),
                ("empty".to_owned(), String::new()),
                ("bad".to_owned(), "%zz".to_owned()),
            ]
        );
        assert_eq!(encode_component("a b+c/é"), "a%20b%2Bc/%C3%A9");
    }

    #[test]
    fn backstage_filter_parameters_are_understood() {
        let q = CatalogQuery::from_pairs([
            ("filters[kind]", "component"),
            ("filters[type]", "service"),
            ("filters[lifecycles]", "production"),
            ("filters[user]", "all"),
        ]);
        assert_eq!(q.kind, None);
        assert_eq!(q.types, vec!["service"]);
        assert_eq!(q.lifecycles, vec!["production"]);
    }

    #[test]
    fn sorting_flips_on_the_second_click() {
        let q = CatalogQuery::default().normalized();
        let once = q.with_sort(Column::Owner);
        assert_eq!((once.sort.as_deref(), once.desc), (Some("owner"), false));
        let twice = once.with_sort(Column::Owner);
        assert!(twice.desc);
        let name = twice.with_sort(Column::Name);
        assert_eq!((name.sort.as_deref(), name.desc), (None, false));
    }

    #[test]
    fn refs_are_labelled_like_backstage() {
        let l = ref_link("group:default/team-a", "group");
        assert_eq!(l.label, "team-a");
        assert_eq!(l.href, "/catalog/default/group/team-a");
        let l = ref_link("user:ops/jane", "group");
        assert_eq!(l.label, "user:ops/jane");
        assert_eq!(l.href, "/catalog/ops/user/jane");
    }
}
