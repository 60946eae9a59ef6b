use super::*;
use serde_json::json;

/// The shape of Backstage's documented example template.
fn example() -> Value {
    json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": "example-nodejs-template",
            "title": "Example Node.js Template",
            "description": "An example template for the scaffolder that creates a simple Node.js service"
        },
        "spec": {
            "owner": "user:guest",
            "type": "service",
            "parameters": [
                {
                    "title": "Fill in some steps",
                    "required": ["name"],
                    "properties": {
                        "name": {
                            "title": "Name",
                            "type": "string",
                            "description": "Unique name of the component",
                            "ui:autofocus": true,
                            "ui:options": { "rows": 5 }
                        }
                    }
                },
                {
                    "title": "Choose a location",
                    "required": ["repoUrl"],
                    "properties": {
                        "repoUrl": {
                            "title": "Repository Location",
                            "type": "string",
                            "ui:field": "RepoUrlPicker",
                            "ui:options": { "allowedHosts": ["github.com"] }
                        }
                    }
                }
            ],
            "steps": [
                {
                    "id": "fetch-base",
                    "name": "Fetch Base",
                    "action": "fetch:template",
                    "input": { "url": "./content", "values": { "name": "${{ parameters.name }}" } }
                },
                {
                    "id": "publish",
                    "name": "Publish",
                    "action": "publish:github",
                    "input": {
                        "description": "This is ${{ parameters.name }}",
                        "repoUrl": "${{ parameters.repoUrl }}"
                    }
                },
                {
                    "id": "register",
                    "name": "Register",
                    "action": "catalog:register",
                    "input": {
                        "repoContentsUrl": "${{ steps['publish'].output.repoContentsUrl }}",
                        "catalogInfoPath": "/catalog-info.yaml"
                    }
                },
                { "action": "debug:log", "if": "${{ parameters.debug }}" }
            ],
            "output": {
                "links": [
                    { "title": "Repository", "url": "${{ steps['publish'].output.remoteUrl }}" },
                    { "title": "Open in catalog", "icon": "catalog", "entityRef": "${{ steps['register'].output.entityRef }}" }
                ],
                "text": [{ "title": "Next", "content": "Merge the first pull request" }],
                "extra": "${{ parameters.name }}"
            }
        }
    })
}

#[test]
fn backstages_example_template_is_read_whole() {
    let template = Template::from_entity(&example()).unwrap();
    assert_eq!(template.name, "example-nodejs-template");
    assert_eq!(template.namespace, "default");
    assert_eq!(template.title.as_deref(), Some("Example Node.js Template"));
    assert_eq!(template.parameters.len(), 2);
    assert_eq!(
        template.parameters[1].title.as_deref(),
        Some("Choose a location")
    );
    assert_eq!(
        template.parameters[1].schema["properties"]["repoUrl"]["ui:field"],
        "RepoUrlPicker"
    );
    let ids: Vec<_> = template.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["fetch-base", "publish", "register", "step-4"]);
    assert_eq!(template.steps[3].name, "debug:log");
    assert_eq!(
        template.steps[3].condition,
        Some(json!("${{ parameters.debug }}"))
    );
    assert_eq!(
        template.actions(),
        [
            "fetch:template",
            "publish:github",
            "catalog:register",
            "debug:log"
        ]
    );
    assert_eq!(template.output.links.len(), 2);
    assert_eq!(template.output.links[1].icon.as_deref(), Some("catalog"));
    assert_eq!(template.output.text[0].title.as_deref(), Some("Next"));
    assert_eq!(template.output.other["extra"], "${{ parameters.name }}");
}

#[test]
fn one_schema_object_is_one_page() {
    let mut entity = example();
    entity["spec"]["parameters"] =
        json!({ "title": "All", "properties": { "a": { "type": "string" } } });
    let template = Template::from_entity(&entity).unwrap();
    assert_eq!(template.parameters.len(), 1);
    assert_eq!(template.parameters[0].title.as_deref(), Some("All"));
}

#[test]
fn every_problem_is_reported_at_its_place() {
    let entity = json!({
        "apiVersion": "backstage.io/v1beta2",
        "kind": "Template",
        "metadata": { "name": "broken" },
        "spec": {
            "parameters": [{ "properties": [] , "required": "name" }, "not a page"],
            "steps": [
                { "id": "a", "action": "fetch:plain" },
                { "id": "a", "action": "" },
                { "action": "x", "input": "text" },
                7
            ],
            "output": { "links": [{ "title": "nowhere" }], "text": "no" }
        }
    });
    let error = Template::from_entity(&entity).unwrap_err();
    let places: Vec<_> = error.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        places,
        [
            "apiVersion",
            "spec.parameters[0].properties",
            "spec.parameters[0].required",
            "spec.parameters[1]",
            "spec.steps[1].action",
            "spec.steps[1].id",
            "spec.steps[2].input",
            "spec.steps[3]",
            "spec.output.links[0]",
            "spec.output.text",
        ],
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("spec.steps[1].id: `a` is used by an earlier step"),
        "{error}"
    );
}

#[test]
fn a_template_without_spec_or_name_says_so() {
    let error = Template::from_entity(&json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Component",
        "metadata": {}
    }))
    .unwrap_err();
    let places: Vec<_> = error.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(places, ["kind", "metadata.name", "spec"]);
}

#[test]
fn the_parameter_schema_has_backstages_shape() {
    let template = Template::from_entity(&example()).unwrap();
    let schema = template.parameter_schema();
    assert_eq!(schema["title"], "Example Node.js Template");
    assert_eq!(schema["steps"].as_array().unwrap().len(), 2);
    assert_eq!(schema["steps"][0]["title"], "Fill in some steps");
    assert_eq!(schema["steps"][0]["schema"]["required"], json!(["name"]));
    assert_eq!(
        schema["steps"][1]["schema"]["properties"]["repoUrl"]["ui:options"]["allowedHosts"],
        json!(["github.com"])
    );
}

#[test]
fn expressions_that_do_not_parse_are_found_at_their_place() {
    let templater = Templater::default();
    let template = Template::from_entity(&example()).unwrap();
    assert!(template.check_expressions(&templater).is_empty());
    let mut entity = example();
    entity["spec"]["steps"][1]["input"]["repoUrl"] = json!("${{ parameters.repoUrl | }}");
    entity["spec"]["steps"][3]["if"] = json!("${{ parameters.debug == }}");
    entity["spec"]["output"]["links"][0]["url"] = json!("{% for %}");
    let template = Template::from_entity(&entity).unwrap();
    let places: Vec<_> = template
        .check_expressions(&templater)
        .into_iter()
        .map(|e| e.place)
        .collect();
    assert_eq!(
        places,
        [
            "spec.steps[1].input.repoUrl",
            "spec.steps[3].if",
            "spec.output.links[0].url"
        ]
    );
}
