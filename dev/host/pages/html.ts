// Minimal server-side HTML: every interpolated value goes through esc().
export function esc(v: unknown): string {
  return String(v ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Marks already-escaped HTML so that templates can nest. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    const part = Array.isArray(v) ? v.map((x) => (x instanceof Html ? x.value : esc(x))).join("") : v instanceof Html ? v.value : esc(v);
    out += part + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

export function page(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          body {
            font:
              15px/1.45 system-ui,
              sans-serif;
            margin: 2rem auto;
            max-width: 60rem;
            padding: 0 1rem;
            color: #222;
          }
          table {
            border-collapse: collapse;
            width: 100%;
          }
          th,
          td {
            text-align: left;
            padding: 0.4rem 0.6rem;
            border-bottom: 1px solid #ddd;
            vertical-align: top;
          }
          .field {
            margin: 1rem 0;
          }
          .field label {
            font-weight: 600;
            display: block;
          }
          .help {
            color: #666;
            font-size: 0.9em;
            margin: 0.2rem 0;
          }
          input[type="text"],
          input[type="password"],
          input[type="number"],
          select,
          textarea {
            width: 100%;
            max-width: 32rem;
            padding: 0.35rem;
            font: inherit;
            box-sizing: border-box;
          }
          textarea {
            font-family: ui-monospace, monospace;
            min-height: 6rem;
          }
          .errors {
            background: #fde8e8;
            border: 1px solid #e0a0a0;
            padding: 0.5rem 1rem;
          }
          .ok {
            background: #e6f6e6;
            border: 1px solid #9c9;
            padding: 0.5rem 1rem;
          }
          .status {
            font-weight: 600;
            padding: 0.1rem 0.4rem;
            border-radius: 0.3rem;
          }
          .status-ok {
            background: #dfd;
          }
          .status-degraded {
            background: #ffd;
          }
          .status-down {
            background: #fdd;
          }
          .status-unconfigured {
            background: #eee;
          }
          button {
            font: inherit;
            padding: 0.35rem 0.8rem;
            margin-right: 0.4rem;
          }
          .actions form {
            display: inline;
          }
          code {
            background: #f4f4f4;
            padding: 0 0.2rem;
          }
        </style>
      </head>
      <body>
        <p><a href="/admin">ERP administration</a></p>
        ${body}
      </body>
    </html>`.value;
}

export function statusBadge(status: string, message?: string): Html {
  return html`<span class="status status-${status}">${status}</span> ${message ?? ""}`;
}
