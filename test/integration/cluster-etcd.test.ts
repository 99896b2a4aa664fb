import { startEtcd } from './cluster-harness.js';
import { storeScenarios } from './cluster-scenarios.js';

storeScenarios('etcd', startEtcd);
