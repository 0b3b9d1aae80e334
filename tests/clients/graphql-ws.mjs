// graphql-ws as the docs set it up: connectionParams reads the current token, shouldRetry stops
// after 4403 (a revoked or expired token) instead of reconnecting five times.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { done, input, within } from "./common.mjs";

const { wsUrl, token, revokedToken } = input;
const result = {};

function client(currentToken, counters) {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: () => (currentToken() ? { Authorization: `Bearer ${currentToken()}` } : {}),
    shouldRetry: (event) => !(event && event.code === 4403),
    retryAttempts: 5,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
    on: { connecting: () => counters.connecting++, closed: (event) => counters.closes.push(event.code) },
  });
}

{
  const counters = { connecting: 0, closes: [] };
  const ws = client(() => token, counters);
  const viewer = await within(10000, ws.iterate({ query: "{ viewer { username } }" }).next(), "query over ws");
  result.query = viewer.value.data;
  await ws.dispose();
}

{
  const counters = { connecting: 0, closes: [] };
  const ws = client(() => revokedToken, counters);
  const failure = await within(
    10000,
    new Promise((resolve) => ws.subscribe({ query: "subscription { conversationEvents { __typename } }" }, { next() {}, error: resolve, complete() {} })),
    "refusal",
  );
  // Give a retry the time it would take, then count the attempts.
  await new Promise((resolve) => setTimeout(resolve, 500));
  result.revoked = { code: failure.code, connecting: counters.connecting, closes: counters.closes };
  await ws.dispose();
}

done(result);
