export { type ConsumerProject, consumerTsconfig, createConsumerProject, repoRoot } from './pack-check.js';
