import type http from 'node:http';
import { fakeServer, type FakeServer, type RecordedRequest } from './http-server.js';

/*
 * Loopback stand-ins for the AI Gateway's model APIs, enough for the real agent CLIs to finish one
 * prompt: Anthropic Messages under /anthropic, OpenAI Responses under /openai/v1 (and /codex/v1),
 * Gemini streamGenerateContent under /gemini. Token usage matches test/fixtures/agents/README.md.
 */

export const USAGE = {
  anthropic: { input: 123, output: 45, cacheRead: 7, cacheCreation: 3 },
  openai: { input: 200, cached: 50, output: 30, reasoning: 10, total: 230 },
  gemini: { prompt: 300, candidates: 20, total: 320 },
};

function sse(res: http.ServerResponse, events: [string | undefined, object][]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [event, data] of events) res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  res.end();
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function anthropic(req: RecordedRequest, res: http.ServerResponse): void {
  const body = JSON.parse(req.body.toString() || '{}') as { stream?: boolean; model?: string };
  const model = body.model ?? 'databricks-claude';
  const usage = {
    input_tokens: USAGE.anthropic.input,
    output_tokens: USAGE.anthropic.output,
    cache_read_input_tokens: USAGE.anthropic.cacheRead,
    cache_creation_input_tokens: USAGE.anthropic.cacheCreation,
  };
  const message = { id: 'msg_fake', type: 'message', role: 'assistant', model, stop_reason: 'end_turn', stop_sequence: null };
  if (!body.stream) return json(res, 200, { ...message, content: [{ type: 'text', text: 'hi' }], usage });
  sse(res, [
    ['message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: USAGE.anthropic.output } }],
    ['message_stop', { type: 'message_stop' }],
  ]);
}

function openaiResponses(res: http.ServerResponse): void {
  const item = { id: 'msg_fake', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [] }] };
  const response = { id: 'resp_fake', object: 'response', created_at: Math.floor(Date.now() / 1000), model: 'databricks-gpt', status: 'in_progress', output: [] as object[] };
  sse(res, [
    ['response.created', { type: 'response.created', response }],
    ['response.output_item.added', { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } }],
    ['response.output_text.delta', { type: 'response.output_text.delta', item_id: 'msg_fake', output_index: 0, content_index: 0, delta: 'hi' }],
    ['response.output_item.done', { type: 'response.output_item.done', output_index: 0, item }],
    [
      'response.completed',
      {
        type: 'response.completed',
        response: {
          ...response,
          status: 'completed',
          output: [item],
          usage: {
            input_tokens: USAGE.openai.input,
            input_tokens_details: { cached_tokens: USAGE.openai.cached },
            output_tokens: USAGE.openai.output,
            output_tokens_details: { reasoning_tokens: USAGE.openai.reasoning },
            total_tokens: USAGE.openai.total,
          },
        },
      },
    ],
  ]);
}

/** Answers as the Gemini API does, naming the model asked for in `modelVersion`. */
function gemini(res: http.ServerResponse, model: string): void {
  sse(res, [
    [
      undefined,
      {
        candidates: [{ content: { parts: [{ text: 'hi' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: USAGE.gemini.prompt, candidatesTokenCount: USAGE.gemini.candidates, totalTokenCount: USAGE.gemini.total },
        modelVersion: model,
      },
    ],
  ]);
}

export async function fakeModelApis(): Promise<FakeServer> {
  return fakeServer((req, res) => {
    const path = req.url.split('?')[0]!;
    if (req.method === 'POST' && /\/anthropic\/v1\/messages$/.test(path)) return anthropic(req, res);
    if (req.method === 'POST' && /\/(openai|codex)\/v1\/responses$/.test(path)) return openaiResponses(res);
    if (req.method === 'GET' && /\/(openai|codex)\/v1\/models$/.test(path)) return json(res, 200, { object: 'list', data: [], models: [] });
    const geminiCall = /\/gemini\/v1beta\/models\/([^/]+):streamGenerateContent$/.exec(path);
    if (req.method === 'POST' && geminiCall) return gemini(res, decodeURIComponent(geminiCall[1]!));
    if (req.method === 'POST' && /:countTokens$/.test(path)) return json(res, 200, { totalTokens: 10 });
    json(res, 404, { error: { message: `fake model API: no route for ${req.method} ${path}` } });
  });
}
