// The Redis streams adapter (@socket.io/redis-streams-adapter 0.2: XADD/XREAD on one stream,
// requests and answers included) in a mixed cluster.
import { clusterSuite } from './cluster-suite.mjs';

clusterSuite('streams');
