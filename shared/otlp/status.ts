/*
 * google.rpc.Status codes (google/rpc/code.proto) for the HTTP statuses the relay answers with, so
 * error bodies say the same thing to gRPC-minded clients as the HTTP status does.
 */
const RPC_CODE_BY_HTTP: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  405: 12, // UNIMPLEMENTED
  413: 8, // RESOURCE_EXHAUSTED
  415: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};

export function rpcCodeFor(httpStatus: number): number {
  return RPC_CODE_BY_HTTP[httpStatus] ?? 2; // UNKNOWN
}
