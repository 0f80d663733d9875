// The classic adapter (createAdapter: PUBLISH/PSUBSCRIBE) in a mixed cluster.
import { clusterSuite } from './cluster-suite.mjs';

clusterSuite('classic');
