export { CACHE_CONFIG_ERROR, cacheConfigError } from './cache-config-error.js';
export { parseByteSize, parseBytes } from './byte-size.js';
export { parseCacheYaml } from './parse-cache-yaml.js';
export { parseGoDuration, formatGoDuration } from './go-duration.js';
export { RedisClient } from './redis-client.js';
export { WarnLimiter } from './warn-limiter.js';
export type { RedisClientOptions, RedisErrorHandler } from './redis-client.js';
export { REDIS_CONFIG_KEYS, checkConfigKeys, configDuration, parseRedisConfig } from './redis-config.js';
