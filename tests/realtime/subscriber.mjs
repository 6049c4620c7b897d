// A real graphql-ws client (the npm package mobile and web apps use): connects with an
// access token in connection_init, runs the subscriptions given as JSON on argv, and
// prints one JSON line per message with the time it arrived.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, operationsJson] = process.argv.slice(2);
const operations = JSON.parse(operationsJson);
const print = (line) => process.stdout.write(JSON.stringify({ at: Date.now(), ...line }) + "\n");

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: {
    connected: () => print({ kind: "connected" }),
    closed: (event) => print({ kind: "closed", code: event.code, reason: event.reason }),
  },
});

for (const [name, query, variables] of operations) {
  client.subscribe(
    { query, variables },
    {
      next: (result) => print({ kind: "next", name, result }),
      error: (error) => print({ kind: "error", name, error: String(error?.message ?? JSON.stringify(error)) }),
      complete: () => print({ kind: "complete", name }),
    },
  );
}
