// A thin fetch wrapper for tests: real HTTP against the listening API.
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, o: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.apiKey) headers['x-api-key'] = o.apiKey;
    let body: string | Buffer | undefined;
    if (o.raw !== undefined) {
      body = o.raw;
      headers['content-type'] ??= 'application/json';
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method: method.toUpperCase(), headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get = <T = any>(path: string, o?: RequestOptions) => this.request<T>('get', path, o);
  post = <T = any>(path: string, o?: RequestOptions) => this.request<T>('post', path, o);
  patch = <T = any>(path: string, o?: RequestOptions) => this.request<T>('patch', path, o);
  put = <T = any>(path: string, o?: RequestOptions) => this.request<T>('put', path, o);
  delete = <T = any>(path: string, o?: RequestOptions) => this.request<T>('delete', path, o);
}
