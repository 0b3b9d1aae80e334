// Relay's runtime with the artifacts relay-compiler generated (persisted: only ids travel),
// against a server that runs trusted documents only.
import { Environment, Network, RecordSource, Store, fetchQuery } from "relay-runtime";
import { pathToFileURL } from "node:url";
import { done, input } from "./common.mjs";

const { httpUrl, token, generated } = input;
const load = async (name) => (await import(pathToFileURL(`${generated}/${name}.graphql.js`).href)).default;
const sent = [];
const network = Network.create(async (params, variables) => {
  const body = { documentId: params.id, variables };
  sent.push({ name: params.name, documentId: params.id, hasText: Boolean(params.text) });
  const response = await fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return response.json();
});
const environment = new Environment({ network, store: new Store(new RecordSource()) });

const feed = await fetchQuery(environment, await load("FeedQuery"), { first: 1 }).toPromise();
const page = await fetchQuery(environment, await load("FeedPaginationQuery"), { first: 1, after: null }).toPromise();
const profile = await fetchQuery(environment, await load("ProfileRefetchQuery"), { id: feed.viewer.id }).toPromise();
const records = environment.getStore().getSource().toJSON();
done({
  viewer: feed.viewer.username,
  paginationHasFeed: page !== null,
  profileFound: profile.node !== null,
  sent,
  storedUser: records[feed.viewer.id] ? records[feed.viewer.id].username : null,
});
