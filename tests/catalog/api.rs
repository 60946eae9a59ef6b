//! Every endpoint and filter form over HTTP, error bodies included, and the
//! relations the fixture's spec fields generate.

use crate::{Store, assert_error, fixture_portal_on, get, names, on_each_store, post};
use serde_json::{Value, json};

fn relations(entity: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = entity["relations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_owned(),
                r["targetRef"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

on_each_store!(
    entities_filters_fields_order_pagination_and_errors,
    by_name_uid_refs_ancestry_and_relations,
    by_query_predicates_cursors_facets,
    locations_refresh_validate_analyze,
);

fn entities_filters_fields_order_pagination_and_errors(store: Store) {
    let (_dir, portal) = fixture_portal_on(&store);
    let list = |q: &str| {
        let (status, body) = get(&portal, &format!("/api/catalog/entities{q}"));
        assert_eq!(status, 200, "{q}: {body}");
        body
    };
    assert_eq!(list("").as_array().unwrap().len(), 12);
    // Comma = AND, case-insensitive keys and values.
    assert_eq!(
        names(&list("?filter=KIND=component,spec.type=SERVICE")),
        ["api-gateway", "orders", "payments"]
    );
    // Repeated filter = OR.
    assert_eq!(
        list("?filter=kind=group&filter=kind=user")
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // Same key twice in one filter = any of the values.
    assert_eq!(
        names(&list(
            "?filter=kind=component,metadata.name=web,metadata.name=orders"
        )),
        ["orders", "web"]
    );
    // Existence, array items as keys, relations, implicit namespace.
    assert_eq!(
        names(&list("?filter=kind=component,spec.system")),
        ["orders", "payments"]
    );
    assert_eq!(names(&list("?filter=metadata.tags.java")), ["payments"]);
    assert_eq!(names(&list("?filter=metadata.tags=java")), ["payments"]);
    assert_eq!(
        names(&list("?filter=relations.ownedby=group:default/team-a")),
        ["orders", "payments", "payments-api", "shop"]
    );
    assert_eq!(
        names(&list(
            "?filter=relations.dependsOn=component:default/payments"
        )),
        ["orders"]
    );
    // The few-to-many direction (read from the inverse edges, not indexed).
    assert_eq!(
        names(&list("?filter=relations.ownerOf=component:default/orders")),
        ["team-a"]
    );
    assert_eq!(
        names(&list(
            "?filter=relations.DEPENDENCYOF=component:default/orders"
        )),
        ["payments"]
    );
    assert_eq!(
        names(&list("?filter=kind=group,relations.ownerOf")),
        ["team-a", "team-b"]
    );
    assert_eq!(
        list("?filter=metadata.namespace=default")
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert_eq!(list("?filter=kind=nothing").as_array().unwrap().len(), 0);
    // fields
    let projected = list("?filter=kind=component&fields=kind,metadata.name");
    for e in projected.as_array().unwrap() {
        assert_eq!(e.as_object().unwrap().len(), 2, "{e}");
        assert_eq!(e["metadata"].as_object().unwrap().len(), 1, "{e}");
    }
    let annotated = list(
        "?filter=metadata.name=payments&fields=metadata.annotations.backstage.io/managed-by-location",
    );
    assert!(
        annotated[0]["metadata"]["annotations"]["backstage.io/managed-by-location"]
            .as_str()
            .unwrap()
            .ends_with("components.yaml")
    );
    // order + limit/offset + Link header
    let ordered = list("?filter=kind=component&order=desc:metadata.name");
    let ordered_names: Vec<&str> = ordered
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(ordered_names, ["web", "payments", "orders", "api-gateway"]);
    let r = portal
        .get("/api/catalog/entities?filter=kind=component&order=asc:metadata.name&limit=3")
        .send()
        .unwrap();
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("rel=\"next\"") && link.contains("after="),
        "{link}"
    );
    let page: Value = r.json().unwrap();
    assert_eq!(page.as_array().unwrap().len(), 3);
    let next_path = &link[1..link.find('>').unwrap()];
    let (_, next) = get(&portal, next_path);
    assert_eq!(names(&next), ["web"]);
    let offset = list("?filter=kind=component&order=asc:metadata.name&offset=3");
    assert_eq!(names(&offset), ["web"]);

    // Errors in Backstage's shape.
    let (s, b) = get(&portal, "/api/catalog/entities?fields=spec.steps[0]");
    assert_error(s, &b, 400, "InputError");
    let (s, b) = get(&portal, "/api/catalog/entities?limit=-1");
    assert_error(s, &b, 400, "InputError");
    let (s, b) = get(
        &portal,
        "/api/catalog/entities?order=sideways:metadata.name",
    );
    assert_error(s, &b, 400, "InputError");
    let (s, b) = get(&portal, "/api/catalog/entities?filter==x");
    assert_error(s, &b, 400, "InputError");
}

fn by_name_uid_refs_ancestry_and_relations(store: Store) {
    let (_dir, portal) = fixture_portal_on(&store);
    let (s, payments) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/payments",
    );
    assert_eq!(s, 200);
    assert_eq!(payments["metadata"]["namespace"], "default");
    assert!(payments["metadata"]["etag"].is_string());
    assert!(
        payments["status"]["lastConfirmedAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let annotations = &payments["metadata"]["annotations"];
    assert!(
        annotations["backstage.io/managed-by-location"]
            .as_str()
            .unwrap()
            .starts_with("file:/")
    );
    assert!(
        annotations["backstage.io/managed-by-origin-location"]
            .as_str()
            .unwrap()
            .ends_with("catalog-info.yaml")
    );
    assert_eq!(
        relations(&payments),
        pairs(&[
            ("ownedBy", "group:default/team-a"),
            ("partOf", "system:default/shop"),
            ("providesApi", "api:default/payments-api"),
            ("dependencyOf", "component:default/orders"),
        ])
    );
    // Case-insensitive lookup.
    let (s, _) = get(
        &portal,
        "/api/catalog/entities/by-name/Component/DEFAULT/Payments",
    );
    assert_eq!(s, 200);
    // Relations end to end, both directions, for every field in the fixture.
    let rel =
        |path: &str| relations(&get(&portal, &format!("/api/catalog/entities/by-name/{path}")).1);
    assert_eq!(
        rel("group/default/team-a"),
        pairs(&[
            ("hasMember", "user:default/jane"),
            ("ownerOf", "api:default/payments-api"),
            ("ownerOf", "component:default/orders"),
            ("ownerOf", "component:default/payments"),
            ("ownerOf", "system:default/shop"),
        ])
    );
    assert_eq!(
        rel("user/default/jane"),
        pairs(&[("memberOf", "group:default/team-a")])
    );
    assert_eq!(
        rel("api/default/payments-api"),
        pairs(&[
            ("apiProvidedBy", "component:default/payments"),
            ("ownedBy", "group:default/team-a"),
            ("partOf", "system:default/shop"),
        ])
    );
    assert_eq!(
        rel("system/default/shop"),
        pairs(&[
            ("hasPart", "api:default/payments-api"),
            ("hasPart", "component:default/orders"),
            ("hasPart", "component:default/payments"),
            ("ownedBy", "group:default/team-a"),
        ])
    );
    assert_eq!(
        rel("component/default/orders"),
        pairs(&[
            ("dependsOn", "component:default/payments"),
            ("ownedBy", "group:default/team-a"),
            ("partOf", "system:default/shop"),
        ])
    );
    // $text placeholder resolved relative to the file.
    let (_, api) = get(
        &portal,
        "/api/catalog/entities/by-name/api/default/payments-api",
    );
    assert!(
        api["spec"]["definition"]
            .as_str()
            .unwrap()
            .starts_with("openapi: 3.0.0")
    );

    let (s, b) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/nope",
    );
    assert_error(s, &b, 404, "NotFoundError");
    assert_eq!(
        b["error"]["message"],
        "No entity named 'nope' found, with kind 'component' in namespace 'default'"
    );
    assert_eq!(b["request"]["method"], "GET");
    assert_eq!(
        b["request"]["url"],
        "/api/catalog/entities/by-name/component/default/nope"
    );

    let uid = payments["metadata"]["uid"].as_str().unwrap();
    let (s, by_uid) = get(&portal, &format!("/api/catalog/entities/by-uid/{uid}"));
    assert_eq!(s, 200);
    assert_eq!(by_uid["metadata"]["name"], "payments");
    let (s, b) = get(&portal, "/api/catalog/entities/by-uid/no-such-uid");
    assert_error(s, &b, 404, "NotFoundError");

    let (s, b) = post(
        &portal,
        "/api/catalog/entities/by-refs",
        &json!({"entityRefs": ["component:default/web", "component:nope", "user:jane"], "fields": ["metadata.name"]}),
    );
    assert_eq!(s, 200);
    assert_eq!(
        b,
        json!({"items": [{"metadata": {"name": "web"}}, null, {"metadata": {"name": "jane"}}]})
    );
    let (s, b) = post(
        &portal,
        "/api/catalog/entities/by-refs?filter=kind=user",
        &json!({"entityRefs": ["component:default/web", "user:jane"]}),
    );
    assert_eq!(s, 200);
    assert!(b["items"][0].is_null() && b["items"][1].is_object());
    let (s, b) = post(
        &portal,
        "/api/catalog/entities/by-refs",
        &json!({"refs": []}),
    );
    assert_error(s, &b, 400, "InputError");
    // Non-JSON bodies are a 400 InputError.
    let r = portal
        .post("/api/catalog/entities/by-refs")
        .body("entityRefs=x")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let b: Value = r.json().unwrap();
    assert_eq!(b["error"]["name"], "InputError");

    let (s, anc) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/payments/ancestry",
    );
    assert_eq!(s, 200);
    assert_eq!(anc["rootEntityRef"], "component:default/payments");
    let items = anc["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{anc}");
    assert_eq!(
        items[0]["parentEntityRefs"],
        json!(["location:default/fixture"])
    );
    assert_eq!(items[2]["parentEntityRefs"], json!([]));
    let (s, b) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/nope/ancestry",
    );
    assert_error(s, &b, 404, "NotFoundError");
}

fn by_query_predicates_cursors_facets(store: Store) {
    let (_dir, portal) = fixture_portal_on(&store);
    let (s, first) = get(
        &portal,
        "/api/catalog/entities/by-query?filter=kind=component&orderField=metadata.name,desc&limit=3&fields=metadata.name",
    );
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["totalItems"], 4);
    assert_eq!(first["items"][0], json!({"metadata": {"name": "web"}}));
    let cursor = first["pageInfo"]["nextCursor"].as_str().unwrap();
    assert!(first["pageInfo"]["prevCursor"].is_null());
    use base64::Engine;
    let decoded: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(cursor)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        decoded["orderFields"],
        json!([{"field": "metadata.name", "order": "desc"}])
    );
    assert_eq!(decoded["isPrevious"], false);
    assert!(
        decoded.get("query").is_none(),
        "a GET cursor must not carry `query`: {decoded}"
    );
    let (_, second) = get(
        &portal,
        &format!(
            "/api/catalog/entities/by-query?cursor={}",
            urlencode(cursor)
        ),
    );
    assert_eq!(names(&second["items"]), ["api-gateway"]);
    let prev = second["pageInfo"]["prevCursor"].as_str().unwrap();
    let (_, back) = get(
        &portal,
        &format!(
            "/api/catalog/entities/by-query?cursor={}&limit=3",
            urlencode(prev)
        ),
    );
    assert_eq!(names(&back["items"]), ["orders", "payments", "web"]);
    // Entities without the order field are left out.
    let (_, sys) = get(
        &portal,
        "/api/catalog/entities/by-query?orderField=spec.system,asc",
    );
    assert_eq!(sys["totalItems"], 3);
    // Full text.
    let (_, ft) = get(
        &portal,
        "/api/catalog/entities/by-query?filter=kind=component&fullTextFilterTerm=GATE&fullTextFilterFields=metadata.name",
    );
    assert_eq!(names(&ft["items"]), ["api-gateway"]);
    let (_, none) = get(
        &portal,
        "/api/catalog/entities/by-query?totalItems=exclude&limit=1",
    );
    assert_eq!(none["totalItems"], 0);

    // POST with the predicate language.
    let q = |query: Value| {
        let (s, b) = post(
            &portal,
            "/api/catalog/entities/by-query",
            &json!({"query": query, "limit": 100}),
        );
        assert_eq!(s, 200, "{b}");
        names(&b["items"])
    };
    assert_eq!(
        q(json!({"kind": "component", "spec.type": {"$in": ["website"]}})),
        ["web"]
    );
    assert_eq!(
        q(json!({"$any": [{"metadata.name": "web"}, {"metadata.name": "jane"}]})),
        ["jane", "web"]
    );
    assert_eq!(
        q(json!({"$all": [{"kind": "component"}, {"$not": {"spec.owner": "team-b"}}]})),
        ["orders", "payments"]
    );
    assert_eq!(
        q(json!({"kind": "component", "spec.system": {"$exists": false}})),
        ["api-gateway", "web"]
    );
    assert_eq!(
        q(json!({"metadata.tags": {"$contains": "java"}})),
        ["payments"]
    );
    assert_eq!(
        q(json!({"metadata.name": {"$hasPrefix": "PAY"}})),
        ["payments", "payments-api"]
    );
    assert_eq!(
        q(
            json!({"relations": {"$contains": {"type": "memberOf", "targetRef": {"$in": ["group:default/team-b"]}}}})
        ),
        ["joe"]
    );
    assert_eq!(q(json!({"$any": []})), Vec::<String>::new());
    let (s, paged) = post(
        &portal,
        "/api/catalog/entities/by-query",
        &json!({"query": {"kind": "component"}, "limit": 2, "orderBy": [{"field": "metadata.name", "order": "asc"}]}),
    );
    assert_eq!(s, 200);
    let cursor = paged["pageInfo"]["nextCursor"].as_str().unwrap();
    let decoded: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(cursor)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(decoded["query"], json!({"kind": "component"}));
    let (_, rest) = post(
        &portal,
        "/api/catalog/entities/by-query",
        &json!({"cursor": cursor}),
    );
    assert_eq!(names(&rest["items"]), ["payments", "web"]);

    let (s, b) = post(
        &portal,
        "/api/catalog/entities/by-query",
        &json!({"query": {"$bogus": 1}}),
    );
    assert_error(s, &b, 400, "InputError");
    let (s, b) = post(
        &portal,
        "/api/catalog/entities/by-query",
        &json!({"nope": 1}),
    );
    assert_error(s, &b, 400, "InputError");
    let (s, b) = get(&portal, "/api/catalog/entities/by-query?cursor=%%%");
    assert_error(s, &b, 400, "InputError");

    // Facets.
    let (s, f) = get(
        &portal,
        "/api/catalog/entity-facets?facet=spec.type&facet=kind&filter=kind=component",
    );
    assert_eq!(s, 200);
    assert_eq!(
        f["facets"]["kind"],
        json!([{"value": "Component", "count": 4}])
    );
    assert_eq!(
        f["facets"]["spec.type"],
        json!([{"value": "service", "count": 3}, {"value": "website", "count": 1}])
    );
    let (_, f) = get(
        &portal,
        "/api/catalog/entity-facets?facet=relations.ownedBy",
    );
    assert!(
        f["facets"]["relations.ownedBy"]
            .as_array()
            .unwrap()
            .contains(&json!({"value": "group:default/team-a", "count": 4}))
    );
    let (_, f) = get(
        &portal,
        "/api/catalog/entity-facets?facet=relations.ownerOf&filter=kind=group",
    );
    assert!(
        f["facets"]["relations.ownerOf"]
            .as_array()
            .unwrap()
            .contains(&json!({"value": "component:default/orders", "count": 1})),
        "{f}"
    );
    let (s, f) = post(
        &portal,
        "/api/catalog/entity-facets",
        &json!({"facets": ["metadata.tags"], "query": {"kind": "component"}}),
    );
    assert_eq!(s, 200);
    assert_eq!(
        f["facets"]["metadata.tags"],
        json!([{"value": "java", "count": 1}])
    );
    let (s, b) = get(&portal, "/api/catalog/entity-facets");
    assert_error(s, &b, 400, "InputError");
}

