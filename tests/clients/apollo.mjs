// Apollo Client 4 as a frontend team sets it up: HttpLink, BatchHttpLink, PersistedQueryLink
// (with GET for hashed queries) and GraphQLWsLink, against the live server.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import { createHash } from "node:crypto";
import WebSocket from "ws";
import { countingFetch, done, input, within } from "./common.mjs";

const { httpUrl, wsUrl, token, conversationId, storyId } = input;
const headers = { Authorization: `Bearer ${token}` };
const result = {};

const VIEWER = gql`query Viewer { viewer { id username } }`;
const TRAY = gql`query Tray { storiesTray(first: 10) { edges { node { id hasUnseen owner { id username } stories { id viewerHasSeen } } } } }`;
const SEEN = gql`mutation Seen($ids: [ID!]!) { markStoriesSeen(ids: $ids) { id viewerHasSeen } }`;
const HISTORY = gql`query History($id: ID!) { node(id: $id) { id ... on Conversation { messages(last: 1) { edges { node { id seq } } } } } }`;
const EVENTS = gql`subscription Events($id: ID, $after: Int) { conversationEvents(conversationId: $id, afterSeq: $after) { ... on MessageAdded { message { id seq body } } } }`;
const SEND = gql`mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;

// HttpLink, and the tray entry's id lets markStoriesSeen update hasUnseen in the cache.
{
  const calls = [];
  const client = new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: httpUrl, headers, fetch: countingFetch(calls) }) });
  result.viewer = (await client.query({ query: VIEWER })).data.viewer;
  const tray = (await client.query({ query: TRAY })).data.storiesTray.edges.map((e) => e.node);
  const entry = tray.find((item) => item.stories.some((s) => s.id === storyId));
  result.trayBefore = { id: entry.id, hasUnseen: entry.hasUnseen };
  await client.mutate({
    mutation: SEEN,
    variables: { ids: [storyId] },
    update(cache) {
      cache.modify({ id: cache.identify(entry), fields: { hasUnseen: () => false } });
    },
  });
  const after = client.readQuery({ query: TRAY }).storiesTray.edges.map((e) => e.node).find((i) => i.id === entry.id);
  result.trayAfter = { hasUnseen: after.hasUnseen, seen: after.stories.map((s) => s.viewerHasSeen) };
  result.trayCacheKey = client.cache.identify(entry);
  result.httpRequests = calls.length;
}

// BatchHttpLink: three queries at once travel in one request (its default batchMax is 10).
{
  const calls = [];
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new BatchHttpLink({ uri: httpUrl, headers, fetch: countingFetch(calls), batchInterval: 20 }),
  });
  const names = ["A", "B", "C"].map((n) => gql`query Batch${n} { viewer { id } }`);
  const answers = await Promise.all(names.map((query) => client.query({ query })));
  result.batch = { requests: calls.length, operations: calls[0].body.length, ids: answers.map((a) => a.data.viewer.id) };
  const before = calls.length;
  const eleven = Array.from({ length: 11 }, (_, i) => gql`query Many${i} { viewer { id } }`);
  const many = await Promise.all(eleven.map((query) => client.query({ query, fetchPolicy: "network-only" })));
  result.batchOfEleven = { requests: calls.length - before, answered: many.filter((a) => a.data.viewer).length };
}

// PersistedQueryLink: the hash alone, PERSISTED_QUERY_NOT_FOUND, then the text; later the hash alone over GET.
{
  const calls = [];
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  const make = () =>
    new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([
        new PersistedQueryLink({ sha256, useGETForHashedQueries: true }),
        new HttpLink({ uri: httpUrl, fetch: countingFetch(calls) }),
      ]),
    });
  const query = gql`query Persisted { viewer { id } }`;
  const first = await make().query({ query });
  const second = await make().query({ query });
  result.persisted = {
    data: [first.data, second.data],
    calls: calls.map((c) => ({ method: c.method, hasQuery: c.method === "GET" ? new URL(c.url).searchParams.has("query") : Boolean(c.body && c.body.query) })),
  };
}

// GraphQLWsLink: subscribe with afterSeq from the history query, then send.
{
  let connections = 0;
  const wsClient = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ Authorization: `Bearer ${token}` }),
    shouldRetry: (event) => !(event && event.code === 4403),
    on: { connected: () => connections++ },
  });
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: httpUrl, headers }),
  );
  const client = new ApolloClient({ cache: new InMemoryCache(), link });
  const history = (await client.query({ query: HISTORY, variables: { id: conversationId } })).data.node.messages.edges;
  const afterSeq = history.length ? history[history.length - 1].node.seq : 0;
  const received = new Promise((resolve, reject) => {
    const sub = client.subscribe({ query: EVENTS, variables: { id: conversationId, after: afterSeq } }).subscribe({
      next: ({ data }) => { sub.unsubscribe(); resolve(data.conversationEvents.message); },
      error: reject,
    });
  });
  const sent = (await client.mutate({ mutation: SEND, variables: { input: { conversationId, body: "from Apollo", clientId: `apollo-${Date.now()}` } } })).data.sendMessage;
  const message = await within(10000, received, "subscription event");
  result.subscription = { afterSeq, sent, received: message, connections };
  await wsClient.dispose();
}

done(result);
