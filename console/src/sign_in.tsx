import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiError } from "./api.js";

interface Props {
  /** The 401 that brought the sign-in up. */
  readonly refused: ApiError;
  /** A token was sent and refused (expired, wrong audience), rather than none sent. */
  readonly hadToken: boolean;
  readonly onSignIn: (token: string) => void;
}

/**
 * Shown when the API answers 401 (AUTH_MODE jwt or easyauth; in none mode it never does). The
 * token is kept in this tab's sessionStorage only and sent as `Authorization: Bearer`.
 */
export function SignIn({ refused, hadToken, onSignIn }: Props) {
  const [token, setToken] = useState("");
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);

  const submit = (event: Event) => {
    event.preventDefault();
    if (token.trim() !== "") onSignIn(token);
  };

  return (
    <section class="sign-in" aria-labelledby="sign-in-heading">
      <h2 id="sign-in-heading">Sign in</h2>
      <p>
        {hadToken ? "The API refused the token: " : "The API asks for a bearer token: "}
        {refused.message}
      </p>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="bearer-token">Bearer token</label>
          <input
            id="bearer-token"
            ref={field}
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            aria-describedby="bearer-token-hint"
          />
          <p class="hint" id="bearer-token-hint">
            An access token for this API, for example from{" "}
            <code>az account get-access-token --resource api://&lt;client id&gt; --query accessToken -o tsv</code>. Kept in this tab only (sessionStorage) and
            sent to this app only.
          </p>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Sign in
          </button>
        </div>
      </form>
    </section>
  );
}
