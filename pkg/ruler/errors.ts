import { TesseraError } from '../errors/index.js';

/** RulerErrorCode are the stable codes of the ruler's errors. */
export const RulerErrorCode = {
  /** rule files could not be read or are invalid (at start-up or on reload). */
  RuleFiles: 'TESSERA_RULER_RULE_FILES',
  /** --alertmanagers.url or --alertmanagers.config is invalid. */
  AlertmanagersConfig: 'TESSERA_RULER_ALERTMANAGERS_CONFIG',
  /** an http_config (of --alertmanagers.config or --query.config) is invalid or names a file that cannot be read. */
  HttpClientConfig: 'TESSERA_RULER_HTTP_CLIENT_CONFIG',
  /** --alert.query-template does not parse or execute. */
  AlertQueryTemplate: 'TESSERA_RULER_ALERT_QUERY_TEMPLATE',
  /** --query.config is invalid. */
  QueryConfig: 'TESSERA_RULER_QUERY_CONFIG',
} as const;

/** RulerError is an error of the ruler component. */
export class RulerError extends TesseraError {}
