/**
 * CSIDriverProvider v1alpha1 messages, service definition and grpc-js client, generated from service.proto into
 * gen/ by `npm run proto:gen` (checked by `npm run proto:check`). Import from here, not from gen/ directly.
 */
export * from './gen/service.js';
