/** The package version, kept in one place for the CLI (--version, usage); test/version.test.ts holds it to package.json's. */
export const VERSION = '0.1.0';
