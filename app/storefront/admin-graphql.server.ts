/**
 * The slice of the Admin API client that the storefront modules need: `admin.graphql` from
 * `authenticate.admin(request)`. Taking the function (not the whole context) keeps them testable
 * and keeps the session out of their hands.
 */
export type AdminGraphql = (query: string, options?: { variables?: Record<string, unknown> }) => Promise<Response>;

/** A call to Shopify's Admin API that did not give us data. Its message is safe to show. */
export class AdminGraphqlError extends Error {
  override name = "AdminGraphqlError";
}

/**
 * Responses the library throws that must reach Remix untouched: an invalid or expired token
 * (401, with the headers that make App Bridge retry) and redirects to re-authenticate.
 */
function isAuthenticationResponse(response: Response): boolean {
  return response.status === 401 || (response.status >= 300 && response.status < 400);
}

/**
 * Runs one Admin GraphQL operation and returns its `data`. HTTP failures (thrown by the library
 * as Responses) and GraphQL errors become an AdminGraphqlError, except authentication responses,
 * which are rethrown so the library's re-authentication still works.
 */
export async function adminGraphqlData<T>(graphql: AdminGraphql, query: string, variables?: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await graphql(query, variables ? { variables } : undefined);
  } catch (error) {
    if (error instanceof Response) {
      if (isAuthenticationResponse(error)) throw error;
      throw new AdminGraphqlError(`Shopify answered ${error.status}`);
    }
    throw new AdminGraphqlError(error instanceof Error ? error.message : String(error));
  }
  let body: { data?: T; errors?: unknown };
  try {
    body = (await response.json()) as { data?: T; errors?: unknown };
  } catch {
    throw new AdminGraphqlError("Shopify's answer was not JSON");
  }
  if (body.errors) throw new AdminGraphqlError("Shopify reported an error in the query");
  if (!body.data) throw new AdminGraphqlError("Shopify's answer had no data");
  return body.data;
}
