import { strict as assert } from 'node:assert';
import { parseRecordInfoTime, recordInfoItems } from '../../lib/record/record-info-items';
import { RecordNamePattern } from '../../lib/record/record-name-pattern';
import { RecordSegment } from '../../lib/record/record-segment';
import { formatWallClock, wallClockToMs } from '../../lib/record/zoned-time';

const SH = 'Asia/Shanghai';

function seg(startIso: string, endIso: string, rel = 'x.mp4'): RecordSegment {
  return { path: `/r/${rel}`, relativePath: rel, folder: '/r', startMs: Date.parse(startIso), endMs: Date.parse(endIso), size: 10, mtimeMs: 0, startTimeSec: 0 };
}

describe('record/time formats (notes §8.1)', () => {
  it('formats wall-clock time in the platform zone with no suffix, whatever the server zone', () => {
    const ms = Date.parse('2025-06-12T02:30:05Z');
    assert.equal(formatWallClock(ms, SH), '2025-06-12T10:30:05');
    assert.equal(formatWallClock(ms, 'UTC'), '2025-06-12T02:30:05');
    assert.equal(formatWallClock(Date.parse('2025-06-12T16:00:00Z'), SH), '2025-06-13T00:00:00', 'day boundary in the zone');
    assert.equal(formatWallClock(Date.parse('2025-06-12T10:00:00.999Z'), 'UTC'), '2025-06-12T10:00:00', 'milliseconds dropped');
  });

  it('parses query times like WVP: T required, unpadded digits, ms and zone suffix ignored', () => {
    const want = Date.parse('2024-02-21T11:10:36+08:00');
    assert.equal(parseRecordInfoTime('2024-02-21T11:10:36', SH), want);
    assert.equal(parseRecordInfoTime('  2024-02-21T11:10:36 ', SH), want, 'trimmed like <Secrecy> 0 </Secrecy>');
    assert.equal(parseRecordInfoTime('2024-02-21T11:10:36.123', SH), want);
    assert.equal(parseRecordInfoTime('2024-02-21T11:10:36Z', SH), want, 'Z ignored: the wall-clock digits are kept');
    assert.equal(parseRecordInfoTime('2024-02-21T11:10:36-05:00', SH), want);
    assert.equal(parseRecordInfoTime('2024-2-1T1:2:3', SH), Date.parse('2024-02-01T01:02:03+08:00'));
    assert.equal(parseRecordInfoTime('2024-02-21 11:10:36', SH), undefined, 'a space instead of T');
    assert.equal(parseRecordInfoTime('2024-02-21T11:10:36+0800', SH), undefined);
    assert.equal(parseRecordInfoTime('2024-02-30T11:10:36', SH), undefined, 'no such day');
    assert.equal(parseRecordInfoTime('2024-02-21T24:00:00', SH), undefined);
    assert.equal(parseRecordInfoTime('', SH), undefined);
  });

  it('converts wall clocks across DST in zones that have it', () => {
    // New York, 2025-03-09 02:30 does not exist; 2025-11-02 01:30 happens twice (the earlier wins).
    assert.equal(wallClockToMs({ year: 2025, month: 1, day: 15, hour: 12, minute: 0, second: 0 }, 'America/New_York'), Date.parse('2025-01-15T17:00:00Z'));
    assert.equal(wallClockToMs({ year: 2025, month: 7, day: 15, hour: 12, minute: 0, second: 0 }, 'America/New_York'), Date.parse('2025-07-15T16:00:00Z'));
    assert.equal(wallClockToMs({ year: 2025, month: 11, day: 2, hour: 1, minute: 30, second: 0 }, 'America/New_York'), Date.parse('2025-11-02T05:30:00Z'));
    assert.equal(wallClockToMs({ year: 2025, month: 3, day: 9, hour: 2, minute: 30, second: 0 }, 'America/New_York'), Date.parse('2025-03-09T07:30:00Z'), 'skipped hour maps forward');
  });

  it('builds items unique by (StartTime, EndTime) with every field WVP reads', () => {
    const items = recordInfoItems([
      seg('2025-06-12T02:00:00Z', '2025-06-12T02:10:00Z', '2025-06-12/10-00-00.avi'),
      seg('2025-06-12T02:00:00.400Z', '2025-06-12T02:10:00.300Z', 'copy.avi'), // same to the second
      seg('2025-06-12T02:10:00Z', '2025-06-12T02:20:00Z', '2025-06-12/10-10-00.mp4'),
    ], { channelId: '34020000001320000001', timeZone: SH, name: 'Gate' });
    assert.equal(items.length, 2);
    assert.deepEqual(items[0], {
      DeviceID: '34020000001320000001', Name: 'Gate', FilePath: '2025-06-12/10-00-00.avi', Address: '',
      StartTime: '2025-06-12T10:00:00', EndTime: '2025-06-12T10:10:00', FileSize: 10, Secrecy: 0, Type: 'time', RecorderID: '34020000001320000001',
    });
  });
});

describe('record/RecordNamePattern', () => {
  it('reads the default layout at the end of the relative path, any extension', () => {
    const p = new RecordNamePattern();
    assert.deepEqual(p.parse('2025-06-12/10-30-00.avi'), { year: 2025, month: 6, day: 12, hour: 10, minute: 30, second: 0 });
    assert.deepEqual(p.parse('cam1/2025-06-12/10-30-00.mp4'), { year: 2025, month: 6, day: 12, hour: 10, minute: 30, second: 0 });
    assert.equal(p.parse('2025-06-12/10-30.avi'), undefined);
    assert.equal(p.parse('2025-06-12/x10-30-00.avi'), undefined);
    assert.equal(p.parse('2025-13-12/10-30-00.avi'), undefined, 'month 13');
    assert.equal(p.format({ year: 2025, month: 6, day: 2, hour: 9, minute: 5, second: 7 }), '2025-06-02/09-05-07');
  });

  it('takes compact and wildcard patterns', () => {
    const p = new RecordNamePattern('ch*_{YYYYMMDDHHmmss}');
    assert.deepEqual(p.parse('export/ch01_20250612103000.avi'), { year: 2025, month: 6, day: 12, hour: 10, minute: 30, second: 0 });
    assert.equal(p.parse('export/cam01_20250612103000.avi'), undefined);
    assert.throws(() => new RecordNamePattern('{HH-mm-ss}'), /lacks YYYY, MM, DD/);
    assert.throws(() => new RecordNamePattern('{YYYY-MM-DD/{HH-mm'), /unclosed|lacks/);
  });
});
