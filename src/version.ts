/** This package's version, as GET /version reports it. */
export const VERSION = '0.2.0-dev';
