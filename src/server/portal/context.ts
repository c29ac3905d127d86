/**
 * What every portal handler is given: the server's parts it works on (the vendor logic and its
 * store, sessions, sign-in limits), and the request with its session and (for a POST) its form,
 * already checked for its CSRF token.
 */
import type { Html } from './html.js';
import type { SessionStore, Session } from './sessions.js';
import type { SignInContext } from './sign-in.js';
import type { TokenBuckets } from '../rate-limit.js';
import type { Vendor } from '../vendor.js';
import type { WebhookEndpointView } from '../webhooks.js';

/** The server's parts the portal works on. */
export interface PortalDeps {
  readonly vendor: Vendor;
  readonly sessions: SessionStore;
  readonly signIn: SignInContext;
  /** Failed sign-ins per client address, or undefined when not limited. */
  readonly failures: TokenBuckets | undefined;
  /** `true`/`false`, or `'auto'`: Secure when the request came over HTTPS (a trusted proxy's `X-Forwarded-Proto`). */
  readonly secureCookies: boolean | 'auto';
  readonly trustProxy: boolean;
  /** Rows per page of every list. */
  readonly pageSize: number;
  /** The server's webhook endpoints (the way notifications leave it), or none. */
  readonly webhooks: readonly WebhookEndpointView[];
}

/** One request to the portal. */
export interface Ctx {
  readonly req: Request;
  readonly url: URL;
  readonly deps: PortalDeps;
  readonly client: string | undefined;
  /** Whether cookies are sent Secure (and `__Host-` named). */
  readonly secure: boolean;
  readonly session: Session | undefined;
  readonly sessionId: string | undefined;
  /** A POST's fields (CSRF already checked for signed-in routes). */
  readonly form: URLSearchParams | undefined;
}

/** A signed-in request. */
export interface SignedIn extends Ctx {
  readonly session: Session;
  readonly sessionId: string;
}

/** A page handler: the request, the path's captured parts (decoded). */
export type Handler<C extends Ctx = SignedIn> = (ctx: C, params: readonly string[]) => Promise<Response>;

/** One route of the portal. */
export interface PortalRoute {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  /** `none`: anyone (sign-in, static files); `session`: signed in; `vendor`: the vendor only. */
  readonly access: 'none' | 'session' | 'vendor';
  /** Reachable while the password must still be changed (the password page, sign-out). */
  readonly beforePasswordChange?: boolean;
  readonly handler: Handler<Ctx> | Handler;
}

/** A section of a page: its heading and body (pages are built from these). */
export interface Section {
  readonly heading: string;
  readonly body: Html;
}
