export { murmur2, toPositive } from './murmur2.js';
export {
  choosePartition,
  partitionForKey,
  RoundRobin,
  RoundRobinByTopic,
  type PartitionSpreader,
} from './partitioner.js';