fn locations_refresh_validate_analyze(store: Store) {
    let (dir, portal) = fixture_portal_on(&store);
    let target = dir
        .path()
        .join("extra/catalog-info.yaml")
        .display()
        .to_string();
    let (s, dry) = post(
        &portal,
        "/api/catalog/locations?dryRun=true",
        &json!({"type": "file", "target": target}),
    );
    assert_eq!(s, 201, "{dry}");
    assert_eq!(dry["exists"], false);
    assert_eq!(names(&dry["entities"]).len(), 2, "{dry}");
    let (s, created) = post(
        &portal,
        "/api/catalog/locations",
        &json!({"type": "file", "target": target}),
    );
    assert_eq!(s, 201, "{created}");
    let id = created["location"]["id"].as_str().unwrap().to_owned();
    crate::wait_entity(&portal, "component/default/extra-service");
    let (s, b) = post(
        &portal,
        "/api/catalog/locations",
        &json!({"type": "file", "target": target}),
    );
    assert_error(s, &b, 409, "ConflictError");
    let (s, b) = post(
        &portal,
        "/api/catalog/locations",
        &json!({"type": "file", "target": target, "extra": 1}),
    );
    assert_error(s, &b, 400, "InputError");
    let (s, b) = post(
        &portal,
        "/api/catalog/locations",
        &json!({"type": "git", "target": "x"}),
    );
    assert_error(s, &b, 400, "InputError");
    let (s, list) = get(&portal, "/api/catalog/locations");
    assert_eq!(s, 200);
    assert_eq!(list[0]["data"]["id"], id.as_str());
    let (s, one) = get(&portal, &format!("/api/catalog/locations/{id}"));
    assert_eq!(s, 200);
    assert_eq!(one["target"], target.as_str());
    let (s, by_entity) = get(
        &portal,
        "/api/catalog/locations/by-entity/component/default/extra-service",
    );
    assert_eq!(s, 200);
    assert_eq!(by_entity["id"], id.as_str());
    let (s, b) = get(
        &portal,
        "/api/catalog/locations/by-entity/component/default/nope",
    );
    assert_error(s, &b, 404, "NotFoundError");
    let (s, q) = post(
        &portal,
        "/api/catalog/locations/by-query",
        &json!({"query": {"type": "file"}, "limit": 5}),
    );
    assert_eq!(s, 200);
    assert_eq!(q["totalItems"], 1);
    let (s, b) = get(&portal, "/api/catalog/locations/not-an-id");
    assert_error(s, &b, 404, "NotFoundError");

    // Refresh re-reads now: an edit is visible when it returns.
    let comp = dir.path().join("extra/catalog-info.yaml");
    std::fs::write(
        &comp,
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: extra-service, description: refreshed}\nspec: {type: service, lifecycle: production, owner: team-b}\n",
    )
    .unwrap();
    let (s, _) = post(
        &portal,
        "/api/catalog/refresh",
        &json!({"entityRef": "component:default/extra-service"}),
    );
    assert_eq!(s, 200);
    let e = crate::wait_entity(&portal, "component/default/extra-service");
    assert_eq!(e["metadata"]["description"], "refreshed");
    let (s, b) = post(
        &portal,
        "/api/catalog/refresh",
        &json!({"entityRef": "component:default/nope"}),
    );
    assert_error(s, &b, 404, "NotFoundError");

    // Delete by uid: 204, and back when still emitted.
    let uid = e["metadata"]["uid"].as_str().unwrap().to_owned();
    let r = portal.get("/").send().unwrap(); // keep-alive warm-up
    drop(r);
    let r = portal
        .delete(&format!("/api/catalog/entities/by-uid/{uid}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let back = portal_tests::wait_for(std::time::Duration::from_secs(20), || {
        let (s, b) = get(
            &portal,
            "/api/catalog/entities/by-name/component/default/extra-service",
        );
        (s == 200 && b["metadata"]["uid"] != uid.as_str()).then_some(b)
    });
    assert!(back.is_some(), "the entity did not come back");

    let r = portal
        .delete(&format!("/api/catalog/locations/{id}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    crate::wait_gone(&portal, "component/default/extra-service");
    let r = portal
        .delete(&format!("/api/catalog/locations/{id}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // validate-entity
    let good = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "x"}, "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}});
    let (s, _) = post(
        &portal,
        "/api/catalog/validate-entity",
        &json!({"entity": good, "location": "url:https://example.com/x.yaml"}),
    );
    assert_eq!(s, 200);
    let bad = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "-x-"}});
    let (s, b) = post(
        &portal,
        "/api/catalog/validate-entity",
        &json!({"entity": bad, "location": "url:https://example.com/x.yaml"}),
    );
    assert_eq!(s, 400);
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("metadata.name"),
        "{b}"
    );
    let (s, b) = post(
        &portal,
        "/api/catalog/validate-entity",
        &json!({"entity": good, "location": "file:/x.yaml"}),
    );
    assert_eq!(s, 400);
    assert!(
        b["errors"][0]["message"].as_str().unwrap().contains("url:"),
        "{b}"
    );

    // analyze-location
    let (s, a) = post(
        &portal,
        "/api/catalog/analyze-location",
        &json!({"location": {"type": "file", "target": dir.path().join("extra").display().to_string()}}),
    );
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        a["existingEntityFiles"][0]["entity"]["metadata"]["name"],
        "extra-service"
    );
    let (s, a) = post(
        &portal,
        "/api/catalog/analyze-location",
        &json!({"location": {"type": "file", "target": dir.path().join("empty-repo").display().to_string()}}),
    );
    assert_eq!(s, 200);
    assert_eq!(a["generateEntities"][0]["fields"][0]["field"], "spec.owner");

    // Unknown routes under the catalog are Backstage-shaped 404s.
    let (s, b) = get(&portal, "/api/catalog/nope");
    assert_error(s, &b, 404, "NotFoundError");
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
