import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../shared/cli/describe-error.js';
import { SettingsError } from '../../shared/settings.js';

describe('describeError', () => {
  it('turns a busy port into what to do', async () => {
    const first = net.createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const { port } = first.address() as net.AddressInfo;
    const err = await new Promise<Error>((resolve) => net.createServer().once('error', resolve).listen(port, '127.0.0.1'));
    first.close();
    expect(describeError(err)).toBe(`port ${port} is in use: set LOCAL_PORT or stop the other process`);
  });

  it("turns DuckDB's lock conflict into the process to stop", () => {
    const err = new Error('IO Error: Could not set lock on file "/w/.local/telemetry.duckdb": Conflicting lock is held in /usr/bin/node (PID 4242). See also https://duckdb.org/docs/stable/connect/concurrency');
    expect(describeError(err)).toBe('/w/.local/telemetry.duckdb is in use by another process (PID 4242, e.g. npm start): stop it, or set LOCAL_DUCKDB_PATH to another file');
  });

  it('prints a setting error as its message, without the stack', () => {
    expect(describeError(new SettingsError('setting LOCAL_PORT: expected an integer from 0 to 65535'))).toBe('setting LOCAL_PORT: expected an integer from 0 to 65535');
    expect(describeError('plain')).toBe('plain');
  });
});
