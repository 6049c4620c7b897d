// The GraphQL over HTTP reference audit (npm `graphql-http`) against one endpoint.
// Usage: node audit.mjs <url>; prints [{id, name, status, reason}] as JSON on stdout.
import { serverAudits } from "graphql-http";

const [url] = process.argv.slice(2);
const results = [];
// One audit at a time: the answers stay readable in the server log, and no audit
// competes with another for the server's worker threads.
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.response && !result.response.bodyUsed) await result.response.body?.cancel();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === "ok" ? null : String(result.reason),
  });
}
console.log(JSON.stringify(results));
