import { createHostApp } from './app.js';

const { app, metrics, close } = createHostApp({ dbPath: process.env.DB_PATH ?? './data/host-app.db', token: process.env.TOKEN ?? 'secret' });
await metrics.ready(); // a store that cannot start stops the app here, with the reason
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`host app on http://127.0.0.1:${port} (metrics at /metrics/api/v1)\n`);
});

// Graceful shutdown: stop taking connections, let requests in flight finish, then close the store.
process.once('SIGTERM', () => {
  server.close(() => void close().then(() => process.exit(0)));
  server.closeIdleConnections();
});
