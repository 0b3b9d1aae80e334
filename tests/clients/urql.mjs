// urql (@urql/core) with its fetch exchange and a graphql-ws subscription exchange.
import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from "@urql/core";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { done, input, within } from "./common.mjs";

const { httpUrl, wsUrl, token, conversationId } = input;
const ws = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: () => ({ Authorization: `Bearer ${token}` }) });
const client = new Client({
  url: httpUrl,
  fetchOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }),
  preferGetMethod: false,
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || "" };
        return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
      },
    }),
  ],
});

const viewer = await client.query(gql`query UrqlViewer { viewer { id username } }`, {}).toPromise();
const history = await client
  .query(gql`query UrqlHistory($id: ID!) { node(id: $id) { id ... on Conversation { messages(last: 1) { edges { node { id seq } } } } } }`, { id: conversationId })
  .toPromise();
const edges = history.data.node.messages.edges;
const afterSeq = edges.length ? edges[edges.length - 1].node.seq : 0;
const received = new Promise((resolve, reject) => {
  const { unsubscribe } = client
    .subscription(gql`subscription UrqlEvents($id: ID, $after: Int) { conversationEvents(conversationId: $id, afterSeq: $after) { ... on MessageAdded { message { id seq body } } } }`, { id: conversationId, after: afterSeq })
    .subscribe((result) => {
      if (result.error) return reject(result.error);
      unsubscribe();
      resolve(result.data.conversationEvents.message);
    });
});
const sent = await client
  .mutation(gql`mutation UrqlSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`, { input: { conversationId, body: "from urql", clientId: `urql-${Date.now()}` } })
  .toPromise();
const message = await within(10000, received, "urql subscription event");
await ws.dispose();
done({ viewer: viewer.data.viewer, error: viewer.error ? String(viewer.error) : null, sent: sent.data.sendMessage, received: message, afterSeq });
