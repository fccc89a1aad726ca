/**
 * Import this module before anything that imports the function's logger or metrics: Powertools
 * reads these settings once, when functions/change-leverage/{logger,metrics}.ts are first evaluated (and
 * the logger resets to its initial level on every warm invocation). Chaos and fuzz runs make
 * hundreds of thousands of log and EMF lines otherwise. Metrics are still computed, only not
 * printed. Set CHAOS_LOGS=1 to keep both (e.g. when reproducing one failing case).
 */
if (process.env.CHAOS_LOGS !== '1') {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
}

export {};
