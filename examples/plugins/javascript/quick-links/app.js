// Quick links: a Portal UI panel written in JavaScript.
//
// It gathers the links people look for on an entity page — the entity's own
// `metadata.links`, its source and docs, and well-known tool annotations
// (PagerDuty, Sentry, Grafana, Kubernetes) — into one card.
// Built into a WebAssembly component with componentize-js; see README.md.

import { log } from 'portal:plugin/log@1.1.0';

const VERSION = '1.0.0';

// Annotation → [label, how to turn its value into a URL].
const TOOLS = {
  'backstage.io/source-location': ['Source', (v) => v.replace(/^url:/, '')],
  'backstage.io/view-url': ['View definition', (v) => v],
  'pagerduty.com/service-id': ['On-call (PagerDuty)', (v) => `https://app.pagerduty.com/service-directory/${v}`],
  'sentry.io/project-slug': ['Errors (Sentry)', (v) => `https://sentry.io/organizations/${v.split('/')[0]}/projects/${v.split('/')[1] ?? v}/`],
  'grafana/dashboard-selector': ['Dashboards (Grafana)', (v) => `https://grafana.com/dashboards?query=${encodeURIComponent(v)}`],
  'github.com/project-slug': ['Repository (GitHub)', (v) => `https://github.com/${v}`],
};

function isSafeUrl(url) {
  return /^https?:\/\//i.test(url) || (url.startsWith('/') && !url.startsWith('//'));
}

export const meta = {
  describe() {
    return {
      name: 'quick-links',
      version: VERSION,
      description: 'Links to an entity’s tools and docs in one card (JavaScript example)',
      panels: [{ id: 'links', title: 'Quick links', placement: 'card', appliesTo: '' }],
      providers: [],
      actions: [],
      requests: { httpHosts: [], secrets: [], configKeys: [], catalogRead: false, storage: false },
    };
  },
};

export const panel = {
  render(request) {
    let entity;
    try {
      entity = JSON.parse(request.entity);
    } catch (e) {
      throw { code: 'bad-entity', message: `entity is not JSON: ${e}` };
    }
    const metadata = entity.metadata ?? {};
    const annotations = metadata.annotations ?? {};
    const nodes = [];
    const add = (node) => nodes.push(node) - 1;

    const links = [];
    for (const link of metadata.links ?? []) {
      if (link.url && isSafeUrl(link.url)) {
        links.push(add({ tag: 'link', val: { label: link.title ?? link.url, url: link.url } }));
      }
    }
    for (const [annotation, [label, toUrl]] of Object.entries(TOOLS)) {
      const value = annotations[annotation];
      if (value) {
        const url = toUrl(value);
        if (isSafeUrl(url)) links.push(add({ tag: 'link', val: { label, url } }));
      }
    }
    if (annotations['backstage.io/techdocs-ref']) {
      const ns = metadata.namespace ?? 'default';
      const path = `/docs/${ns}/${String(entity.kind).toLowerCase()}/${metadata.name}`;
      links.push(add({ tag: 'link', val: { label: 'Documentation', url: path } }));
    }
    log('debug', `${metadata.name}: ${links.length} links`);

    const body = links.length
      ? add({ tag: 'stack', val: links })
      : add({ tag: 'empty', val: 'No links yet: add metadata.links or tool annotations.' });
    const footer = add({ tag: 'text', val: `quick-links ${VERSION}: ${links.length} links` });
    const card = add({ tag: 'card', val: { title: 'Quick links', children: [body, footer] } });
    return { nodes, root: card };
  },
};
