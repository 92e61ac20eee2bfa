// Cube's official client with a JWT: prints what one identity reads (meta member names and a
// load's rows) as one JSON object. Usage: node cube_tenant.mjs API_URL TOKEN QUERY_JSON
import cube from '@cubejs-client/core';

const [apiUrl, token, queryJson] = process.argv.slice(2);
const api = cube(token, { apiUrl });
const out = {};
const meta = await api.meta();
out.members = meta.cubes.flatMap((c) => [...c.measures, ...c.dimensions].map((m) => m.name));
const resultSet = await api.load(JSON.parse(queryJson));
out.rows = resultSet.rawData();
try {
  await api.load({ dimensions: ['orders.secret'] });
  out.secret = 'readable';
} catch (err) {
  out.secret = { status: err.status, message: err.message };
}
console.log(JSON.stringify(out));
