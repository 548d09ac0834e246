export {
  assertConformance,
  ConformanceError,
  conformanceChecks,
  runConformance,
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
} from './checks.js';
export { testAttributes, testMountRequest, type TestRequestInit } from './request.js';
