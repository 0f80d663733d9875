// The sharded adapter (createShardedAdapter, dynamic subscriptions: SPUBLISH/SSUBSCRIBE) in a
// mixed cluster.
import { clusterSuite } from './cluster-suite.mjs';

clusterSuite('sharded');
