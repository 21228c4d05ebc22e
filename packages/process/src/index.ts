export { configOrExit } from './config-or-exit.js';
export {
  type Closable,
  EXIT_CODES,
  errorCode,
  type RunUntilSignalOptions,
  runUntilSignal,
  STOP_SIGNALS,
} from './run-until-signal.js';
