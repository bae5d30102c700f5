export { coverageNames, type CoverageNames } from '../../../config/names.js';
