// Escaping for the server-rendered settings pages.
export function esc(v: unknown): string {
  return String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'",
  "X-Frame-Options": "SAMEORIGIN",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "Cache-Control": "no-store",
};

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:20px;margin:0 0 16px}h2{font-size:16px;margin:24px 0 8px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:16px;margin-bottom:16px}
label{display:block;font-weight:600;margin-top:12px}
.hint{color:#5b6570;font-size:12px;margin:2px 0 4px}
input[type=text],input[type=password],input[type=number],select,textarea{width:100%;box-sizing:border-box;padding:6px 8px;border:1px solid #c4cad1;border-radius:4px;font:inherit}
textarea{min-height:64px;font-family:ui-monospace,monospace}
button{padding:7px 14px;border-radius:4px;border:1px solid #2a5bd7;background:#2a5bd7;color:#fff;font:inherit;cursor:pointer;margin:8px 8px 0 0}
button.secondary{background:#fff;color:#2a5bd7}
.health{padding:10px 12px;border-radius:6px;font-weight:600}
.ok{background:#e5f6ea}.degraded{background:#fff4d6}.down,.unconfigured{background:#fde7e7}
.flash{padding:10px 12px;border-radius:6px;margin-bottom:16px}.flash.good{background:#e5f6ea}.flash.bad{background:#fde7e7}
iframe{width:100%;height:900px;border:1px solid #dde1e6;border-radius:8px;background:#fff}
.actions form{display:inline}
</style></head><body><main>${body}</main></body></html>`;
}
