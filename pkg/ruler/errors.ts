import { TesseraError } from '../errors/index.js';

/** RulerErrorCode are the stable codes of the ruler's errors. */
export const RulerErrorCode = {
  /** rule files could not be read or are invalid (at start-up or on reload). */
  RuleFiles: 'TESSERA_RULER_RULE_FILES',
  /** --alertmanagers.url or --alertmanagers.config is invalid. */
  AlertmanagersConfig: 'TESSERA_RULER_ALERTMANAGERS_CONFIG',
} as const;

/** RulerError is an error of the ruler component. */
export class RulerError extends TesseraError {}
