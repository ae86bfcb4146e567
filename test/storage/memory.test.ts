import { createMemoryStore } from '../../src/storage/memory';
import { runStoreConformance } from './conformance';

runStoreConformance('memory', async () => createMemoryStore());
