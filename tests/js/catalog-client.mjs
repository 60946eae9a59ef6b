// Backstage's official catalog client (@backstage/catalog-client from npm),
// unchanged, against a running portal: every CatalogClient method.
//
// Usage: PORTAL_URL=http://127.0.0.1:PORT FIXTURE_DIR=/abs/dir node catalog-client.mjs
// The portal must serve the fixture catalog written by tests/catalog/client.rs.
// Exits non-zero when any check fails.

import assert from 'node:assert/strict';
import { CatalogClient, CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';

const base = process.env.PORTAL_URL;
const fixtureDir = process.env.FIXTURE_DIR;
if (!base || !fixtureDir) {
  console.error('PORTAL_URL and FIXTURE_DIR must be set');
  process.exit(2);
}

const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${base}/api/catalog` },
});

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
  }
}
const names = items => items.map(e => e.metadata.name);
const sleep = ms => new Promise(r => setTimeout(r, ms));
async function eventually(fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

await check('getEntities: everything, bare array', async () => {
  const { items } = await client.getEntities();
  assert.ok(items.length >= 12, `got ${items.length}`);
  for (const e of items) {
    assert.ok(e.apiVersion && e.kind && e.metadata.name && e.metadata.uid);
    assert.ok(Array.isArray(e.relations));
  }
});

await check('getEntities: filter (object = AND, list = OR, array value = any, EXISTS)', async () => {
  let { items } = await client.getEntities({ filter: { kind: 'Component', 'spec.type': 'service' } });
  assert.deepEqual(names(items).sort(), ['api-gateway', 'orders', 'payments']);
  ({ items } = await client.getEntities({ filter: [{ kind: 'group' }, { kind: 'user' }] }));
  assert.equal(items.length, 4);
  ({ items } = await client.getEntities({ filter: { kind: 'component', 'metadata.name': ['orders', 'web'] } }));
  assert.deepEqual(names(items).sort(), ['orders', 'web']);
  ({ items } = await client.getEntities({ filter: { kind: 'component', 'spec.system': CATALOG_FILTER_EXISTS } }));
  assert.deepEqual(names(items).sort(), ['orders', 'payments']);
  ({ items } = await client.getEntities({ filter: { 'metadata.tags.java': CATALOG_FILTER_EXISTS } }));
  assert.deepEqual(names(items), ['payments']);
  ({ items } = await client.getEntities({ filter: { 'relations.ownedBy': 'group:default/team-a' } }));
  assert.deepEqual(names(items).sort(), ['orders', 'payments', 'payments-api', 'shop']);
});

await check('getEntities: fields, order, limit/offset, after', async () => {
  let { items } = await client.getEntities({
    filter: { kind: 'component' },
    fields: ['metadata.name', 'kind'],
    order: { field: 'metadata.name', order: 'desc' },
  });
  assert.deepEqual(items[0], { kind: 'Component', metadata: { name: 'web' } });
  assert.deepEqual(names(items), ['web', 'payments', 'orders', 'api-gateway']);
  ({ items } = await client.getEntities({
    filter: { kind: 'component' },
    order: [{ field: 'metadata.name', order: 'asc' }],
    limit: 2,
    offset: 1,
  }));
  assert.deepEqual(names(items), ['orders', 'payments']);
  const res = await fetch(`${base}/api/catalog/entities?filter=kind=component&order=asc:metadata.name&limit=2`);
  const link = res.headers.get('link');
  assert.match(link, /rel="next"/);
  const after = new URL(link.slice(1, link.indexOf('>')), base).searchParams.get('after');
  ({ items } = await client.getEntities({ filter: { kind: 'component' }, order: { field: 'metadata.name', order: 'asc' }, after }));
  assert.deepEqual(names(items), ['payments', 'web']);
});

await check('getEntitiesByRefs: order kept, undefined holes, fields, filter, query', async () => {
  let { items } = await client.getEntitiesByRefs({
    entityRefs: ['component:default/web', 'component:default/nope', 'group:team-a'],
  });
  assert.equal(items.length, 3);
  assert.equal(items[0].metadata.name, 'web');
  assert.equal(items[1], undefined);
  assert.equal(items[2].metadata.name, 'team-a');
  ({ items } = await client.getEntitiesByRefs({
    entityRefs: ['component:default/web', 'group:default/team-a'],
    fields: ['metadata.name'],
    filter: { kind: 'group' },
  }));
  assert.deepEqual(items, [undefined, { metadata: { name: 'team-a' } }]);
  ({ items } = await client.getEntitiesByRefs({
    entityRefs: ['component:default/web', 'component:default/orders'],
    query: { 'spec.type': 'service' },
  }));
  assert.equal(items[0], undefined);
  assert.equal(items[1].metadata.name, 'orders');
});

await check('queryEntities: filter, order, totalItems, cursors both ways', async () => {
  const first = await client.queryEntities({
    filter: { kind: 'component' },
    orderFields: { field: 'metadata.name', order: 'asc' },
    limit: 3,
  });
  assert.equal(first.totalItems, 4);
  assert.deepEqual(names(first.items), ['api-gateway', 'orders', 'payments']);
  assert.ok(first.pageInfo.nextCursor);
  assert.equal(first.pageInfo.prevCursor, undefined);
  const second = await client.queryEntities({ cursor: first.pageInfo.nextCursor });
  assert.deepEqual(names(second.items), ['web']);
  assert.equal(second.pageInfo.nextCursor, undefined);
  assert.ok(second.pageInfo.prevCursor);
  const back = await client.queryEntities({ cursor: second.pageInfo.prevCursor, limit: 3 });
  assert.deepEqual(names(back.items), ['api-gateway', 'orders', 'payments']);
  const excluded = await client.queryEntities({ filter: { kind: 'component' }, totalItems: 'exclude', limit: 1 });
  assert.equal(excluded.totalItems, 0);
  assert.equal(excluded.items.length, 1);
});

await check('queryEntities: full-text filter and fields', async () => {
  const res = await client.queryEntities({
    filter: { kind: 'component' },
    fullTextFilter: { term: 'PAY', fields: ['metadata.name', 'spec.type'] },
    fields: ['metadata.name'],
  });
  assert.deepEqual(res.items, [{ metadata: { name: 'payments' } }]);
  assert.equal(res.totalItems, 1);
});

await check('queryEntities with a predicate query (POST), cursor carries the query', async () => {
  const first = await client.queryEntities({
    query: {
      $all: [
        { kind: 'component' },
        { $not: { 'spec.lifecycle': 'experimental' } },
        { 'metadata.name': { $hasPrefix: 'p' } },
      ],
    },
    orderFields: { field: 'metadata.name', order: 'desc' },
    limit: 1,
  });
  assert.equal(first.totalItems, 1);
  assert.deepEqual(names(first.items), ['payments']);
  const withMore = await client.queryEntities({
    query: { kind: { $in: ['component', 'api'] }, relations: { $contains: { type: 'ownedBy', targetRef: 'group:default/team-a' } } },
    limit: 1,
  });
  assert.equal(withMore.totalItems, 3);
  const decoded = JSON.parse(atob(withMore.pageInfo.nextCursor));
  assert.ok('query' in decoded, 'a POST cursor carries the query');
  const next = await client.queryEntities({ cursor: withMore.pageInfo.nextCursor, limit: 5 });
  assert.equal(next.items.length, 2);
  const exists = await client.queryEntities({ query: { 'spec.system': { $exists: true } } });
  assert.deepEqual(names(exists.items).sort(), ['orders', 'payments', 'payments-api']);
});

await check('streamEntities: pages until done', async () => {
  const seen = [];
  for await (const page of client.streamEntities({ filter: { kind: 'component' }, pageSize: 1 })) {
    assert.equal(page.length, 1);
    seen.push(...names(page));
  }
  assert.deepEqual(seen.sort(), ['api-gateway', 'orders', 'payments', 'web']);
});

await check('getEntityByRef / getEntityByName', async () => {
  const e = await client.getEntityByRef('component:default/payments');
  assert.equal(e.spec.owner, 'team-a');
  assert.ok(e.relations.some(r => r.type === 'ownedBy' && r.targetRef === 'group:default/team-a'));
  assert.ok(e.relations.some(r => r.type === 'partOf' && r.targetRef === 'system:default/shop'));
  assert.ok(e.relations.some(r => r.type === 'providesApi' && r.targetRef === 'api:default/payments-api'));
  assert.equal(typeof e.status.lastConfirmedAt, 'string');
  assert.equal(await client.getEntityByRef('component:default/nope'), undefined);
  const byName = await client.getEntityByName({ kind: 'Group', namespace: 'default', name: 'team-a' });
  assert.ok(byName.relations.some(r => r.type === 'ownerOf' && r.targetRef === 'component:default/payments'));
  assert.ok(byName.relations.some(r => r.type === 'hasMember' && r.targetRef === 'user:default/jane'));
});

await check('getEntityAncestors', async () => {
  const res = await client.getEntityAncestors({ entityRef: 'component:default/payments' });
  assert.equal(res.rootEntityRef, 'component:default/payments');
  assert.equal(res.items.length, 3);
  assert.equal(res.items[0].entity.metadata.name, 'payments');
  assert.deepEqual(res.items[0].parentEntityRefs, ['location:default/fixture']);
  assert.equal(res.items[1].entity.metadata.name, 'fixture');
  assert.match(res.items[1].parentEntityRefs[0], /^location:default\/generated-[0-9a-f]{40}$/);
  assert.deepEqual(res.items[2].parentEntityRefs, []);
});

await check('getEntityFacets: GET with filter, POST with query', async () => {
  let res = await client.getEntityFacets({ facets: ['spec.type', 'kind'], filter: { kind: 'component' } });
  const types = Object.fromEntries(res.facets['spec.type'].map(f => [f.value, f.count]));
  assert.deepEqual(types, { service: 3, website: 1 });
  assert.deepEqual(res.facets.kind, [{ value: 'Component', count: 4 }]);
  res = await client.getEntityFacets({ facets: ['metadata.tags'], query: { kind: 'component' } });
  assert.ok(res.facets['metadata.tags'].some(f => f.value === 'java' && f.count === 1));
});

await check('refreshEntity', async () => {
  await client.refreshEntity('component:default/payments');
  await assert.rejects(client.refreshEntity('component:default/nope'), e => e.response?.status === 404 || /404|NotFound/.test(String(e)));
});

await check('validateEntity: valid and invalid', async () => {
  const ok = await client.validateEntity(
    { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'x' }, spec: { type: 'service', lifecycle: 'production', owner: 'team-a' } },
    'url:https://example.com/catalog-info.yaml',
  );
  assert.deepEqual(ok, { valid: true });
  const bad = await client.validateEntity(
    { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'not valid!' }, spec: {} },
    'url:https://example.com/catalog-info.yaml',
  );
  assert.equal(bad.valid, false);
  assert.ok(bad.errors.length >= 1);
  assert.ok(bad.errors[0].name && bad.errors[0].message);
});

let addedId;
await check('addLocation: dry run, real, conflict', async () => {
  const target = `${fixtureDir}/extra/catalog-info.yaml`;
  const dry = await client.addLocation({ type: 'file', target, dryRun: true });
  assert.equal(dry.exists, false);
  assert.ok(dry.entities.some(e => e.metadata.name === 'extra-service'));
  assert.equal(await client.getEntityByRef('component:default/extra-service'), undefined, 'dry run stores nothing');
  const added = await client.addLocation({ type: 'file', target });
  addedId = added.location.id;
  assert.equal(added.location.type, 'file');
  assert.equal(added.location.target, target);
  assert.match(added.location.entityRef, /^location:default\/generated-/);
  await eventually(async () => assert.ok(await client.getEntityByRef('component:default/extra-service')));
  await assert.rejects(client.addLocation({ type: 'file', target }), e => e.response?.status === 409);
  const again = await client.addLocation({ type: 'file', target, dryRun: true });
  assert.equal(again.exists, true);
});

await check('getLocations / getLocationById / getLocationByRef / getLocationByEntity', async () => {
  const { items } = await client.getLocations();
  assert.ok(items.some(l => l.id === addedId));
  const one = await client.getLocationById(addedId);
  assert.equal(one.id, addedId);
  assert.equal(await client.getLocationById('00000000-0000-0000-0000-000000000000'), undefined);
  const byRef = await client.getLocationByRef(`file:${fixtureDir}/extra/catalog-info.yaml`);
  assert.equal(byRef.id, addedId);
  const byEntity = await client.getLocationByEntity('component:default/extra-service');
  assert.equal(byEntity.id, addedId);
});

await check('queryLocations / streamLocations', async () => {
  const res = await client.queryLocations({ limit: 10, query: { type: 'file' } });
  assert.ok(res.totalItems >= 1);
  assert.ok(res.items.some(l => l.id === addedId));
  const seen = [];
  for await (const page of client.streamLocations({})) seen.push(...page);
  assert.ok(seen.some(l => l.id === addedId));
});

await check('updateLocation', async () => {
  const target = `${fixtureDir}/extra2/catalog-info.yaml`;
  const updated = await client.updateLocation(addedId, { type: 'file', target });
  assert.equal(updated.target, target);
  await eventually(async () => assert.ok(await client.getEntityByRef('component:default/extra-two')));
  await eventually(async () => assert.equal(await client.getEntityByRef('component:default/extra-service'), undefined));
});

await check('removeEntityByUid (it comes back while still emitted)', async () => {
  const e = await client.getEntityByRef('component:default/extra-two');
  await client.removeEntityByUid(e.metadata.uid);
  const back = await eventually(async () => {
    const again = await client.getEntityByRef('component:default/extra-two');
    assert.ok(again);
    return again;
  });
  assert.notEqual(back.metadata.uid, e.metadata.uid);
});

await check('removeLocationById (its entities go)', async () => {
  await client.removeLocationById(addedId);
  assert.equal(await client.getLocationById(addedId), undefined);
  await eventually(async () => assert.equal(await client.getEntityByRef('component:default/extra-two'), undefined));
});

await check('analyzeLocation: existing file and a directory without one', async () => {
  const res = await client.analyzeLocation({ location: { type: 'file', target: `${fixtureDir}/extra/catalog-info.yaml` } });
  assert.equal(res.existingEntityFiles.length, 1);
  assert.equal(res.existingEntityFiles[0].entity.metadata.name, 'extra-service');
  const none = await client.analyzeLocation({ location: { type: 'file', target: `${fixtureDir}/empty-repo` } });
  assert.equal(none.existingEntityFiles.length, 0);
  assert.equal(none.generateEntities[0].entity.metadata.name, 'empty-repo');
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
