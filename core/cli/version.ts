export const VERSION = process.env.SSC_VERSION ?? '0.1.0';
