// A process that runs under runUntilSignal, for run-until-signal.test.ts. Arguments:
// start (ok | slow | config | fail | env), close (ok | slow | hang | fail), deadline ms.
// `env` fails before start-up, in configOrExit.
import { ConfigError } from '@sandfleet/config';
import { createLogger } from '@sandfleet/logging';
import { configOrExit, runUntilSignal } from '../src/index.ts';

const [startMode = 'ok', closeMode = 'ok', deadlineMs = '5000'] = process.argv.slice(2);
const logger = createLogger({ name: 'signal-child' });
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function start() {
  logger.info('starting');
  if (startMode === 'config') throw new ConfigError([{ path: 'SANDFLEET_X', message: 'must be set' }]);
  if (startMode === 'fail') throw Object.assign(new Error('port in use'), { code: 'EADDRINUSE' });
  if (startMode === 'slow') await delay(500);
  // An open handle, as a server or a connection pool holds: the process lives until it is closed.
  const handle = setInterval(() => {}, 60_000);
  return {
    async close() {
      logger.info('closing');
      if (closeMode === 'hang') return new Promise(() => {});
      if (closeMode === 'fail') throw Object.assign(new Error('close failed'), { code: 'DB_UNAVAILABLE' });
      if (closeMode === 'slow') await delay(1000);
      clearInterval(handle);
      logger.info('closed');
    },
  };
}

const deadline = configOrExit('signal-child', () => {
  if (startMode === 'env') throw new ConfigError([{ path: 'SANDFLEET_Y', message: 'must be a number' }]);
  return Number(deadlineMs);
});
const work =
  deadline === undefined ? undefined : await runUntilSignal({ logger, start, deadlineMs: deadline });
if (work) logger.info('started');
