//! The catalog page: its state as it appears in the URL ([`CatalogQuery`]), its
//! columns, and the view the server sends it.

use super::url::encode_component;
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
}
