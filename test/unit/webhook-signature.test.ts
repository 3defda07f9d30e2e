// plugin/webhooks/signature.ts as a case table: HMAC-SHA256 over the raw body bytes, as
// `sha256=<hex>`, bare hex or base64, under any of the valid secrets, with the encoding setting
// narrowing what is accepted; and sign(), its twin, which the sandbox's signer must match.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { sign as sandboxSign } from "../../dev/sandbox/signature";
import { type SignatureEncoding, sign, verifySignature } from "../../plugin/webhooks/signature";
import "../support/leak-check";

const SECRET = "whsec_current_0123456789abcdef";
const OLD = "whsec_previous_fedcba9876543210";
const OTHER = "whsec_someone_else";
const BODY = Buffer.from('{"id":"evt_1","event":"order/updated","created_at":"2026-01-15T10:30:00Z","data":{"order_id":12345}}');
/** Bytes outside ASCII, and bytes that are not valid UTF-8 at all. */
const UTF8_BODY = Buffer.from('{"data":{"customer":"Ñandú Pérez ☃ 📦"}}', "utf8");
const RAW_BODY = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7d]);

const mac = (secret: string, body: Buffer) => createHmac("sha256", secret).update(body).digest();
const hex = (secret: string, body = BODY) => mac(secret, body).toString("hex");
const b64 = (secret: string, body = BODY) => mac(secret, body).toString("base64");

interface Case {
  name: string;
  header: string | undefined;
  secrets?: string[];
  body?: Buffer;
  encoding?: SignatureEncoding;
  valid: boolean;
}

const CASES: Case[] = [
  { name: "sha256=<hex>", header: `sha256=${hex(SECRET)}`, valid: true },
  { name: "bare hex", header: hex(SECRET), valid: true },
  { name: "base64", header: b64(SECRET), valid: true },
  { name: "base64 without its padding", header: b64(SECRET).replace(/=+$/, ""), valid: true },
  { name: "sha256=<base64>", header: `sha256=${b64(SECRET)}`, valid: true },
  { name: "uppercase hex", header: `sha256=${hex(SECRET).toUpperCase()}`, valid: true },
  { name: "uppercase prefix", header: `SHA256=${hex(SECRET)}`, valid: true },
  { name: "whitespace around the value", header: `  sha256=${hex(SECRET)}\t `, valid: true },
  { name: "wrong secret", header: `sha256=${hex(OTHER)}`, valid: false },
  { name: "wrong secret, base64", header: b64(OTHER), valid: false },
  { name: "rotation: the previous secret is still accepted", header: `sha256=${hex(OLD)}`, secrets: [SECRET, OLD], valid: true },
  { name: "rotation: the current secret too", header: `sha256=${hex(SECRET)}`, secrets: [SECRET, OLD], valid: true },
  { name: "rotation: a secret in neither list", header: `sha256=${hex(OTHER)}`, secrets: [SECRET, OLD], valid: false },
  { name: "a secret no longer in the list", header: `sha256=${hex(OLD)}`, secrets: [SECRET], valid: false },
  { name: "no secret known", header: `sha256=${hex(SECRET)}`, secrets: [], valid: false },
  { name: "several signatures, the valid one last", header: `sha256=${hex(OTHER)},sha256=${hex(SECRET)}`, valid: true },
  { name: "several signatures, the valid one first, with spaces", header: `sha256=${hex(SECRET)}, sha256=${hex(OTHER)}`, valid: true },
  { name: "several signatures in mixed forms", header: `${b64(OTHER)}, ${hex(OLD)}`, secrets: [SECRET, OLD], valid: true },
  { name: "several signatures, none valid", header: `sha256=${hex(OTHER)},${b64(OTHER)}`, valid: false },
  { name: "a valid signature after a malformed one", header: `garbage,sha256=${hex(SECRET)}`, valid: true },
  { name: "empty header", header: "", valid: false },
  { name: "missing header", header: undefined, valid: false },
  { name: "only the prefix", header: "sha256=", valid: false },
  { name: "only commas", header: ", ,", valid: false },
  { name: "hex truncated by one character", header: `sha256=${hex(SECRET).slice(0, 63)}`, valid: false },
  { name: "hex truncated to half", header: `sha256=${hex(SECRET).slice(0, 32)}`, valid: false },
  { name: "hex with one character too many", header: `sha256=${hex(SECRET)}0`, valid: false },
  { name: "base64 truncated", header: b64(SECRET).slice(0, 40), valid: false },
  { name: "the hex of another body", header: `sha256=${hex(SECRET, Buffer.from(`${BODY.toString()} `))}`, valid: false },
  {
    name: "a body changed by one byte",
    header: `sha256=${hex(SECRET)}`,
    body: Buffer.from(BODY.toString().replace("12345", "12346")),
    valid: false,
  },
  { name: "another algorithm's prefix", header: `sha1=${createHmac("sha1", SECRET).update(BODY).digest("hex")}`, valid: false },
  { name: "encoding hex: hex accepted", header: `sha256=${hex(SECRET)}`, encoding: "hex", valid: true },
  { name: "encoding hex: base64 refused", header: b64(SECRET), encoding: "hex", valid: false },
  { name: "encoding base64: base64 accepted", header: b64(SECRET), encoding: "base64", valid: true },
  { name: "encoding base64: sha256=<base64> accepted", header: `sha256=${b64(SECRET)}`, encoding: "base64", valid: true },
  { name: "encoding base64: hex refused", header: `sha256=${hex(SECRET)}`, encoding: "base64", valid: false },
  {
    name: "encoding base64: the valid base64 among several",
    header: `sha256=${hex(SECRET)},${b64(SECRET)}`,
    encoding: "base64",
    valid: true,
  },
  { name: "encoding auto: hex", header: hex(SECRET), encoding: "auto", valid: true },
  { name: "encoding auto: base64", header: b64(SECRET), encoding: "auto", valid: true },
  { name: "non-ASCII UTF-8 body", header: `sha256=${hex(SECRET, UTF8_BODY)}`, body: UTF8_BODY, valid: true },
  { name: "non-ASCII body, base64", header: b64(SECRET, UTF8_BODY), body: UTF8_BODY, valid: true },
  {
    name: "non-ASCII body re-encoded (latin1) is another body",
    header: `sha256=${hex(SECRET, UTF8_BODY)}`,
    body: Buffer.from(UTF8_BODY.toString("utf8"), "latin1"),
    valid: false,
  },
  { name: "bytes that are not UTF-8 at all", header: `sha256=${hex(SECRET, RAW_BODY)}`, body: RAW_BODY, valid: true },
  {
    name: "invalid UTF-8 decoded and re-encoded is another body",
    header: `sha256=${hex(SECRET, RAW_BODY)}`,
    body: Buffer.from(RAW_BODY.toString("utf8"), "utf8"),
    valid: false,
  },
  { name: "an empty body", header: `sha256=${hex(SECRET, Buffer.alloc(0))}`, body: Buffer.alloc(0), valid: true },
];

