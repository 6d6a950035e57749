// The bound: a bare node:http server that reads the body, gunzips it if asked, JSON.parses it and answers 204.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    JSON.parse(body.toString('utf8'));
    res.statusCode = 204;
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
