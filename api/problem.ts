// RFC 9457 problem details. `title` is the HTTP meaning (for developers); `detail` is written
// for the person in front of the dashboard, in Portuguese.
export interface FieldError {
  path: string;
  message: string;
  code?: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; type?: string } = {},
  ) {
    super(detail ?? title);
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) => new HttpProblem(400, 'Bad Request', detail, { errors });
export const unauthorized = (detail = 'Autenticação necessária.') =>
  new HttpProblem(401, 'Unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } });
export const forbidden = (detail = 'Você não tem permissão para esta ação.') => new HttpProblem(403, 'Forbidden', detail);
export const notFound = (detail = 'Recurso não encontrado.') => new HttpProblem(404, 'Not Found', detail);
export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);
export const tooManyRequests = (retryAfterSeconds: number, detail = 'Muitas tentativas. Tente novamente mais tarde.') =>
  new HttpProblem(429, 'Too Many Requests', detail, { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
export const serviceUnavailable = (detail: string) => new HttpProblem(503, 'Service Unavailable', detail, { headers: { 'retry-after': '5' } });

export function zodFieldErrors(err: unknown, where: string): FieldError[] | undefined {
  const issues = (err as { issues?: { path: PropertyKey[]; message: string; code?: string }[] }).issues;
  return issues?.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message, code: i.code }));
}
