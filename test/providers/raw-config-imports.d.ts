/** Vite's `?raw` imports of the config files `providers.test.ts` checks against the adapters. */
declare module '*.toml?raw' {
  const text: string;
  export default text;
}

declare module '*.example?raw' {
  const text: string;
  export default text;
}
