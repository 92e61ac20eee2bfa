// Drives a running `logflow serve` with Cube's official client (@cubejs-client/core) and
// prints what it read as one JSON object; tests/api/test_cube_client.py compares it with the
// Python API. Usage: node cube_client.mjs API_URL QUERIES_JSON
import cube from '@cubejs-client/core';

const [apiUrl, queriesJson] = process.argv.slice(2);
const queries = JSON.parse(queriesJson);
let continueWaits = 0;
// no token: the client sends the literal "undefined", which an anonymous server accepts
const api = cube(undefined, { apiUrl });
const options = { progressCallback: () => { continueWaits += 1; } };

const out = { loads: [] };
const meta = await api.meta();
out.meta = meta.cubes.map((c) => ({
  name: c.name,
  measures: c.measures.map((m) => [m.name, m.type, m.aggType]),
  dimensions: c.dimensions.map((d) => [d.name, d.type]),
  segments: c.segments.map((s) => s.name),
}));
out.revenueTitle = meta.resolveMember('sales.revenue', 'measures').title;
for (const query of queries) {
  const resultSet = await api.load(query, options);
  out.loads.push({
    rawData: resultSet.rawData(),
    pivotRows: resultSet.tablePivot().length,
    chartX: resultSet.chartPivot().map((row) => row.x),
    seriesNames: resultSet.seriesNames().map((s) => s.key),
  });
}
for (const format of ['compact', 'columnar']) {
  const resultSet = await api.load(queries[0], options, undefined, format);
  out[format] = resultSet.rawData();
}
out.continueWaits = continueWaits;
const sql = await api.sql(queries[0]);
out.sql = sql.sql();
const dry = await api.dryRun(queries[1]);
out.dryRun = { queryType: dry.queryType, normalized: dry.normalizedQueries[0],
  source: dry.transformedQueries[0].source };
try {
  await api.load({ measures: ['sales.no_such_member'] });
  out.badQuery = 'accepted';
} catch (err) {
  out.badQuery = { status: err.status, message: err.message };
}
console.log(JSON.stringify(out));
