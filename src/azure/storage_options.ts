// The SDK's own exponential retry; bounded so that a request fails well within the HTTP deadline.
export const retryOptions = { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };
// The blob and queue SDKs have their own retry options (tries, not retries, and a per-try timeout).
export const storageRetryOptions = { maxTries: 4, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 30_000 };
