// A consumer project's CommonJS file: require() of the ES module package, which Node allows from
// 20.19 / 22.12 on (require(esm)); TypeScript types it under module nodenext (5.8 and later).
import lightws = require('lightws');

async function main(): Promise<void> {
  const server = lightws.createServer({
    logLevel: 'silent',
    message: (conn, data, isBinary) => void conn.send(data, isBinary),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  let reply = '';
  const client = lightws.createClient({
    message: (_conn, data) => {
      reply = String(data);
    },
  });
  const conn = await client.connect(`ws://127.0.0.1:${port}`);
  if (conn.send('required') === lightws.SendResult.Dropped) throw new Error('dropped');
  while (reply === '') await new Promise((resolve) => setTimeout(resolve, 5));
  await client.close();
  await server.close();
  console.log(`cjs ok: ${reply}`);
}
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
