/**
 * What a client sent the license server, read strictly: a JSON body within the size limit, typed
 * fields, query parameters, the user's credentials and an idempotency key. Every malformed input is
 * `ERR_USAGE` (HTTP 400): the client's mistake, told what to send instead.
 */
import { isPrintableText } from '../core/codec/text.js';
import { LicenseError } from '../core/errors.js';
import type { JsonObject } from '../core/store/store.js';
import type { UserCredentials } from './vendor-types.js';

/** A client's malformed request. */
export const usage = (why: string) => new LicenseError('ERR_USAGE', why);

/** Read the body as JSON, refusing more than `max` bytes without buffering it all. */
export async function readJson(req: Request, max: number): Promise<JsonObject> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw usage('send the body as application/json');
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > max) throw new LicenseError('ERR_BODY_TOO_LARGE', `the request body is ${declared} bytes; this server accepts at most ${max}. Send only the request code (and credentials), or raise maxBodyBytes`, { limit: max });
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body !== null) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        throw new LicenseError('ERR_BODY_TOO_LARGE', `the request body is larger than ${max} bytes; send only the request code (and credentials), or raise maxBodyBytes`, { limit: max });
      }
      chunks.push(value);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw usage('the request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw usage('the request body must be a JSON object');
  return parsed as JsonObject;
}

export function str(body: JsonObject, field: string, optional?: false): string;
export function str(body: JsonObject, field: string, optional: true): string | undefined;
export function str(body: JsonObject, field: string, optional = false): string | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > 16_384) throw usage(`"${field}" must be a non-empty string`);
  return v;
}

export function int(body: JsonObject, field: string, optional = false): number | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw usage(`"${field}" must be a whole number >= 0`);
  return v;
}

/** The license user's credentials sent beside the request code: `{ "credentials": { "password" | "idToken" } }`. */
export function credentials(body: JsonObject): UserCredentials | undefined {
  const c = body.credentials;
  if (c === undefined) return undefined;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw usage('"credentials" must be an object with "password" or "idToken"');
  const password = str(c, 'password', true);
  const idToken = str(c, 'idToken', true);
  if (password === undefined && idToken === undefined) throw usage('"credentials" must hold "password" or "idToken"');
  return { password, idToken };
}

/**
 * The idempotency key of a request: the `Idempotency-Key` header or the `idempotencyKey` body field
 * (1 to 128 printable characters; when both are given they must agree).
 */
export function idempotency(req: Request, body: JsonObject): string | undefined {
  const header = req.headers.get('idempotency-key') ?? undefined;
  const field = body.idempotencyKey === undefined ? undefined : str(body, 'idempotencyKey');
  if (header !== undefined && field !== undefined && header !== field) throw usage('the Idempotency-Key header and the "idempotencyKey" field differ; send one');
  const key = header ?? field;
  if (key !== undefined && !isPrintableText(key, 128)) throw usage('an idempotency key is 1 to 128 printable characters');
  return key;
}

export function query(url: URL, name: string): string {
  const v = url.searchParams.get(name);
  if (v === null || v === '') throw usage(`query parameter "${name}" is required`);
  return v;
}

/** An optional whole-number query parameter; anything else ("abc", "-1", "1.5") is a 400, never read as 0. */
export function wholeNumber(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw usage(`query parameter "${name}" must be a whole number >= 0, got ${JSON.stringify(v)}`);
  return Number(v);
}
