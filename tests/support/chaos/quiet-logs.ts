/**
 * Import this module before anything that imports the function's logger: the Powertools logger
 * reads its level once, when `functions/commons/logger.ts` is first evaluated, and resets to it on
 * every warm invocation. Chaos and fuzz runs make hundreds of thousands of log lines otherwise.
 * Set CHAOS_LOGS=1 to keep them (e.g. when reproducing one failing case).
 */
if (process.env.CHAOS_LOGS !== '1') process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

export {};
