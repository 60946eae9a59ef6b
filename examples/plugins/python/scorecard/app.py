"""Scorecard: a Portal UI panel written in Python.

It checks an entity against a few catalog-hygiene rules (owner, description,
lifecycle, tags, docs, links, system) and shows a score with one row per check.
Built into a WebAssembly component with componentize-py; see README.md.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import meta, panel
from wit_world.imports import log, types

VERSION = "1.0.0"


def check_rules(entity):
    """Returns (name, passed, hint) for every rule."""
    metadata = entity.get("metadata") or {}
    spec = entity.get("spec") or {}
    annotations = metadata.get("annotations") or {}
    return [
        ("Has an owner", bool(spec.get("owner")), "set spec.owner"),
        ("Has a description", len(metadata.get("description") or "") >= 20,
         "write a description of 20+ characters"),
        ("Has a lifecycle", spec.get("lifecycle") in ("experimental", "production", "deprecated"),
         "set spec.lifecycle"),
        ("Has tags", len(metadata.get("tags") or []) > 0, "add metadata.tags"),
        ("Has docs", "backstage.io/techdocs-ref" in annotations,
         "add the backstage.io/techdocs-ref annotation"),
        ("Has links", len(metadata.get("links") or []) > 0, "add metadata.links"),
        ("Belongs to a system", bool(spec.get("system")), "set spec.system"),
    ]


class Meta(exports.Meta):
    def describe(self) -> meta.PluginInfo:
        return meta.PluginInfo(
            name="scorecard",
            version=VERSION,
            description="Catalog hygiene score for an entity (Python example)",
            panels=[
                meta.PanelInfo(
                    id="hygiene",
                    title="Scorecard",
                    placement=meta.PanelPlacement.CARD,
                    applies_to="kind=component",
                )
            ],
            providers=[],
            actions=[],
            requests=meta.CapabilityRequests(
                http_hosts=[], secrets=[], config_keys=[], catalog_read=False, storage=False
            ),
        )


class View:
    """Collects nodes; each method returns the new node's index."""

    def __init__(self):
        self.nodes = []

    def add(self, node):
        self.nodes.append(node)
        return len(self.nodes) - 1

    def text(self, value):
        return self.add(panel.Node_Text(value))

    def badge(self, label, tone):
        return self.add(panel.Node_Badge(panel.Badge(label, tone)))

    def stat(self, label, value, tone):
        return self.add(panel.Node_Stat(panel.Stat(label, value, tone)))


class Panel(exports.Panel):
    def render(self, request: panel.RenderRequest) -> panel.View:
        try:
            entity = json.loads(request.entity)
        except ValueError as e:
            raise Err(types.PluginError(code="bad-entity", message=f"entity is not JSON: {e}"))
        results = check_rules(entity)
        passed = sum(1 for _, ok, _ in results if ok)
        score = round(100 * passed / len(results))
        tone = panel.Tone.SUCCESS if score >= 80 else panel.Tone.WARNING if score >= 50 else panel.Tone.DANGER
        log.log(log.Level.DEBUG, f"{entity.get('metadata', {}).get('name')}: {score}%")

        view = View()
        stat = view.stat("Score", f"{score}%", tone)
        rows = []
        for name, ok, hint in results:
            rows.append([
                view.text(name),
                view.badge("pass" if ok else "fail", panel.Tone.SUCCESS if ok else panel.Tone.DANGER),
                view.text("" if ok else hint),
            ])
        table = view.add(panel.Node_Table(panel.Table(["Check", "Result", "How to fix"], rows)))
        footer = view.text(f"scorecard {VERSION}: {passed} of {len(results)} checks pass")
        card = view.add(panel.Node_Card(panel.Card("Scorecard", [stat, table, footer])))
        return panel.View(nodes=view.nodes, root=card)
