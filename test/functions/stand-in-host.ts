import Module from 'node:module';

/*
 * A stand-in for the Functions Node.js worker's side of `@azure/functions-core`, the module through
 * which `@azure/functions` registers functions and hooks (registerFunction, registerHook,
 * setProgrammingModel, log: the whole surface the library 4.16 calls). With it, the bindings register
 * as under the host, and tests can read what was registered, run the app hooks and call the handlers
 * with the SDK's own HttpRequest and InvocationContext. It must be installed before `@azure/functions`
 * is first loaded in the process (the library looks the module up once).
 */

export interface Registered {
  metadata: { name: string; bindings: Record<string, { type: string; direction: string; route?: string; methods?: string[]; authLevel?: string; schedule?: string }> };
  handler: (...args: unknown[]) => Promise<unknown>;
}

export interface StandInHost {
  functions: Map<string, Registered>;
  /**
   * Routes a URL as the host would, from the registered HTTP triggers only: `api/` + route template,
   * literal segments case-insensitive, `{name}` one segment, trailing slash ignored, method bound.
   */
  route(method: string, url: string): { name: string; params: Record<string, string> } | undefined;
  runHooks(name: 'appStart' | 'appTerminate'): Promise<void>;
  /** Lines the library logged through the worker (warnings about test mode would land here). */
  logs: string[];
}

export function installStandInHost(): StandInHost {
  const functions = new Map<string, Registered>();
  const hooks = new Map<string, ((context: unknown) => unknown)[]>();
  const logs: string[] = [];
  const core = {
    registerFunction(metadata: Registered['metadata'], handler: Registered['handler']) {
      if (functions.has(metadata.name)) throw new Error(`function "${metadata.name}" registered twice`);
      functions.set(metadata.name, { metadata, handler });
      return { dispose: () => functions.delete(metadata.name) };
    },
    registerHook(name: string, callback: (context: unknown) => unknown) {
      hooks.set(name, [...(hooks.get(name) ?? []), callback]);
      return { dispose: () => hooks.set(name, (hooks.get(name) ?? []).filter((c) => c !== callback)) };
    },
    setProgrammingModel() {},
    log(level: string, category: string, message: string) {
      logs.push(`${level} ${category} ${message}`);
    },
  };
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === '@azure/functions-core' ? core : load.call(this, request, ...rest);
  };
  return {
    functions,
    logs,
    route(method, url) {
      const segments = new URL(url, 'https://host').pathname.replace(/\/+$/, '').split('/').slice(1);
      for (const [name, { metadata }] of functions) {
        const trigger = Object.values(metadata.bindings).find((b) => b.type === 'httpTrigger');
        if (!trigger?.route || !trigger.methods?.includes(method)) continue;
        const template = ['api', ...trigger.route.split('/')];
        if (template.length !== segments.length) continue;
        const params: Record<string, string> = {};
        const ok = template.every((part, i) => {
          const param = /^\{(\w+)\}$/.exec(part)?.[1];
          if (param) return segments[i] !== '' && (params[param] = decodeURIComponent(segments[i]!)) !== undefined;
          return part.toLowerCase() === segments[i]!.toLowerCase();
        });
        if (ok) return { name, params };
      }
      return undefined;
    },
    async runHooks(name) {
      for (const callback of hooks.get(name) ?? []) await callback({ hookData: {}, appHookData: {} });
    },
  };
}
