/**
 * node:http and node:https without an ES import. An ES import of a built-in builds its full
 * namespace, reading every export; node:http's lazy WebSocket/MessageEvent getters then load
 * Node's internal undici, about 8 ms of CPU at every cold start for nothing (measured in
 * docs/benchmarks.md). process.getBuiltinModule hands over the module object untouched.
 */
export const http = process.getBuiltinModule('node:http');
export const https = process.getBuiltinModule('node:https');
