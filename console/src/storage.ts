/**
 * What the console keeps in this tab's sessionStorage: the bearer token (never localStorage,
 * never a cookie: it is gone when the tab closes) and the current session id.
 */
const tokenKey = "codexcontinue.console.token";
const sessionKey = "codexcontinue.console.sessionId";

function read(key: string): string {
  try {
    return sessionStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

function write(key: string, value: string): void {
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    // Storage refused (a private mode): the value lives in memory only, for this page.
  }
}

let token = read(tokenKey);

export function storedToken(): string {
  return token;
}

export function storeToken(value: string): void {
  token = value.trim().replace(/^Bearer\s+/i, "");
  write(tokenKey, token);
}

/** What the API accepts as a session id (src/memory/session_id.ts). */
export const sessionIdPattern = /^[A-Za-z0-9_-]{1,128}$/;

export function storedSessionId(): string {
  const stored = read(sessionKey);
  return sessionIdPattern.test(stored) ? stored : newSessionId();
}

export function storeSessionId(value: string): void {
  write(sessionKey, value);
}

/** A random UUID (v4); crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
