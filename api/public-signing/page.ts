import Router from '@koa/router';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';
import { signingToken } from './signer-link';
import { signingState } from './signing-actions';

// GET /sign/:token — the page a signer opens from WhatsApp: server-rendered, pt-BR, no framework;
// its buttons call the JSON endpoints under /api/public/signing/:token. Errors are pages too.

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const layout = (title: string, body: string) => `<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
button{padding:.6rem 1rem;margin:.3rem 0}input[type=text]{padding:.5rem;font-size:1.2rem;width:8rem}.msg{margin-top:1rem;font-weight:600}
code{word-break:break-all;font-size:.8rem}</style></head><body>${body}</body></html>`;

export function errorPage(status: number, detail: string): string {
  const title = status === 410 ? 'Link expirado' : status === 404 ? 'Link não encontrado' : status === 409 ? 'Link já utilizado' : 'Não foi possível abrir o contrato';
  return layout(title, `<h1>${escape(title)}</h1><p>${escape(detail)}</p>`);
}

export function signingPage(token: string, v: Awaited<ReturnType<typeof signingState>>['view']): string {
  const api = `/api/public/signing/${token}`;
  const actions = v.yourTurn
    ? `<p><button id="send">Enviar código</button> pelo WhatsApp</p>
<p><label>Código recebido: <input id="code" type="text" inputmode="numeric" maxlength="6" autocomplete="one-time-code"></label></p>
<p><label><input id="accept" type="checkbox"> Li o documento e concordo com os seus termos.</label></p>
<p><button id="sign">Assinar</button> <button id="decline">Recusar</button></p>
<p class="msg" id="msg" role="status"></p>
<script>
const api = ${JSON.stringify(api)}, sha = ${JSON.stringify(v.documentSha256)};
const msg = (t) => { document.getElementById('msg').textContent = t; };
const call = async (path, body) => {
  const r = await fetch(api + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.detail || 'Erro ' + r.status);
  return j;
};
document.getElementById('send').onclick = () => call('/code').then(() => msg('Código enviado pelo WhatsApp.'), (e) => msg(e.message));
document.getElementById('sign').onclick = () => {
  if (!document.getElementById('accept').checked) return msg('Marque que leu e concorda com o documento.');
  call('/sign', { code: document.getElementById('code').value.trim(), documentSha256: sha, accept: true }).then(() => msg('Contrato assinado. Obrigado!'), (e) => msg(e.message));
};
document.getElementById('decline').onclick = () => {
  const reason = prompt('Por que você recusa o contrato?');
  if (reason) call('/decline', { reason }).then(() => msg('Recusa registrada.'), (e) => msg(e.message));
};
</script>`
    : `<p class="msg">${v.signerStatus === 'signed' ? 'Você já assinou este contrato.' : v.signerStatus === 'declined' ? 'Você recusou este contrato.' : v.contractStatus !== 'signing' ? 'Este contrato não está mais aguardando assinaturas.' : 'Ainda não é a sua vez de assinar.'}</p>`;
  return layout(
    v.contractTitle,
    `<h1>${escape(v.contractTitle)}</h1>
<p>Olá, ${escape(v.signerName)}. Leia o contrato antes de assinar: <a href="${api}/document" target="_blank" rel="noopener">abrir o documento (PDF)</a>.</p>
<p>Impressão digital do documento (SHA-256): <code>${escape(v.documentSha256 ?? '')}</code></p>
${actions}`,
  );
}

export function signingPageRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.get('/sign/:token', async (ctx) => {
    ctx.state.routePath = '/sign/:token';
    ctx.type = 'text/html; charset=utf-8';
    const token = String(ctx.params.token ?? '');
    try {
      if (!signingToken.safeParse(token).success) throw new HttpProblem(404, 'Not Found', 'Link de assinatura não encontrado. Confira se o endereço está completo.');
      const { view } = await signingState(deps, token);
      ctx.set('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'");
      ctx.body = signingPage(token, view);
    } catch (err) {
      if (!(err instanceof HttpProblem) || err.status >= 500) throw err;
      ctx.status = err.status;
      ctx.body = errorPage(err.status, err.detail ?? err.title);
    }
  });
  return router;
}