describe("verifySignature", () => {
  for (const c of CASES) {
    it(`${c.name} → ${c.valid ? "valid" : "refused"}`, () => {
      assert.equal(verifySignature(c.body ?? BODY, c.header, c.secrets ?? [SECRET], c.encoding), c.valid);
    });
  }
});

describe("sign(), the verifier's twin", () => {
  it("writes sha256=<lowercase hex> of the HMAC-SHA256 of the raw bytes", () => {
    assert.equal(sign(SECRET, BODY), `sha256=${hex(SECRET)}`);
    assert.match(sign(SECRET, BODY), /^sha256=[0-9a-f]{64}$/);
  });

  for (const [name, body] of [
    ["ASCII", BODY],
    ["non-ASCII UTF-8", UTF8_BODY],
    ["bytes that are not UTF-8", RAW_BODY],
    ["empty", Buffer.alloc(0)],
  ] as const) {
    it(`round-trips through verifySignature in every encoding setting (${name} body)`, () => {
      for (const encoding of ["auto", "hex"] as const)
        assert.equal(verifySignature(body, sign(SECRET, body), [SECRET], encoding), true, encoding);
      assert.equal(verifySignature(body, sign(SECRET, body), [OTHER]), false, "not under another secret");
    });
  }

  it("signs a string as its UTF-8 bytes", () => {
    const text = UTF8_BODY.toString("utf8");
    assert.equal(sign(SECRET, text), sign(SECRET, UTF8_BODY));
    assert.equal(verifySignature(Buffer.from(text), sign(SECRET, text), [SECRET]), true);
  });

  it("matches the sandbox's signer, so the sandbox's deliveries verify", () => {
    for (const body of [BODY, UTF8_BODY, RAW_BODY]) assert.equal(sign(SECRET, body), sandboxSign(SECRET, body));
  });
});
