/** Messages between the local Lambda host and its runtime child process. */
export interface InvokeRequest {
  id: number;
  event: unknown;
  timeoutMs: number;
}

export type InvokeReply =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: { name: string; message: string } };
