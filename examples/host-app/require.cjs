// The same middleware from CommonJS (Node >= 20.19 loads the ES module package through require).
const http = require('node:http');
const Koa = require('koa');
const { kairosdb, MemoryStore } = require('koa-kairosdb');

const app = new Koa();
app.use(kairosdb({ store: new MemoryStore() }));
const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const send = (path, body) =>
    new Promise((resolve, reject) => {
      const req = http.request({ port, path, method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const pushed = await send('/api/v1/datapoints', [{ name: 'cjs', tags: { h: 'a' }, datapoints: [[1, 42]] }]);
  const queried = await send('/api/v1/datapoints/query', { start_absolute: 0, metrics: [{ name: 'cjs' }] });
  process.stdout.write(JSON.stringify({ pushed: pushed.status, values: JSON.parse(queried.text).queries[0].results[0].values }) + '\n');
  server.close();
});
