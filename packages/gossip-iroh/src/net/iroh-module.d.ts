// `@number0/iroh` ships no resolvable types (its `types` field names a missing file); `iroh.ts` casts the module
// to the real declarations.
declare module "@number0/iroh"
