import { WasmboxError, type ErrorDetails } from '../errors.js';

/** A registry request that failed: a WasmboxError that also says its HTTP status and whether a retry may help. */
export class RegistryHttpError extends WasmboxError {
  /** The HTTP status, or undefined when no answer came (reset, timeout, refused). */
  readonly status?: number;
  /** True for 429, 5xx and network failures: trying again later may succeed. */
  readonly retriable: boolean;

  constructor(code: string, message: string, details: ErrorDetails & { status?: number; retriable?: boolean }) {
    super(code, message, details);
    this.status = details.status;
    this.retriable = details.retriable ?? false;
  }
}

/** Whether an HTTP status is worth retrying: rate limits and server-side failures. */
export function retriableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

// Failures that retrying cannot fix: the name does not resolve, the URL is refused, TLS disagrees.
const PERMANENT = /^(ENOTFOUND|ERR_INVALID_URL|ERR_SSL_|ERR_TLS_|EPROTO$|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH)/;
const NO_TLS = /^(ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG|EPROTO)$/;

/** The most specific error code and message in a network failure's cause chain (a wrapper's 'fetch failed' says nothing). */
export function networkCause(error: unknown): { code?: string; message: string } {
  let code: string | undefined;
  let message = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; depth++) {
    const own = (e as { code?: unknown }).code;
    if (typeof own === 'string') [code, message] = [own, e.message];
    else if (code === undefined && e.message !== 'fetch failed') message = e.message;
    e = e instanceof AggregateError && e.errors.length ? e.errors[0] : e.cause;
  }
  return { code, message };
}

/** The error for a request that got no HTTP answer; `retriable` unless the failure is permanent. */
export function networkError(error: unknown, method: string, url: URL, what: string, tries = 1): RegistryHttpError {
  if (error instanceof WasmboxError) return error as RegistryHttpError;
  const { code, message } = networkCause(error);
  const host = url.host;
  if (url.protocol === 'https:' && code && NO_TLS.test(code)) {
    return new RegistryHttpError('REGISTRY_INSECURE', `registry ${host} does not speak TLS (${method} ${url.href} for ${what}: ${message.split('\n')[0]})`, {
      value: host,
      hint: `plain HTTP is only used for loopback hosts; if ${host} is a plain-HTTP registry you trust, pass --insecure-registry ${host}`,
      cause: error,
    });
  }
  const detail = code ? `${code}: ${message.split('\n')[0]}` : message;
  const after = tries > 1 ? ` after ${tries} tries` : '';
  return new RegistryHttpError('REGISTRY', `${method} ${url.href} for ${what} failed: ${detail}${after}`, {
    value: host,
    hint: hintFor(code, host),
    retriable: !(code && PERMANENT.test(code)),
    cause: error,
  });
}

/** The error for an HTTP answer we cannot use, naming the registry, the reference, the method and status. */
export function statusError(status: number, method: string, url: URL, what: string, detail = '', tries = 1): RegistryHttpError {
  const after = tries > 1 ? ` after ${tries} tries` : '';
  const why = detail ? `: ${detail}` : '';
  const host = url.host;
  const hint =
    status === 429 ? `${host} is rate-limiting requests; wait and try again, or log in (wasmbox login ${host}) for a higher limit`
    : status >= 500 ? `${host} is failing or overloaded; try again later`
    : `check the reference and that ${host} is an OCI distribution registry`;
  return new RegistryHttpError('REGISTRY', `registry ${host} answered ${method} for ${what} with HTTP ${status}${why}${after}`, {
    value: what,
    hint,
    status,
    retriable: retriableStatus(status),
  });
}

function hintFor(code: string | undefined, host: string): string {
  if (code === 'ENOTFOUND') return `the host name ${host} does not resolve; check the reference for typos`;
  if (code && /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|HOSTNAME/.test(code)) {
    return `the TLS certificate of ${host} is not trusted; add its CA with NODE_EXTRA_CA_CERTS=FILE`;
  }
  return `check that ${host} is reachable and try again`;
}

/** The `errors` a registry puts in its JSON error body, as one line ('MANIFEST_UNKNOWN: manifest unknown'). */
export function registryErrorText(body: Uint8Array | undefined): string {
  if (!body?.length) return '';
  try {
    const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    return (parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    return '';
  }
}
