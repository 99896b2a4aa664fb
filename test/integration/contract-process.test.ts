import { contractSuite } from '../contract.suite.js';

contractSuite('process');
