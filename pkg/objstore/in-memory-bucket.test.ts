import { bucketAcceptanceSuite } from './acceptance.js';
import { InMemoryBucket, PrefixedBucket } from './index.js';

bucketAcceptanceSuite('in-memory', () => new InMemoryBucket());
bucketAcceptanceSuite('prefixed in-memory', () => new PrefixedBucket(new InMemoryBucket(), '/tenant/a/'));
