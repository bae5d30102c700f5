import { describe, expect, it } from 'vitest';
import { createLineLogger } from '../../src/shared/log-line.js';

describe('the line logger (the deployer’s log shape)', () => {
  it('writes level, message, timestamp and service first, then the persistent fields and the line’s own', () => {
    const lines: string[] = [];
    const log = createLineLogger({
      service: 'falcon-org-eks-deployer',
      write: (line) => lines.push(line),
      now: () => Date.UTC(2030, 0, 2, 3, 4, 5),
      fields: { cluster: 'prod', runId: 'r-1' },
    });

    log.warn('leftovers-found', { fromRun: 'r-0' });
    log.error('run-result', { result: { outcome: 'failed' } });
    log.info('run-done');

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toEqual({
      level: 'WARN',
      message: 'leftovers-found',
      timestamp: '2030-01-02T03:04:05.000Z',
      service: 'falcon-org-eks-deployer',
      cluster: 'prod',
      runId: 'r-1',
      fromRun: 'r-0',
    });
    expect(Object.keys(parsed[0] ?? {})).toEqual([
      'level',
      'message',
      'timestamp',
      'service',
      'cluster',
      'runId',
      'fromRun',
    ]);
    expect(parsed.map((l) => l.level)).toEqual(['WARN', 'ERROR', 'INFO']);
  });

  it('a field never replaces the level, message, timestamp or service', () => {
    const lines: string[] = [];
    const log = createLineLogger({ service: 's', write: (l) => lines.push(l), now: () => 0 });

    log.info('m', { level: 'DEBUG', message: 'other', timestamp: 'x', service: 'y', kept: 1 });

    expect(JSON.parse(lines[0] ?? '{}')).toEqual({
      level: 'INFO',
      message: 'm',
      timestamp: '1970-01-01T00:00:00.000Z',
      service: 's',
      kept: 1,
    });
  });
});
