// Ephemera's GraphiQL set-up: queries and mutations over HTTP, subscriptions over
// graphql-transport-ws, both authenticated by the Authorization header typed in the
// "Headers" tab (or passed once as #token=... in the page URL).
(function () {
  "use strict";
  const httpUrl = new URL("/graphql", window.location.href).toString();
  const wsUrl = httpUrl.replace(/^http/, "ws");
  const search = new URLSearchParams(window.location.search);
  // The token travels in the fragment, which browsers never send: no server or proxy log holds it.
  // Once read it leaves the address bar too (the Headers tab keeps it).
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (token) window.history.replaceState(null, "", window.location.pathname + window.location.search);
  const initialQuery = search.get("q");  // not "query": that would run the query over GET
  const defaultHeaders = JSON.stringify({ Authorization: "Bearer " + (token || "<paste a token from signUp or logIn>") }, null, 2);

  function operationType(params, opts) {
    const doc = opts && opts.documentAST;
    if (!doc) return "query";
    const ops = doc.definitions.filter((d) => d.kind === "OperationDefinition");
    const op = ops.find((d) => d.name && d.name.value === params.operationName) || ops[0];
    return op ? op.operation : "query";
  }

  function authorization(headers) {
    const value = headers && (headers.Authorization || headers.authorization);
    return value && !value.includes("<") ? value : undefined;
  }

  let socket = null;
  let socketAuth = null;
  function wsClient(auth) {
    if (!socket || socketAuth !== auth) {
      if (socket) socket.dispose();
      socketAuth = auth;
      socket = graphqlWs.createClient({
        url: wsUrl,
        connectionParams: auth ? { Authorization: auth } : {},
        lazy: true,
        retryAttempts: 5,
      });
    }
    return socket;
  }

  function fetcher(params, opts) {
    const headers = (opts && opts.headers) || {};
    const auth = authorization(headers);
    if (operationType(params, opts) === "subscription") {
      return wsClient(auth).iterate(params);
    }
    const sent = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
    if (auth) sent.Authorization = auth;
    return fetch(httpUrl, { method: "POST", headers: sent, body: JSON.stringify(params) }).then((r) => r.json());
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: defaultHeaders,
      headerEditorEnabled: true,
      shouldPersistHeaders: true,
      query: initialQuery || undefined,
      defaultQuery: "# Sign in with logIn, put the token in the Headers tab, then try:\n{\n  viewer {\n    username\n  }\n}\n",
    })
  );
})();
