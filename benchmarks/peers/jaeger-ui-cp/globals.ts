// Jaeger UI runs in a browser: a few of its modules read functions the query service writes into index.html
// (window.getJaegerUiConfig, window.getJaegerVersion, …) when they are first imported. With none present they
// fall back to their defaults, as in Jaeger UI's own unit tests. Imported before any Jaeger UI module.
(globalThis as any).window = { getJaegerUiConfig: () => ({}) };
