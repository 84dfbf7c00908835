/** Version of the mathematical contract (../shared/spec/methods.md). Results are stored under it. */
export const SPEC_VERSION = 2;
