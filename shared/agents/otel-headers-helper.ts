import { shQuote } from './unsafe-value.js';

/*
 * Claude Code's `otelHeadersHelper`: a command it runs at start and every
 * CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS, whose stdout must be a JSON object of headers. This one
 * (POSIX sh, curl, and the Azure CLI when the relay signs users in with Entra ID) trades the user's
 * Entra token for a short-lived relay credential at POST /api/credential and prints the relay's
 * answer. On any failure it prints why on stderr (the relay's own message included) and exits 1, so
 * Claude Code shows the reason instead of sending exports without a credential. The Entra token goes
 * to curl on stdin, not on its command line (where `ps` would show it).
 */
export function otelHeadersHelperCommand(options: { relayUrl: string; agent: string; audience: string | undefined }): string {
  const url = `${options.relayUrl}/api/credential?agent=${encodeURIComponent(options.agent)}`;
  const token =
    options.audience === undefined
      ? ['t=']
      : [
          `t=$(az account get-access-token --resource ${shQuote(options.audience)} --query accessToken -o tsv) || {`,
          `  echo ${shQuote(`coding-agent-relay: no Entra token for ${options.audience}: run az login`)} >&2; exit 1; }`,
        ];
  return [
    ...token,
    `r=$( if [ -n "$t" ]; then printf 'Authorization: Bearer %s\\n' "$t"; fi | curl -sS -X POST -H @- -w '\\n%{http_code}' ${shQuote(url)} ) || exit 1`,
    `c=$(printf '%s\\n' "$r" | tail -n 1)`,
    `b=$(printf '%s\\n' "$r" | sed '$d')`,
    `if [ "$c" = 200 ]; then printf '%s\\n' "$b"; else echo "coding-agent-relay: POST /api/credential answered $c: $b" >&2; exit 1; fi`,
  ].join('\n');
}
