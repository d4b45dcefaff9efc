/**
 * What a command-line tool prints when it fails: one line that says what to do, never a stack.
 * Node's errors for the usual start-up failures (a busy port, a DuckDB file another process holds)
 * are turned into the action to take; everything else is its message.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, port } = err as NodeJS.ErrnoException & { port?: number };
  if (code === 'EADDRINUSE') return `port ${port ?? ''} is in use: set LOCAL_PORT or stop the other process`;
  const lock = /Could not set lock on file "([^"]+)": Conflicting lock is held in .*?\(PID (\d+)\)/.exec(err.message);
  if (lock) return `${lock[1]} is in use by another process (PID ${lock[2]}, e.g. npm start): stop it, or set LOCAL_DUCKDB_PATH to another file`;
  return err.message;
}
