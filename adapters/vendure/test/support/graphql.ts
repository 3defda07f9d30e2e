// A minimal GraphQL client for Vendure's Shop and Admin APIs over real HTTP, keeping the
// session token Vendure returns in the `vendure-auth-token` header (bearer mode).
export class GraphqlClient {
  token: string | null = null;

  constructor(readonly url: string) {}

  async query<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const token = res.headers.get("vendure-auth-token");
    if (token) this.token = token;
    const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(`GraphQL error: ${body.errors.map((e) => e.message).join("; ")}`);
    return body.data as T;
  }
}
