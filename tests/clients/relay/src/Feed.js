// Read by relay-compiler only: the generated artifacts are what tests/clients/relay.mjs runs.
const graphql = String.raw;

export const FeedQuery = graphql`
  query FeedQuery($first: Int!, $after: String) {
    viewer { id username ...ProfileFragment }
    ...FeedFragment @arguments(first: $first, after: $after)
  }
`;

export const FeedFragment = graphql`
  fragment FeedFragment on Query
  @argumentDefinitions(first: { type: "Int!" }, after: { type: "String" })
  @refetchable(queryName: "FeedPaginationQuery") {
    feed(first: $first, after: $after) @connection(key: "FeedFragment_feed") {
      edges { node { id caption author { id username } } }
    }
  }
`;

export const ProfileFragment = graphql`
  fragment ProfileFragment on User @refetchable(queryName: "ProfileRefetchQuery") {
    displayName
    bio
  }
`;
