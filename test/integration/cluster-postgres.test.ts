import { startPostgres } from './cluster-harness.js';
import { storeScenarios } from './cluster-scenarios.js';

storeScenarios('PostgreSQL', startPostgres);
