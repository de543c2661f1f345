/** The package version, kept in one place for the CLI and the Server header. */
export const VERSION = '0.1.0';
