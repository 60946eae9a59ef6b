//! API definitions, rendered. OpenAPI 3 and Swagger 2 become a list of
//! operations grouped by tag; other types (AsyncAPI, GraphQL, gRPC, …) are
//! shown as text.

use crate::model::{ApiDefinition, Operation, OperationGroup, Parameter};
use serde_json::Value;

/// Largest definition parsed; bigger ones are only shown as (cut) text.
const MAX_PARSED: usize = 4 * 1024 * 1024;
/// Most text of the raw definition sent to the page.
const MAX_RAW: usize = 256 * 1024;
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub fn render(api_type: &str, definition: &str) -> ApiDefinition {
    let mut end = definition.len().min(MAX_RAW);
    while !definition.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = ApiDefinition {
        type_: api_type.to_owned(),
        title: None,
        version: None,
        description_html: None,
        servers: Vec::new(),
        groups: Vec::new(),
        problem: None,
        raw: definition[..end].to_owned(),
        raw_truncated: end < definition.len(),
    };
    if !api_type.eq_ignore_ascii_case("openapi") {
        return out;
    }
    if definition.len() > MAX_PARSED {
        out.problem = Some(format!(
            "The definition is {} bytes; only definitions up to {MAX_PARSED} bytes are read as OpenAPI.",
            definition.len()
        ));
        return out;
    }
    let doc: Value = match serde_saphyr::from_str(definition) {
        Ok(v) => v,
        Err(e) => {
            out.problem = Some(format!("The definition is not valid YAML or JSON: {e}"));
            return out;
        }
    };
    if !doc.is_object() || (doc.get("openapi").is_none() && doc.get("swagger").is_none()) {
        out.problem = Some("The definition has no `openapi` or `swagger` version field.".into());
        return out;
    }
    let info = &doc["info"];
    out.title = info["title"].as_str().map(str::to_owned);
    out.version = info["version"].as_str().map(str::to_owned);
    out.description_html = info["description"]
        .as_str()
        .filter(|d| !d.trim().is_empty())
        .map(super::markdown::to_safe_html);
    if let Some(servers) = doc["servers"].as_array() {
        out.servers = servers
            .iter()
            .filter_map(|s| s["url"].as_str().map(str::to_owned))
            .collect();
    } else if let Some(host) = doc["host"].as_str() {
        let scheme = doc["schemes"][0].as_str().unwrap_or("https");
        let base = doc["basePath"].as_str().unwrap_or("");
        out.servers.push(format!("{scheme}://{host}{base}"));
    }
    let mut groups: Vec<OperationGroup> = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let shared = parameters(&doc, &item["parameters"]);
            for method in METHODS {
                let Some(op) = item.get(method).filter(|o| o.is_object()) else {
                    continue;
                };
                let mut params = shared.clone();
                for p in parameters(&doc, &op["parameters"]) {
                    params.retain(|q: &Parameter| !(q.name == p.name && q.location == p.location));
                    params.push(p);
                }
                let request_body = op["requestBody"]["content"]
                    .as_object()
                    .map(|c| c.keys().cloned().collect::<Vec<_>>().join(", "))
                    .filter(|s| !s.is_empty());
                let responses = op["responses"]
                    .as_object()
                    .map(|r| {
                        r.iter()
                            .map(|(code, resp)| {
                                let resp = resolve(&doc, resp);
                                (
                                    code.clone(),
                                    resp["description"].as_str().unwrap_or("").to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let tag = op["tags"][0].as_str().unwrap_or("default").to_owned();
                let operation = Operation {
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    summary: op["summary"]
                        .as_str()
                        .or(op["description"].as_str())
                        .map(|s| s.lines().next().unwrap_or("").to_owned()),
                    operation_id: op["operationId"].as_str().map(str::to_owned),
                    deprecated: op["deprecated"].as_bool().unwrap_or(false),
                    parameters: params,
                    request_body,
                    responses,
                };
                match groups.iter_mut().find(|g| g.tag == tag) {
                    Some(g) => g.operations.push(operation),
                    None => groups.push(OperationGroup {
                        tag,
                        operations: vec![operation],
                    }),
                }
            }
        }
    }
    if groups.is_empty() {
        out.problem = Some("The definition declares no operations.".into());
    }
    out.groups = groups;
    out
}

/// Follows a local `$ref` (`#/components/parameters/Id`), one level.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn parameters(doc: &Value, list: &Value) -> Vec<Parameter> {
    list.as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| resolve(doc, p))
                .filter_map(|p| {
                    Some(Parameter {
                        name: p["name"].as_str()?.to_owned(),
                        location: p["in"].as_str().unwrap_or("query").to_owned(),
                        required: p["required"].as_bool().unwrap_or(false),
                        description: p["description"].as_str().map(str::to_owned),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_operations_are_listed_by_tag() {
        let def = r##"
openapi: 3.0.0
info: { title: Orders, version: 1.2.0, description: "Takes **orders**" }
servers: [{ url: "https://api.example.com/v1" }]
components:
  parameters:
    Id: { name: id, in: path, required: true }
paths:
  /orders:
    get:
      tags: [orders]
      summary: List orders
      parameters: [{ name: limit, in: query }]
      responses: { "200": { description: OK } }
    post:
      tags: [orders]
      operationId: createOrder
      requestBody: { content: { application/json: {} } }
      responses: { "201": { description: Created } }
  /orders/{id}:
    parameters: [{ $ref: "#/components/parameters/Id" }]
    delete:
      deprecated: true
      responses: { "204": { description: Gone } }
"##;
        let api = render("openapi", def);
        assert_eq!(api.problem, None);
        assert_eq!(api.title.as_deref(), Some("Orders"));
        assert_eq!(api.servers, vec!["https://api.example.com/v1"]);
        assert!(
            api.description_html
                .unwrap()
                .contains("<strong>orders</strong>")
        );
        assert_eq!(api.groups.len(), 2);
        let orders = &api.groups[0];
        assert_eq!(orders.tag, "orders");
        assert_eq!(orders.operations.len(), 2);
        assert_eq!(
            orders.operations[1].request_body.as_deref(),
            Some("application/json")
        );
        let delete = &api.groups[1].operations[0];
        assert_eq!(
            (delete.method.as_str(), delete.deprecated),
            ("DELETE", true)
        );
        assert_eq!(delete.parameters[0].name, "id");
        assert!(delete.parameters[0].required);
    }

    #[test]
    fn other_types_and_broken_definitions_are_shown_as_text() {
        let api = render("graphql", "type Query { a: Int }");
        assert!(api.groups.is_empty() && api.problem.is_none());
        let api = render("openapi", "openapi: [unclosed");
        assert!(api.problem.is_some());
        assert_eq!(api.raw, "openapi: [unclosed");
    }
}
